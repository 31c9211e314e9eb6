// VRF tables, routes and ARP entries through Scheduler -> VppConnector -> native-sim.
import test from 'ava';
import { arpKey, interfaceKey, routeDescriptor, routeKey, vrfTableDescriptor, vrfTableKey } from '../src/descriptors/index.js';
import { inSync, realStack } from './helpers/scheduler-real-stack.js';

const loop = (name: string, extra: Record<string, unknown> = {}) => ({ name, type: 'SOFTWARE_LOOPBACK', enabled: true, ipAddresses: [], vrf: 0, ...extra });

test('S3: a route waits for its outgoing interface and VRF table, then is created after them', async (t) => {
  const { s } = await realStack(t);
  const route = { vrfId: 3, dstNetwork: '10.20.0.0/16', nextHopAddr: '10.0.0.2', outgoingInterface: 'eth' };
  const rk = routeKey(route);
  t.is(rk, 'config/vpp/v2/route/if/eth/vrf/3/dst/10.20.0.0/16/gw/10.0.0.2');
  let r = await s.commit(new Map([[rk, route]]), {});
  t.is(r.error, null);
  t.is(s.getStatus(rk)?.state, 'pending');
  r = await s.commit(
    new Map<string, Record<string, unknown>>([
      [interfaceKey('eth'), loop('eth', { vrf: 3, ipAddresses: ['10.0.0.1/24'] })],
      [vrfTableKey(3, 'IPV4'), { id: 3, protocol: 'IPV4' }],
    ]),
    {},
  );
  t.is(r.error, null);
  t.deepEqual(s.getRecordedTransaction(r.seqNum)?.executed.map((o) => o.key), [vrfTableKey(3, 'IPV4'), interfaceKey('eth'), rk]);
  t.is(s.getStatus(rk)?.state, 'configured');
  t.deepEqual((await s.dump(rk, 'sb')).get(rk), { ...route, weight: 1, preference: 0 });
  await inSync(t, s);
  // Deleting the VRF table cascades: route, then interface, then the table; both return to pending.
  r = await s.commit(new Map([[vrfTableKey(3, 'IPV4'), null]]), {});
  t.is(r.error, null);
  t.deepEqual(s.getRecordedTransaction(r.seqNum)?.executed.map((o) => o.key), [rk, interfaceKey('eth'), vrfTableKey(3, 'IPV4')]);
  t.is(s.getStatus(rk)?.state, 'pending');
  t.is(s.getStatus(interfaceKey('eth'))?.state, 'pending');
  t.deepEqual([...(await s.dump('', 'sb')).keys()], [], 'pending values are not on the dataplane');
});

test('S2: routes without interface or gateway, IPv6 routes, and a weight change (an in-place update)', async (t) => {
  const { s } = await realStack(t);
  const r1 = { vrfId: 0, dstNetwork: '172.16.0.0/12', nextHopAddr: '192.168.0.1' };
  const r2 = { vrfId: 0, dstNetwork: 'fd00:1::/64', nextHopAddr: 'fd00::1' };
  let r = await s.commit(new Map([[routeKey(r1), r1], [routeKey(r2), r2]]), {});
  t.is(r.error, null);
  await inSync(t, s);
  r = await s.commit(new Map([[routeKey(r1), { ...r1, weight: 5 }]]), {});
  t.deepEqual(s.getRecordedTransaction(r.seqNum)?.executed.map((o) => o.op), ['update']);
  await inSync(t, s);
});

