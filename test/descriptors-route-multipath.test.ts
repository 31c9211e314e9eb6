// The route descriptor over native-sim's multipath route table: route keys that share a destination
// are paths of one prefix, a weight or preference change is one in-place add, and retrieve splits a
// prefix's paths back into route keys (Scheduler -> VppConnector -> native-sim, all real).
import test from 'ava';
import type { Value } from '../src/api/values.js';
import { interfaceKey, routeKey } from '../src/descriptors/index.js';
import { inSync, realStack } from './helpers/scheduler-real-stack.js';

const gw = (nextHopAddr: string, extra: Record<string, unknown> = {}) => ({ vrfId: 0, dstNetwork: '10.50.0.0/16', nextHopAddr, ...extra });

async function routeMessages(sim: { counters(): Promise<{ messages: Readonly<Record<string, number>> }> }): Promise<number> {
  return (await sim.counters()).messages['ip_route_add_del'] ?? 0;
}

async function pathsOf(sim: { snapshot(): Promise<{ routes: ReadonlyArray<{ prefix: string; paths: readonly unknown[] }> }> }, prefix: string) {
  return (await sim.snapshot()).routes.filter((r) => r.prefix === prefix).map((r) => r.paths);
}

test('S2 N2: routes to one destination through different gateways and an interface are all applied, as paths of one prefix', async (t) => {
  const { s, sim } = await realStack(t);
  const loop = { name: 'eth', type: 'SOFTWARE_LOOPBACK', enabled: true, ipAddresses: ['10.0.0.1/24'], vrf: 0 };
  const viaIf = { vrfId: 0, dstNetwork: '10.50.0.0/16', outgoingInterface: 'eth' };
  const desired = new Map<string, Value>([
    [routeKey(gw('192.168.0.1')), gw('192.168.0.1')],
    [routeKey(gw('192.168.0.2')), gw('192.168.0.2')],
    [interfaceKey('eth'), loop],
    [routeKey(viaIf), viaIf],
  ]);
  const r = await s.commit(desired, {});
  t.is(r.error, null);
  for (const k of desired.keys()) t.is(s.getStatus(k)?.state, 'configured', k);
  const [paths] = await pathsOf(sim, '10.50.0.0/16');
  t.is(paths?.length, 3, 'one prefix, three paths');
  await inSync(t, s);
  t.is((await s.dump('config/vpp/v2/route/', 'sb')).size, 3, 'retrieve gives one key per path');

  // Removing one key removes only its path.
  const del = await s.commit(new Map([[routeKey(gw('192.168.0.1')), null]]), {});
  t.is(del.error, null);
  t.is((await pathsOf(sim, '10.50.0.0/16'))[0]?.length, 2);
  await inSync(t, s);
  // The interface's deletion takes its path; the gateway route stays.
  const rmIf = await s.commit(new Map([[routeKey(viaIf), null], [interfaceKey('eth'), null]]), {});
  t.is(rmIf.error, null);
  t.deepEqual(await pathsOf(sim, '10.50.0.0/16'), [[{ sw_if_index: 0xffffffff, nh: '192.168.0.2', weight: 1, preference: 0 }]]);
  await inSync(t, s);
});

test('S2 N2: a weight or preference change is one in-place update (one ip_route_add_del), not delete + create', async (t) => {
  const { s, sim } = await realStack(t);
  const k1 = routeKey(gw('192.168.0.1'));
  const k2 = routeKey(gw('192.168.0.2'));
  t.is((await s.commit(new Map([[k1, gw('192.168.0.1')], [k2, gw('192.168.0.2')]]), {})).error, null);
  const before = await routeMessages(sim);
  const r = await s.commit(new Map([[k1, gw('192.168.0.1', { weight: 7, preference: 2 })]]), {});
  t.is(r.error, null);
  t.deepEqual(s.getRecordedTransaction(r.seqNum)?.executed.map((o) => [o.key, o.op]), [[k1, 'update']]);
  t.is((await routeMessages(sim)) - before, 1, 'one message');
  t.deepEqual(await pathsOf(sim, '10.50.0.0/16'), [
    [
      { sw_if_index: 0xffffffff, nh: '192.168.0.1', weight: 7, preference: 2 },
      { sw_if_index: 0xffffffff, nh: '192.168.0.2', weight: 1, preference: 0 },
    ],
  ]);
  t.deepEqual((await s.dump(k1, 'sb')).get(k1), gw('192.168.0.1', { weight: 7, preference: 2 }));
  await inSync(t, s);
});

test('S2 N3: a downstream resync restores a path lost on the dataplane and leaves the sibling paths alone', async (t) => {
  const { s, sim, connector } = await realStack(t);
  const k1 = routeKey(gw('192.168.0.1'));
  const k2 = routeKey(gw('192.168.0.2', { weight: 3 }));
  t.is((await s.commit(new Map([[k1, gw('192.168.0.1')], [k2, gw('192.168.0.2', { weight: 3 })]]), {})).error, null);
  // Drift behind the scheduler's back: one path deleted, the other's weight changed.
  const path = (nh: string, weight: number) => ({ sw_if_index: 0xffffffff, nh, weight, preference: 0 });
  const drift = await connector.requestBatch([
    { name: 'ip_route_add_del', fields: { is_add: false, is_multipath: true, route: { table_id: 0, prefix: '10.50.0.0/16', paths: [path('192.168.0.1', 1)] } } },
    { name: 'ip_route_add_del', fields: { is_add: true, is_multipath: true, route: { table_id: 0, prefix: '10.50.0.0/16', paths: [path('192.168.0.2', 9)] } } },
  ]);
  t.true(drift.every((d) => !(d instanceof Error) && d['retval'] === 0));
  const r = await s.resyncDownstream();
  t.is(r.error, null);
  t.deepEqual(await pathsOf(sim, '10.50.0.0/16'), [[path('192.168.0.2', 3), path('192.168.0.1', 1)]]);
  await inSync(t, s);
});
