// Regressions from a fourth review of the scheduler: each failed before its fix.
import test, { type ExecutionContext } from 'ava';
import { interfaceKey, routeKey } from '../src/descriptors/index.js';
import { Scheduler, type Descriptor } from '../src/scheduler/index.js';
import type { Value } from '../src/api/values.js';
import { fakeScheduler, kv, T } from './helpers/scheduler-setup.js';
import { FakeDataplane, thing, thingDescriptor } from './helpers/scheduler-fake-dataplane.js';
import { realStack } from './helpers/scheduler-real-stack.js';

/** Resolves when `cond` holds, checking after each macrotask (bounded). */
async function waitFor(cond: () => boolean, rounds = 2000): Promise<boolean> {
  for (let i = 0; i < rounds; i++) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 2));
  }
  return cond();
}

test('S3 S6: a create skipped because its dependency\'s update failed is made by the retry that repairs the update', async (t) => {
  const { dp, s } = fakeScheduler();
  t.teardown(() => s.close());
  t.is((await s.commit(kv({ p: thing(1) }), {})).error, null);
  dp.failNext('thing_set'); // p's update fails once; c (waits for it) is skipped
  const r = await s.commit(kv({ p: thing(2), c: thing(1, 'p') }), { retry: { delay: 10, maxAttempts: 3, expBackoff: false } });
  t.truthy(r.error);
  t.true(await waitFor(() => s.getStatus(T('c'))?.state === 'configured'), JSON.stringify(s.getStatus(T('c'))));
  t.is(dp.byName('p')?.x, 2);
  t.is(dp.byName('c')?.parent, dp.byName('p')?.id);
  const retry = s.getTransactionHistory().find((x) => x.origin === 'retry');
  t.deepEqual(retry?.executed.map((e) => `${e.op} ${e.key}`), [`update ${T('p')}`, `create ${T('c')}`]);
});

test('S3: without retry options, a create skipped because its dependency\'s update failed is made by the next commit of that dependency', async (t) => {
  const { dp, s } = fakeScheduler();
  t.teardown(() => s.close());
  t.is((await s.commit(kv({ p: thing(1) }), {})).error, null);
  dp.failNext('thing_set');
  t.truthy((await s.commit(kv({ p: thing(2), c: thing(1, 'p') }), {})).error);
  t.is(s.getStatus(T('c'))?.state, 'pending');
  t.is((await s.commit(kv({ q: thing(1) }), {})).error, null); // an unrelated commit leaves it
  t.is((await s.commit(kv({ p: thing(2) }), {})).error, null);
  t.is(s.getStatus(T('c'))?.state, 'configured');
  t.truthy(dp.byName('c'));
});

/**
 * A real stack with interface tap0 (no address yet), and the dataplane refusing every address add:
 * `values` gives tap0 an address and a route through it.
 */
async function tapAddressFailing(t: ExecutionContext) {
  const { sim, s } = await realStack(t);
  const tap = (ips: string[]) => ({ name: 'tap0', type: 'TAP', enabled: true, ipAddresses: ips, vrf: 0 });
  t.is((await s.commit(new Map([[interfaceKey('tap0'), tap([])]]), {})).error, null);
  const route = { vrfId: 0, dstNetwork: '10.2.0.0/16', outgoingInterface: 'tap0', nextHopAddr: '10.1.0.1' };
  await sim.setFaults({ errorRate: 1, messages: ['sw_interface_add_del_address'] });
  const values = new Map<string, Value>([
    [interfaceKey('tap0'), tap(['10.1.0.2/24'])],
    [routeKey(route), route],
  ]);
  return { sim, s, route, values };
}

test('S3 S4 S6: a full resync whose retry repairs an interface\'s address creates the route through it before it reports success', async (t) => {
  const { sim, s, route, values } = await tapAddressFailing(t);
  const done = s.commit(values, { resync: 'full', retry: { delay: 50, maxAttempts: 6, expBackoff: false } });
  // The first attempt has failed once the interface waits for its retry: then the dataplane heals.
  t.true(await waitFor(() => s.getStatus(interfaceKey('tap0'))?.state === 'retrying'));
  await sim.setFaults({ errorRate: 0 });
  const r = await done;
  t.is(r.error, null, r.error?.message);
  t.is(s.getStatus(interfaceKey('tap0'))?.state, 'configured');
  t.is(s.getStatus(routeKey(route))?.state, 'configured');
  t.true((await s.dump('', 'sb')).has(routeKey(route)));
});

