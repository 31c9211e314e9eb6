// Resync kinds against drift on the real stack (Scheduler -> VppConnector -> native-sim).
import test from 'ava';
import { interfaceKey, routeKey, vrfTableKey } from '../src/descriptors/index.js';
import { inSync, realStack } from './helpers/scheduler-real-stack.js';

const loop = (name: string, extra: Record<string, unknown> = {}) => ({ name, type: 'SOFTWARE_LOOPBACK', enabled: true, ipAddresses: [], vrf: 0, ...extra });
const route = { vrfId: 0, dstNetwork: '10.50.0.0/16', outgoingInterface: 'i1', nextHopAddr: '10.0.0.9' };

function desired(): Map<string, Record<string, unknown>> {
  return new Map<string, Record<string, unknown>>([
    [interfaceKey('i1'), loop('i1', { ipAddresses: ['10.0.0.1/24'] })],
    [interfaceKey('i2'), loop('i2')],
    [routeKey(route), route],
    [vrfTableKey(4, 'IPV4'), { id: 4, protocol: 'IPV4' }],
  ]);
}

/** Drift both ways behind the scheduler's back, through the connector directly. */
async function drift(connector: { request(name: string, f?: Record<string, unknown>): Promise<Record<string, unknown>>; dump(name: string, f?: Record<string, unknown>): Promise<Array<Record<string, unknown>>> }) {
  await connector.request('create_loopback', { tag: 'stray' });
  await connector.request('ip_table_add_del', { is_add: true, table: { table_id: 77, is_ip6: false, name: '' } });
  const ifs = await connector.dump('sw_interface_dump', {});
  const i2 = ifs.find((d) => d.tag === 'i2')?.sw_if_index as number;
  await connector.request('delete_loopback', { sw_if_index: i2 });
  const i1 = ifs.find((d) => d.tag === 'i1')?.sw_if_index as number;
  await connector.request('sw_interface_set_flags', { sw_if_index: i1, flags: 0 });
}

test('S4: full resync retrieves the dataplane and fixes drift both ways', async (t) => {
  const { connector, s } = await realStack(t);
  t.is((await s.commit(desired(), { resync: 'full', isStartup: true })).error, null);
  await drift(connector);
  const r = await s.commit(desired(), { resync: 'full' });
  t.is(r.error, null);
  const ops = s.getRecordedTransaction(r.seqNum)?.executed.map((o) => `${o.op} ${o.key}`).sort();
  t.deepEqual(ops, [
    `create ${interfaceKey('i2')}`,
    `delete ${interfaceKey('stray')}`,
    `delete ${vrfTableKey(77, 'IPV4')}`,
    `update ${interfaceKey('i1')}`,
  ]);
  await inSync(t, s);
});

test('S4: upstream resync diffs against the applied state; downstream re-applies the kept desired state', async (t) => {
  const { connector, s } = await realStack(t);
  await s.commit(desired(), { resync: 'full' });
  await drift(connector);
  const up = await s.commit(desired(), { resync: 'upstream' });
  t.deepEqual(s.getRecordedTransaction(up.seqNum)?.executed, [], 'upstream does not look at the dataplane');
  const down = await s.resyncDownstream();
  t.is(down.error, null);
  t.is(s.getRecordedTransaction(down.seqNum)?.resync, 'downstream');
  t.deepEqual(s.getRecordedTransaction(down.seqNum)?.executed.length, 4);
  await inSync(t, s);
});

test('S4: after a dataplane restart, a downstream resync brings everything back', async (t) => {
  const { sim, s } = await realStack(t);
  await s.commit(desired(), {});
  await sim.restart();
  t.is((await s.dump('', 'sb')).size, 0);
  const r = await s.resyncDownstream();
  t.is(r.error, null);
  await inSync(t, s);
  // The scheduler's metadata follows the new sw_if_index values: an update works.
  const u = await s.commit(new Map([[interfaceKey('i2'), loop('i2', { enabled: false })]]), {});
  t.is(u.error, null);
  await inSync(t, s);
});
