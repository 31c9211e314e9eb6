import test from 'ava';
import { CloseGuard } from '../src/scheduler/close-guard.js';
import { SchedulerClosedError } from '../src/scheduler/index.js';

test('S5: a guarded operation lets go of the guard once it settles (no reaction piles up on a long-lived promise)', async (t) => {
  const g = new CloseGuard();
  const results = await Promise.all(Array.from({ length: 1000 }, (_, i) => g.guard(Promise.resolve(i))));
  t.is(results[999], 999);
  await t.throwsAsync(g.guard(Promise.reject(new Error('boom'))), { message: 'boom' });
  t.is(g.inFlight, 0);
});

test('S5: close() fails what is in flight and everything after it with the close error', async (t) => {
  const g = new CloseGuard();
  const never = g.guard(new Promise<never>(() => {}));
  t.is(g.inFlight, 1);
  g.close(new SchedulerClosedError());
  await t.throwsAsync(never, { instanceOf: SchedulerClosedError });
  await t.throwsAsync(g.guard(Promise.resolve(1)), { instanceOf: SchedulerClosedError });
  t.true(g.closed);
  t.is(g.inFlight, 0);
});
