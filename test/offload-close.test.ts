import test from 'ava';
import { OffloadClosedError, StateSnapshot } from '../src/offload/index.js';
import { route, startOffloadStack } from './helpers/offload-stack.js';

test('S5: close() waits for the syncs accepted before it, then later syncs fail with OffloadClosedError', async (t) => {
  const s = await startOffloadStack({ inlineThreshold: 0 });
  t.teardown(() => s.close());
  const desired = StateSnapshot.fromEntries(Array.from({ length: 5000 }, (_, i) => route(i)), 4);
  let settled = false;
  const inFlight = s.pool.sync(desired, StateSnapshot.empty(4)).finally(() => (settled = true));
  const queued = s.pool.sync(StateSnapshot.empty(4), desired);
  let queuedSettled = false;
  void queued.finally(() => (queuedSettled = true));
  await s.pool.close();
  t.true(settled && queuedSettled, 'close resolved only after the accepted syncs');
  const r = await inFlight;
  t.deepEqual(r.errors, []);
  const q = await queued;
  t.deepEqual(q.errors, []);
  t.is(q.ops, 5000);
  t.is((await s.sim.snapshot()).routes.filter((x) => x.prefix.startsWith('10.')).length, 0);
  await t.throwsAsync(s.pool.sync(desired, StateSnapshot.empty(4)), { instanceOf: OffloadClosedError, code: 'ERR_OFFLOAD_CLOSED' });
  await t.throwsAsync(s.pool.sync(desired, desired), { instanceOf: OffloadClosedError });
  await s.pool.close();
});