test('S2: bad routes are invalid: host bits set, key not matching the value, mixed families', async (t) => {
  const { s } = await realStack(t);
  const bad = new Map<string, Record<string, unknown>>([
    ['config/vpp/v2/route/vrf/0/dst/10.0.0.1/24/gw/10.0.0.9', { vrfId: 0, dstNetwork: '10.0.0.1/24', nextHopAddr: '10.0.0.9' }],
    ['config/vpp/v2/route/vrf/0/dst/10.1.0.0/24', { vrfId: 1, dstNetwork: '10.1.0.0/24' }],
    ['config/vpp/v2/route/vrf/0/dst/10.2.0.0/24/gw/fd00::1', { vrfId: 0, dstNetwork: '10.2.0.0/24', nextHopAddr: 'fd00::1' }],
  ]);
  const r = await s.commit(bad, {});
  t.is(r.error?.kvErrors.length, 3);
  const msgs = r.error?.kvErrors.map((e) => e.error.message).join('\n') ?? '';
  t.regex(msgs, /host bits zero/);
  t.regex(msgs, /expected config\/vpp\/v2\/route\/vrf\/1\/dst\/10.1.0.0\/24/);
  t.regex(msgs, /same address family/);
});

test('S2 S4: route forms the dataplane cannot give back are refused or normalized: a padded prefix length, a zero next hop, no path at all', async (t) => {
  const { sim, s } = await realStack(t);
  const before = await sim.counters();
  const bad = new Map<string, Record<string, unknown>>([
    ['config/vpp/v2/route/vrf/0/dst/10.3.0.0/016/gw/10.0.0.9', { vrfId: 0, dstNetwork: '10.3.0.0/016', nextHopAddr: '10.0.0.9' }],
    ['config/vpp/v2/route/vrf/0/dst/10.4.0.0/24/gw/0.0.0.0', { vrfId: 0, dstNetwork: '10.4.0.0/24', nextHopAddr: '0.0.0.0', outgoingInterface: 'x' }],
    ['config/vpp/v2/route/vrf/0/dst/10.5.0.0/24', { vrfId: 0, dstNetwork: '10.5.0.0/24' }],
  ]);
  const r = await s.commit(bad, {});
  const msgs = new Map(r.error?.kvErrors.map((e) => [e.key, e.error.message]));
  t.is(msgs.size, 3);
  t.regex(msgs.get('config/vpp/v2/route/vrf/0/dst/10.3.0.0/016/gw/10.0.0.9') ?? '', /dstNetwork must be a CIDR/);
  t.regex(msgs.get('config/vpp/v2/route/vrf/0/dst/10.4.0.0/24/gw/0.0.0.0') ?? '', /expected config\/vpp\/v2\/route\/if\/x\/vrf\/0\/dst\/10.4.0.0\/24\)$/);
  t.regex(msgs.get('config/vpp/v2/route/vrf/0/dst/10.5.0.0/24') ?? '', /outgoingInterface must be an interface name, or a nextHopAddr/);
  t.deepEqual(await sim.counters(), before, 'nothing was sent');
  const lo = { name: 'lo5', type: 'SOFTWARE_LOOPBACK', enabled: true, ipAddresses: ['10.9.0.1/24', '10.9.0.1/024'] };
  const r2 = await s.commit(new Map([[interfaceKey('lo5'), lo]]), {});
  t.regex(r2.error?.kvErrors[0]?.error.message ?? '', /ipAddresses\[1\] must be a CIDR/);
});

test('S2: the IPv4 fast path of route validation refuses what the general readers refuse, with the same messages', async (t) => {
  const { s } = await realStack(t);
  const bad = new Map<string, Record<string, unknown>>([
    ['config/vpp/v2/route/vrf/0/dst/fd00::/64/gw/10.0.0.1', { vrfId: 0, dstNetwork: 'fd00::/64', nextHopAddr: '10.0.0.1' }],
    ['config/vpp/v2/route/vrf/0/dst/10.3.0.0/33', { vrfId: 0, dstNetwork: '10.3.0.0/33' }],
    ['config/vpp/v2/route/vrf/0/dst/10.4.0.0/24/gw/10.0.0.256', { vrfId: 0, dstNetwork: '10.4.0.0/24', nextHopAddr: '10.0.0.256' }],
    ['config/vpp/v2/route/vrf/0/dst/10.5.0.0/24', { vrfId: 0, dstNetwork: 7 }],
  ]);
  const r = await s.commit(bad, {});
  const byKey = new Map(r.error?.kvErrors.map((e) => [e.key, e.error.message]));
  t.is(byKey.size, 4);
  t.regex(byKey.get('config/vpp/v2/route/vrf/0/dst/fd00::/64/gw/10.0.0.1') ?? '', /same address family/);
  t.regex(byKey.get('config/vpp/v2/route/vrf/0/dst/10.3.0.0/33') ?? '', /dstNetwork must be a CIDR/);
  t.regex(byKey.get('config/vpp/v2/route/vrf/0/dst/10.4.0.0/24/gw/10.0.0.256') ?? '', /nextHopAddr must be an IP address/);
  t.regex(byKey.get('config/vpp/v2/route/vrf/0/dst/10.5.0.0/24') ?? '', /dstNetwork must be a CIDR.*number 7/);
  // IPv6 routes still take the general readers.
  const v6 = { vrfId: 0, dstNetwork: 'fd00::/64', nextHopAddr: 'fd00::1' };
  const ok = await s.commit(new Map([['config/vpp/v2/route/vrf/0/dst/fd00::/64/gw/fd00::1', v6]]), {});
  t.falsy(ok.error);
});