test('S3 S4: a full resync whose retries cannot repair an interface reports it while the route through it stays pending', async (t) => {
  const { s, route, values } = await tapAddressFailing(t);
  const r = await s.commit(values, { resync: 'full', retry: { delay: 5, maxAttempts: 2, expBackoff: false } });
  t.deepEqual(r.error?.kvErrors.map((e) => e.key), [interfaceKey('tap0')]);
  t.is(s.getStatus(routeKey(route))?.state, 'pending');
  t.false((await s.dump('', 'sb')).has(routeKey(route)));
});

/** The thing descriptor without `retrieve`, its `x` sent by a configure wave after the create. */
function unreadable(): Descriptor {
  return {
    ...thingDescriptor(),
    name: 'unreadable',
    retrieve: undefined,
    configure: (key, v, md) => [{ name: 'thing_set', fields: { id: md.get(key), x: (v as { x: number }).x } }],
  };
}

test('S2 S5: a kind without retrieve whose configure wave fails: the next commit re-creates the object', async (t) => {
  const dp = new FakeDataplane();
  const s = new Scheduler({ connector: dp, descriptors: [unreadable()] });
  t.teardown(() => s.close());
  dp.failNext('thing_set');
  t.truthy((await s.commit(kv({ a: thing(1) }), {})).error); // thing_add went through, thing_set failed
  t.is(s.getStatus(T('a'))?.state, 'failed');
  t.is((await s.dump('', 'cached')).has(T('a')), true, 'the object made is applied');
  const again = await s.commit(kv({ a: thing(1) }), {});
  t.is(again.error, null, again.error?.message);
  t.deepEqual(s.getRecordedTransaction(again.seqNum)?.executed.map((e) => `${e.op} ${e.key} ${e.note ?? ''}`), [`delete ${T('a')} recreate`, `create ${T('a')} recreate`]);
  t.is(s.getStatus(T('a'))?.state, 'configured');
  t.is(dp.things.size, 1);
  t.is(dp.byName('a')?.x, 1);
  t.is((await s.commit(kv({ a: thing(1) }), {})).error, null);
  t.is(dp.things.size, 1, 'configured: nothing more is sent');
});

test('S2 S5: a kind without retrieve whose configure wave fails: deleting the key deletes the object', async (t) => {
  const dp = new FakeDataplane();
  const s = new Scheduler({ connector: dp, descriptors: [unreadable()] });
  t.teardown(() => s.close());
  dp.failNext('thing_set');
  t.truthy((await s.commit(kv({ a: thing(1) }), {})).error);
  t.truthy(dp.byName('a'));
  t.is((await s.commit(kv({ a: null }), {})).error, null);
  t.is(dp.byName('a'), undefined);
  t.is(s.getStatus(T('a'))?.state, 'removed');
});

test('S2 S5: a kind without retrieve whose configure wave fails in a revert commit: the revert deletes the object', async (t) => {
  const dp = new FakeDataplane();
  const s = new Scheduler({ connector: dp, descriptors: [unreadable()] });
  t.teardown(() => s.close());
  dp.failNext('thing_set');
  const r = await s.commit(kv({ a: thing(1) }), { revert: true });
  t.deepEqual(r.error?.kvErrors.map((e) => e.key), [T('a')]);
  t.is(dp.things.size, 0);
  t.is(s.getStatus(T('a'))?.state, 'removed');
  t.is((await s.dump('', 'cached')).size, 0);
});

test('S2 S4: a kind without retrieve whose configure wave failed is re-created by a full resync', async (t) => {
  const dp = new FakeDataplane();
  const s = new Scheduler({ connector: dp, descriptors: [unreadable()] });
  t.teardown(() => s.close());
  dp.failNext('thing_set');
  t.truthy((await s.commit(kv({ a: thing(1) }), {})).error);
  t.is((await s.commit(kv({ a: thing(1) }), { resync: 'full' })).error, null);
  t.is(s.getStatus(T('a'))?.state, 'configured');
  t.is(dp.things.size, 1);
  t.is(dp.byName('a')?.x, 1);
});

