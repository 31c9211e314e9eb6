// The scheduler's per-commit shortcuts keep their behaviour, over the fake dataplane test double
// (test/helpers/scheduler-fake-dataplane.ts): an update commit skips the re-read scan unless one
// of its keys failed before, and a commit with nothing queued starts without waiting a turn.
import test from 'ava';
import { fakeScheduler, kv, T } from './helpers/scheduler-setup.js';
import { thing } from './helpers/scheduler-fake-dataplane.js';

test('S5: a key whose operation failed is re-read before the next update plans it (new value)', async (t) => {
  const { dp, s } = fakeScheduler();
  t.teardown(() => s.close());
  t.is((await s.commit(kv({ a: thing(1) }), {})).error, null);
  dp.failNext('thing_set');
  t.truthy((await s.commit(kv({ a: thing(2) }), {})).error);
  t.is(s.getStatus(T('a'))?.state, 'failed');
  // The dataplane moved on its own meanwhile: it holds exactly what the next commit wants.
  const held = dp.byName('a');
  if (held === undefined) return t.fail('a is gone from the dataplane');
  held.x = 3;
  const sets = dp.log.filter((l) => l.startsWith('thing_set')).length;
  const r = await s.commit(kv({ a: thing(3) }), {});
  t.is(r.error, null);
  t.is(dp.log.filter((l) => l.startsWith('thing_set')).length, sets, 're-read first: nothing left to send');
  t.is(s.getStatus(T('a'))?.state, 'configured');
});

test('S5: a key whose operation failed is re-read before the next update deletes it', async (t) => {
  const { dp, s } = fakeScheduler();
  t.teardown(() => s.close());
  t.is((await s.commit(kv({ a: thing(1) }), {})).error, null);
  dp.failNext('thing_set');
  t.truthy((await s.commit(kv({ a: thing(2) }), {})).error);
  // The object vanished from the dataplane: deleting it must not be attempted (it would fail).
  const held = dp.byName('a');
  if (held === undefined) return t.fail('a is gone from the dataplane');
  dp.things.delete(held.id);
  const r = await s.commit(kv({ a: null }), {});
  t.is(r.error, null);
  t.false(dp.log.some((l) => l.startsWith('thing_del')), 'nothing to delete after the re-read');
  t.is(s.getStatus(T('a'))?.state, 'removed');
});

test('S1: a commit issued while another is in flight waits for it; both run in order', async (t) => {
  const { dp, s } = fakeScheduler();
  t.teardown(() => s.close());
  dp.stall();
  const first = s.commit(kv({ a: thing(1) }), {});
  const second = s.commit(kv({ a: thing(2) }), {});
  await Promise.resolve();
  // Nothing of the second commit may reach the dataplane before the first one's wave returns.
  t.is(dp.batches, 1);
  dp.release();
  const [r1, r2] = await Promise.all([first, second]);
  t.is(r1.error, null);
  t.is(r2.error, null);
  t.true(r2.seqNum > r1.seqNum);
  t.deepEqual(dp.log, ['thing_add a', 'thing_set a']);
  t.is(dp.byName('a')?.x, 2);
});

test('S1: a commit after close rejects, also when nothing was queued', async (t) => {
  const { s } = fakeScheduler();
  await s.close();
  const err = await t.throwsAsync(s.commit(kv({ a: thing(1) }), {}));
  t.is((err as { code?: string } | undefined)?.code, 'ERR_SCHEDULER_CLOSED');
});