test('S2: ARP entries depend on their interface; VRF labels round-trip', async (t) => {
  const { s } = await realStack(t);
  const arp = { interface: 'e1', ipAddress: '10.0.0.5', physAddress: '02:00:00:00:00:05', static: true };
  const r = await s.commit(
    new Map<string, Record<string, unknown>>([
      [arpKey('e1', '10.0.0.5'), arp],
      [interfaceKey('e1'), loop('e1', { ipAddresses: ['10.0.0.1/24'] })],
      [vrfTableKey(9, 'IPV6'), { id: 9, protocol: 'IPV6', label: 'v6-nine' }],
    ]),
    {},
  );
  t.is(r.error, null);
  const order = s.getRecordedTransaction(r.seqNum)?.executed.map((o) => o.key) ?? [];
  t.true(order.indexOf(interfaceKey('e1')) < order.indexOf(arpKey('e1', '10.0.0.5')));
  await inSync(t, s);
  t.deepEqual((await s.dump(vrfTableKey(9, 'IPV6'), 'sb')).get(vrfTableKey(9, 'IPV6')), { id: 9, protocol: 'IPV6', label: 'v6-nine' });
  const r2 = await s.commit(new Map([[arpKey('e1', '10.0.0.5'), { ...arp, physAddress: '02:00:00:00:00:06' }]]), {});
  t.is(r2.error, null);
  await inSync(t, s);
});

test('S2 S4: a route weight of 0 is VPP\'s 1 (protobuf leaves 0 out; VPP stores 1), so a resync does not update it again', async (t) => {
  const route = { vrfId: 0, dstNetwork: '10.9.0.0/16', nextHopAddr: '10.0.0.9' };
  const key = routeKey(route);
  t.is((routeDescriptor.validate(key, { ...route, weight: 0 }) as { weight: number }).weight, 1);
  const { sim, s } = await realStack(t);
  t.is((await s.commit(new Map([[key, { ...route, weight: 0 }]]), {})).error, null);
  const r = await s.commit(new Map([[key, { ...route, weight: 0 }]]), { resync: 'full' });
  t.deepEqual(s.getRecordedTransaction(r.seqNum)?.executed, []);
  await inSync(t, s);
  const snap = (await sim.snapshot()) as unknown as { routes: Array<{ paths: Array<{ weight: number }> }> };
  t.is(snap.routes[0]?.paths[0]?.weight, 1, 'the dataplane stores a weight of 0 as 1, as VPP does');
});

test('S2: a VRF label longer than a VPP table name (63 bytes) is invalid, not cut short on the dataplane', (t) => {
  t.throws(() => vrfTableDescriptor.validate(vrfTableKey(5, 'IPV4'), { id: 5, protocol: 'IPV4', label: 'x'.repeat(64) }), { message: /label.*63 bytes/ });
  t.notThrows(() => vrfTableDescriptor.validate(vrfTableKey(5, 'IPV4'), { id: 5, protocol: 'IPV4', label: 'x'.repeat(63) }));
});
