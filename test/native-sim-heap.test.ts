// native-sim's heap diagnostics: the sim thread reports its own V8 heap, optionally after a full GC.
import test from 'ava';
import { startNativeSim } from '../native-sim/index.js';

test('N5: heapUsage reports the sim isolate heap; collect runs a full GC there first; a bad argument is a TypeError', async (t) => {
  const sim = await startNativeSim({ seed: 1 });
  t.teardown(() => sim.close());
  const plain = await sim.heapUsage();
  t.true(plain.used > 0 && plain.total >= plain.used);
  t.is(plain.live, plain.used, 'no collection asked for: live is what is in use');
  const collected = await sim.heapUsage(true);
  t.true(collected.live > 0 && collected.live <= collected.used, `live ${collected.live} <= used ${collected.used}`);
  await t.throwsAsync(() => sim.heapUsage('yes' as unknown as boolean), { instanceOf: TypeError, message: /collect: expected a boolean/ });
});