/** A second thing-like kind under `u/`, registered after its keys were committed. */
function late(): Descriptor {
  return { ...thingDescriptor(), name: 'u', keyPrefix: 'u/', validate: (k, v) => ({ name: k.slice(2), x: v.x }), dependencies: () => [] };
}

test('S2: keys taken over by registerDescriptor are planned by a later commit when the next one fails to start', async (t) => {
  const dp = new FakeDataplane();
  const s = new Scheduler({ connector: dp, descriptors: [thingDescriptor()] });
  t.teardown(() => s.close());
  await s.commit(new Map([['u/a', { x: 1 }]]), {}); // unimplemented for now
  dp.failNext('thing_add');
  await s.commit(kv({ x: thing(1) }), {}); // x is dirty: its next commit re-reads it
  s.registerDescriptor(late());
  dp.failNext('thing_dump');
  t.truthy((await s.commit(kv({ x: thing(1) }), {})).error?.txnInitError); // fails to start
  t.is((await s.commit(kv({ y: thing(1) }), {})).error, null);
  t.is(s.getStatus('u/a')?.state, 'configured');
  t.truthy(dp.byName('a'));
});

test('S2 S5: keys taken over by registerDescriptor are planned by a later commit when a revert commit stops on a key it cannot compare', async (t) => {
  const dp = new FakeDataplane();
  const touchy: Descriptor = {
    ...thingDescriptor(),
    equivalent: (_k, a, b) => {
      if ((b as { x: number }).x === 99) throw new Error('cannot compare');
      return JSON.stringify(a) === JSON.stringify(b);
    },
  };
  const s = new Scheduler({ connector: dp, descriptors: [touchy] });
  t.teardown(() => s.close());
  await s.commit(new Map([['u/a', { x: 1 }]]), {});
  t.is((await s.commit(kv({ x: thing(1) }), {})).error, null);
  s.registerDescriptor(late());
  const r = await s.commit(kv({ x: thing(99) }), { revert: true });
  t.truthy(r.error);
  t.deepEqual(s.getRecordedTransaction(r.seqNum)?.executed, [], 'nothing sent');
  t.is((await s.commit(kv({ y: thing(1) }), {})).error, null);
  t.is(s.getStatus('u/a')?.state, 'configured');
  t.truthy(dp.byName('a'));
});

test('S3 S6: after a commit failed to start, a key only waiting for a dependency is pending, not failed, once its retry succeeded', async (t) => {
  const { dp, s } = fakeScheduler();
  t.teardown(() => s.close());
  dp.failNext('thing_add');
  await s.commit(kv({ x: thing(1) }), {});
  dp.failNext('thing_dump');
  const r = await s.commit(kv({ x: thing(1), a: thing(1, 'p') }), { retry: { delay: 10, maxAttempts: 2, expBackoff: false } });
  t.truthy(r.error?.txnInitError);
  t.true(await waitFor(() => s.getTransactionHistory().some((x) => x.origin === 'retry')));
  t.is(s.getStatus(T('x'))?.state, 'configured');
  t.deepEqual(s.getStatus(T('a')), { state: 'pending', details: [`waiting for ${T('p')}`] });
});

test('S6: a retry that fails to start keeps its keys: the next attempt retries them, and they are created once the dataplane answers', async (t) => {
  const { dp, s } = fakeScheduler();
  t.teardown(() => s.close());
  await s.commit(kv({ p: thing(1) }), {});
  dp.failNext('thing_set');
  await s.commit(kv({ p: thing(2) }), {}); // p's update fails: p is re-read before it is planned again
  dp.failNext('thing_dump', 2); // that re-read fails in the commit and in its first retry
  const r = await s.commit(kv({ c: thing(1, 'p') }), { retry: { delay: 20, maxAttempts: 5, expBackoff: false } });
  t.truthy(r.error?.txnInitError);
  t.true(await waitFor(() => s.getStatus(T('c'))?.state === 'configured'), JSON.stringify(s.getStatus(T('c'))));
  t.truthy(dp.byName('c'));
});
