// Resync kinds over the fake dataplane test double (test/helpers/scheduler-fake-dataplane.ts);
// the same against the real native-sim is in descriptors-resync.test.ts.
import test from 'ava';
import { fakeScheduler, kv, T } from './helpers/scheduler-setup.js';
import { thing } from './helpers/scheduler-fake-dataplane.js';

async function drifted() {
  const { dp, s } = fakeScheduler();
  await s.commit(kv({ a: thing(1), b: thing(2), c: thing(3, 'b') }), {});
  // Drift behind the scheduler's back: a changed, c deleted, stray created.
  (dp.byName('a') as { x: number }).x = 100;
  dp.things.delete((dp.byName('c') as { id: number }).id);
  await dp.request('thing_add', { name: 'stray', x: 0, parent: null });
  return { dp, s };
}

test('S4: full resync sets the desired state and fixes drift both ways', async (t) => {
  const { dp, s } = await drifted();
  t.teardown(() => s.close());
  const r = await s.commit(kv({ a: thing(1), c: thing(3, 'b'), d: thing(4) }), { resync: 'full', isStartup: true });
  t.is(r.error, null);
  t.is(s.getRecordedTransaction(r.seqNum)?.resync, 'full');
  t.deepEqual([...dp.things.values()].map((x) => `${x.name}=${x.x}`).sort(), ['a=1', 'd=4']);
  t.falsy(dp.byName('stray'), 'an unknown object the descriptor owns is removed');
  t.falsy(dp.byName('b'), 'b is not in the new desired state');
  t.falsy(dp.byName('c'), 'c waits for b, which is gone');
  t.is(s.getStatus(T('c'))?.state, 'pending');
  t.deepEqual(await s.dump('', 'sb'), await s.dump('', 'cached'));
});

test('S4: upstream resync sets the desired state and diffs against the applied state only', async (t) => {
  const { dp, s } = await drifted();
  t.teardown(() => s.close());
  const r = await s.commit(kv({ a: thing(1), b: thing(2), c: thing(3, 'b'), d: thing(4) }), { resync: 'upstream' });
  t.is(r.error, null);
  t.deepEqual(s.getRecordedTransaction(r.seqNum)?.executed, [{ key: T('d'), op: 'create' }], 'drift is not seen');
  t.is(dp.byName('a')?.x, 100);
  t.truthy(dp.byName('stray'));
  const r2 = await s.commit(kv({ a: thing(1) }), { resync: 'upstream' });
  const ops = s.getRecordedTransaction(r2.seqNum)?.executed.map((o) => `${o.op} ${o.key}`) ?? [];
  t.deepEqual([...ops].sort(), [`delete ${T('b')}`, `delete ${T('c')}`, `delete ${T('d')}`]);
  t.true(ops.indexOf(`delete ${T('c')}`) < ops.indexOf(`delete ${T('b')}`), 'dependents first');
  t.deepEqual([...(await s.dump('', 'nb')).keys()], [T('a')]);
});

test('S4: downstream resync keeps the desired state and re-applies it to the dataplane', async (t) => {
  const { dp, s } = await drifted();
  t.teardown(() => s.close());
  const r = await s.resyncDownstream();
  t.is(r.error, null);
  t.is(s.getRecordedTransaction(r.seqNum)?.resync, 'downstream');
  t.deepEqual([...dp.things.values()].map((x) => `${x.name}=${x.x}`).sort(), ['a=1', 'b=2', 'c=3']);
  t.deepEqual(await s.dump('', 'sb'), await s.dump('', 'nb'));
  // Everything lost (a dataplane restart): downstream brings it all back.
  dp.things.clear();
  await s.commit(new Map(), { resync: 'downstream' });
  t.deepEqual(await s.dump('', 'sb'), await s.dump('', 'nb'));
});

test('S4: a resync whose dump fails reports a transaction init error', async (t) => {
  const { dp, s } = fakeScheduler();
  t.teardown(() => s.close());
  dp.failNext('thing_dump');
  const r = await s.commit(kv({ a: thing(1) }), { resync: 'full' });
  t.is(r.error?.txnInitError?.message, 'thing_dump: retval -1');
  t.deepEqual([...(await s.dump('', 'nb')).keys()], [T('a')], 'the desired state is kept');
  const r2 = await s.commit(new Map(), { resync: 'downstream' });
  t.is(r2.error, null);
  t.truthy(dp.byName('a'));
});
