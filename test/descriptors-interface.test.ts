// Interfaces through Scheduler -> VppConnector -> native-sim (the real stack).
import test from 'ava';
import { interfaceKey, vrfTableKey } from '../src/descriptors/index.js';
import { inSync, realStack } from './helpers/scheduler-real-stack.js';

const loop = (name: string, extra: Record<string, unknown> = {}) => ({ name, type: 'SOFTWARE_LOOPBACK', enabled: true, ipAddresses: [], vrf: 0, ...extra });

test('S2: an interface is created with its VRF, addresses, MTU, MAC and admin state, after its VRF table (S3)', async (t) => {
  const { sim, s } = await realStack(t);
  const r = await s.commit(
    new Map<string, Record<string, unknown>>([
      [interfaceKey('if1'), loop('if1', { vrf: 7, ipAddresses: ['10.0.0.1/24', '10.0.1.1/24'], mtu: 1400, physAddress: 'AA:BB:CC:00:00:01' })],
      [vrfTableKey(7, 'IPV4'), { id: 7, protocol: 'IPV4', label: 'seven' }],
    ]),
    {},
  );
  t.is(r.error, null);
  t.deepEqual(s.getRecordedTransaction(r.seqNum)?.executed.map((o) => o.key), [vrfTableKey(7, 'IPV4'), interfaceKey('if1')]);
  const snap = (await sim.snapshot()) as unknown as { interfaces: Array<Record<string, unknown>> };
  const if1 = snap.interfaces.find((i) => i.tag === 'if1');
  t.truthy(if1);
  await inSync(t, s);
  t.deepEqual((await s.dump(interfaceKey('if1'), 'sb')).get(interfaceKey('if1')), {
    name: 'if1',
    type: 'SOFTWARE_LOOPBACK',
    enabled: true,
    physAddress: 'aa:bb:cc:00:00:01',
    ipAddresses: ['10.0.0.1/24', '10.0.1.1/24'],
    vrf: 7,
    mtu: 1400,
  });
});

test('S1: an interface update changes addresses, MTU and admin state in place', async (t) => {
  const { s } = await realStack(t);
  await s.commit(new Map([[interfaceKey('a'), loop('a', { ipAddresses: ['10.1.0.1/24'] })]]), {});
  const r = await s.commit(new Map([[interfaceKey('a'), loop('a', { enabled: false, ipAddresses: ['10.2.0.1/24', 'fd00::1/64'], mtu: 2000 })]]), {});
  t.is(r.error, null);
  t.deepEqual(s.getRecordedTransaction(r.seqNum)?.executed, [{ key: interfaceKey('a'), op: 'update' }]);
  await inSync(t, s);
  t.deepEqual((await s.dump('', 'sb')).get(interfaceKey('a'))?.ipAddresses, ['10.2.0.1/24', 'fd00::1/64']);
});

test('S2: a type or VRF change re-creates the interface; TAP and memif interfaces work alike', async (t) => {
  const { s } = await realStack(t);
  await s.commit(
    new Map<string, Record<string, unknown>>([
      [interfaceKey('x'), loop('x')],
      [interfaceKey('t1'), { name: 't1', type: 'TAP', enabled: true, ipAddresses: ['10.9.0.1/30'] }],
      [interfaceKey('m1'), { name: 'm1', type: 'MEMIF', ipAddresses: [] }],
      [interfaceKey('m2'), { name: 'm2', type: 'MEMIF', ipAddresses: [] }],
    ]),
    {},
  );
  const r = await s.commit(new Map([[interfaceKey('x'), { ...loop('x'), type: 'TAP' }]]), {});
  t.is(r.error, null);
  t.deepEqual(s.getRecordedTransaction(r.seqNum)?.executed.map((o) => o.op), ['delete', 'create']);
  await inSync(t, s);
  t.is(s.getStatus(interfaceKey('m2'))?.state, 'configured');
});

test('S3: an unnumbered interface waits for the interface it borrows from', async (t) => {
  const { s } = await realStack(t);
  await s.commit(new Map([[interfaceKey('u'), loop('u', { unnumbered: { interfaceWithIp: 'src' } })]]), {});
  t.is(s.getStatus(interfaceKey('u'))?.state, 'pending');
  await s.commit(new Map([[interfaceKey('src'), loop('src', { ipAddresses: ['192.168.1.1/24'] })]]), {});
  t.is(s.getStatus(interfaceKey('u'))?.state, 'configured');
  await inSync(t, s);
  // Removing the source first removes the unnumbered one (back to pending).
  await s.commit(new Map([[interfaceKey('src'), null]]), {});
  t.is(s.getStatus(interfaceKey('u'))?.state, 'pending');
  t.deepEqual([...(await s.dump('', 'sb')).keys()], []);
});

test('S2: bad interface values are invalid with a clear error and never reach the dataplane', async (t) => {
  const { sim, s } = await realStack(t);
  const before = await sim.counters();
  const bad: Array<[string, Record<string, unknown>, RegExp]> = [
    [interfaceKey('b1'), loop('b1', { ipAddresses: ['10.0.0.300/24'] }), /ipAddresses\[0\] must be a CIDR/],
    [interfaceKey('b2'), loop('b2', { type: 'ETHERNET_CSMACD' }), /type must be one of SOFTWARE_LOOPBACK, TAP, MEMIF/],
    [interfaceKey('b3'), loop('other'), /name must be "b3"/],
    [interfaceKey('b4'), loop('b4', { enabled: 'yes' }), /enabled must be a boolean/],
    [interfaceKey('b5'), loop('b5', { physAddress: 'zz' }), /physAddress must be a MAC/],
    [interfaceKey('b6'), loop('b6', { vrf: -1 }), /vrf must be an integer/],
    [interfaceKey('b7'), loop('b7', { mtu: 10 }), /mtu must be 0 \(default\) or 64\.\.65535/],
  ];
  const r = await s.commit(new Map(bad.map(([k, v]) => [k, v])), {});
  t.is(r.error?.kvErrors.length, bad.length);
  for (const [k, , re] of bad) {
    const st = s.getStatus(k);
    t.is(st?.state, 'invalid', k);
    t.regex(st?.state === 'invalid' ? st.error.message : '', re);
    t.is(st?.state === 'invalid' ? (st.error as { code?: string }).code : '', 'ERR_INVALID_VALUE');
  }
  const after = await sim.counters();
  t.deepEqual(after, before, 'nothing was sent');
});
