// Scheduler core over the fake dataplane test double (test/helpers/scheduler-fake-dataplane.ts).
import test from 'ava';
import { fakeScheduler, kv, T } from './helpers/scheduler-setup.js';
import { thing } from './helpers/scheduler-fake-dataplane.js';

test('S1: create, update, no-op and delete are diffed per key', async (t) => {
  const { dp, s } = fakeScheduler();
  t.teardown(() => s.close());
  let r = await s.commit(kv({ a: thing(1), b: thing(2) }), {});
  t.is(r.error, null);
  t.deepEqual([...dp.things.values()].map((x) => [x.name, x.x]).sort(), [['a', 1], ['b', 2]]);
  dp.log.length = 0;
  r = await s.commit(kv({ a: thing(1), b: thing(3) }), {});
  t.is(r.error, null);
  t.deepEqual(dp.log, ['thing_set b'], 'unchanged a is a no-op, b is updated in place');
  t.deepEqual(s.getRecordedTransaction(r.seqNum)?.executed, [{ key: T('b'), op: 'update' }]);
  dp.log.length = 0;
  r = await s.commit(kv({ a: thing(1) }), {});
  t.deepEqual(dp.log, [], 'committing an unchanged value sends nothing');
  t.deepEqual(s.getRecordedTransaction(r.seqNum)?.planned, []);
  r = await s.commit(kv({ a: null }), {});
  t.is(r.error, null);
  t.deepEqual([...dp.things.values()].map((x) => x.name), ['b']);
  t.deepEqual(s.getStatus(T('a')), { state: 'removed' });
  t.deepEqual(s.getStatus(T('b')), { state: 'configured' });
});

test('S2: a descriptor that says re-create gets delete + create', async (t) => {
  const { dp, s } = fakeScheduler();
  t.teardown(() => s.close());
  await s.commit(kv({ a: thing(1) }), {});
  const before = dp.byName('a')?.id;
  const r = await s.commit(kv({ a: thing(1, undefined, true) }), {});
  t.is(r.error, null);
  t.deepEqual(
    s.getRecordedTransaction(r.seqNum)?.executed.map((o) => `${o.op} ${o.note ?? ''}`),
    ['delete recreate', 'create recreate'],
  );
  t.not(dp.byName('a')?.id, before);
});

test('S3: a value waits pending for its dependency and is created with it', async (t) => {
  const { dp, s } = fakeScheduler();
  t.teardown(() => s.close());
  let r = await s.commit(kv({ child: thing(1, 'parent') }), {});
  t.is(r.error, null, 'pending is not an error');
  t.is(s.getStatus(T('child'))?.state, 'pending');
  const st = s.getStatus(T('child'));
  t.deepEqual(st?.state === 'pending' ? st.details : [], [`waiting for ${T('parent')}`]);
  t.deepEqual(s.getRecordedTransaction(r.seqNum)?.pending, [T('child')]);
  t.is(dp.things.size, 0);
  r = await s.commit(kv({ parent: thing(2) }), {});
  t.is(r.error, null);
  t.deepEqual(s.getRecordedTransaction(r.seqNum)?.executed.map((o) => o.key), [T('parent'), T('child')]);
  t.is(dp.byName('child')?.parent, dp.byName('parent')?.id);
  t.is(s.getStatus(T('child'))?.state, 'configured');
});

test('S3: creates run dependencies-first, deletes dependents-first', async (t) => {
  const { dp, s } = fakeScheduler();
  t.teardown(() => s.close());
  // Committed in reverse order on purpose.
  await s.commit(kv({ c: thing(3, 'b'), b: thing(2, 'a'), a: thing(1) }), {});
  t.deepEqual(dp.log, ['thing_add a', 'thing_add b', 'thing_add c']);
  dp.log.length = 0;
  const r = await s.commit(kv({ a: null, b: null, c: null }), {});
  t.is(r.error, null);
  t.deepEqual(dp.log.map((l) => l.split(' ')[0]), ['thing_del', 'thing_del', 'thing_del']);
  t.deepEqual(s.getRecordedTransaction(r.seqNum)?.executed.map((o) => o.key), [T('c'), T('b'), T('a')]);
  t.is(dp.things.size, 0);
});

test('S3: deleting a dependency removes its dependents and returns them to pending', async (t) => {
  const { dp, s } = fakeScheduler();
  t.teardown(() => s.close());
  await s.commit(kv({ a: thing(1), b: thing(2, 'a'), c: thing(3, 'b') }), {});
  const r = await s.commit(kv({ a: null }), {});
  t.is(r.error, null);
  t.deepEqual(s.getRecordedTransaction(r.seqNum)?.executed.map((o) => `${o.op} ${o.key}`), [`delete ${T('c')}`, `delete ${T('b')}`, `delete ${T('a')}`]);
  t.is(dp.things.size, 0);
  t.is(s.getStatus(T('b'))?.state, 'pending');
  t.is(s.getStatus(T('c'))?.state, 'pending');
  t.deepEqual([...(await s.dump('', 'nb')).keys()].sort(), [T('b'), T('c')]);
  // The dependency comes back: the whole chain is re-created.
  await s.commit(kv({ a: thing(9) }), {});
  t.is(dp.things.size, 3);
  t.is(s.getStatus(T('c'))?.state, 'configured');
});

test('S3: re-creating a dependency re-creates what depends on it', async (t) => {
  const { dp, s } = fakeScheduler();
  t.teardown(() => s.close());
  await s.commit(kv({ a: thing(1), b: thing(2, 'a') }), {});
  const r = await s.commit(kv({ a: thing(1, undefined, true) }), {});
  t.is(r.error, null);
  t.deepEqual(s.getRecordedTransaction(r.seqNum)?.executed.map((o) => `${o.op} ${o.key}`), [
    `delete ${T('b')}`,
    `delete ${T('a')}`,
    `create ${T('a')}`,
    `create ${T('b')}`,
  ]);
  t.is(dp.byName('b')?.parent, dp.byName('a')?.id);
});

test('S3: a dependency cycle stays pending instead of hanging', async (t) => {
  const { dp, s } = fakeScheduler();
  t.teardown(() => s.close());
  const r = await s.commit(kv({ a: thing(1, 'b'), b: thing(2, 'a') }), {});
  t.is(r.error, null);
  t.is(s.getStatus(T('a'))?.state, 'pending');
  t.is(s.getStatus(T('b'))?.state, 'pending');
  t.is(dp.things.size, 0);
});

test('S1: one wave is one requestBatch (independent keys share it)', async (t) => {
  const { dp, s } = fakeScheduler();
  t.teardown(() => s.close());
  const values: Record<string, ReturnType<typeof thing>> = {};
  for (let i = 0; i < 50; i++) values[`k${i}`] = thing(i);
  await s.commit(kv(values), {});
  t.is(dp.batches, 1);
  t.is(dp.things.size, 50);
});
