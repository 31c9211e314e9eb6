// An interface in a VRF is bound to its IPv6 table only while it has IPv6 addresses (that is when
// it depends on that table): dropping its last IPv6 address must also unbind the table, or the
// table can never be deleted or re-created although nothing depends on it. Real stack:
// Scheduler -> VppConnector -> native-sim.
import test from 'ava';
import { interfaceKey, vrfTableKey } from '../src/descriptors/index.js';
import { inSync, realStack } from './helpers/scheduler-real-stack.js';

const if1 = (ipAddresses: string[]) => ({ name: 'if1', type: 'SOFTWARE_LOOPBACK', enabled: true, ipAddresses, vrf: 2 });
const T4 = vrfTableKey(2, 'IPV4');
const T6 = vrfTableKey(2, 'IPV6');

test('S2 S3: an interface that loses its last IPv6 address leaves its VRF IPv6 table, which can then be removed and re-created', async (t) => {
  const { sim, s } = await realStack(t);
  let r = await s.commit(
    new Map<string, Record<string, unknown>>([
      [T4, { id: 2, protocol: 'IPV4' }],
      [T6, { id: 2, protocol: 'IPV6' }],
      [interfaceKey('if1'), if1(['10.1.0.1/24', 'fd00:1::1/64'])],
    ]),
    {},
  );
  t.is(r.error, null);
  r = await s.commit(new Map([[interfaceKey('if1'), if1(['10.1.0.1/24'])]]), {});
  t.is(r.error, null);
  const snap = await sim.snapshot();
  t.is(snap.interfaces.find((i) => i.tag === 'if1')?.vrf6, 0, 'the interface left the IPv6 table');
  t.is(snap.interfaces.find((i) => i.tag === 'if1')?.vrf, 2, 'and stayed in the IPv4 one');
  // A label change re-creates the table (tables have no update): allowed once nothing uses it.
  r = await s.commit(new Map([[T6, { id: 2, protocol: 'IPV6', label: 'six' }]]), {});
  t.is(r.error, null);
  r = await s.commit(new Map([[T6, null]]), {});
  t.is(r.error, null);
  await inSync(t, s);
  t.false((await sim.snapshot()).tables.some((x) => x.table_id === 2 && x.is_ip6));
});
