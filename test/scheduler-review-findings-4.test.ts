// Regressions from a fourth review of the scheduler: each failed before its fix.
import test from 'ava';
import { interfaceKey, routeKey } from '../src/descriptors/index.js';
import type { Value } from '../src/api/values.js';
import { fakeScheduler, kv, T } from './helpers/scheduler-setup.js';
import { thing } from './helpers/scheduler-fake-dataplane.js';
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

test('S3 S4 S6: a full resync whose retry repairs an interface\'s address creates the route through it before it reports success', async (t) => {
  const { sim, s } = await realStack(t);
  const tap = (ips: string[]) => ({ name: 'tap0', type: 'TAP', enabled: true, ipAddresses: ips, vrf: 0 });
  t.is((await s.commit(new Map([[interfaceKey('tap0'), tap([])]]), {})).error, null);
  const route = { vrfId: 0, dstNetwork: '10.2.0.0/16', outgoingInterface: 'tap0', nextHopAddr: '10.1.0.1' };
  await sim.setFaults({ errorRate: 1, messages: ['sw_interface_add_del_address'] });
  const values = new Map<string, Value>([
    [interfaceKey('tap0'), tap(['10.1.0.2/24'])],
    [routeKey(route), route],
  ]);
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
  const { sim, s } = await realStack(t);
  const tap = (ips: string[]) => ({ name: 'tap0', type: 'TAP', enabled: true, ipAddresses: ips, vrf: 0 });
  t.is((await s.commit(new Map([[interfaceKey('tap0'), tap([])]]), {})).error, null);
  const route = { vrfId: 0, dstNetwork: '10.2.0.0/16', outgoingInterface: 'tap0', nextHopAddr: '10.1.0.1' };
  await sim.setFaults({ errorRate: 1, messages: ['sw_interface_add_del_address'] });
  const values = new Map<string, Value>([
    [interfaceKey('tap0'), tap(['10.1.0.2/24'])],
    [routeKey(route), route],
  ]);
  const r = await s.commit(values, { resync: 'full', retry: { delay: 5, maxAttempts: 2, expBackoff: false } });
  t.deepEqual(r.error?.kvErrors.map((e) => e.key), [interfaceKey('tap0')]);
  t.is(s.getStatus(routeKey(route))?.state, 'pending');
  t.false((await s.dump('', 'sb')).has(routeKey(route)));
});
