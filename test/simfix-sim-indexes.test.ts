// Unit tests of native-sim's DataplaneState indexes: every rule that used to scan the state must
// still give the same answers now that it looks things up.
import test from 'ava';
import { DataplaneState, NO_INTERFACE } from '../native-sim/dataplane-state.js';
import { FieldError } from '../native-sim/field-readers.js';
import { VppRetval } from '../src/binapi/retval.js';

function retvalOf(t: { throws: (fn: () => unknown, e?: object) => unknown }, fn: () => unknown): number {
  return (t.throws(fn, { instanceOf: FieldError }) as FieldError).retval;
}

function tap(s: DataplaneState, tag: string, host = '', id?: number): number {
  return s.createTap({ id, mac: '', host_if_name: host, mtu: 0, tag });
}

test('N2: tap ids, host names and tags are unique; freed ids are reused lowest first', (t) => {
  const s = new DataplaneState();
  const a = tap(s, 'a');
  const b = tap(s, 'b');
  const c = tap(s, 'c');
  t.deepEqual([a, b, c].map((i) => s.interface(i).id), [0, 1, 2]);
  t.is(retvalOf(t, () => tap(s, 'a')), VppRetval.VIF_ALREADY_EXISTS, 'same tag');
  t.is(retvalOf(t, () => tap(s, 'x', '', 1)), VppRetval.VIF_ALREADY_EXISTS, 'same id');
  t.is(retvalOf(t, () => tap(s, 'x', 'tap2')), VppRetval.VIF_ALREADY_EXISTS, 'same host name');
  t.is(s.byTag('b'), b);
  s.deleteInterface(b, 'tap');
  t.is(s.byTag('b'), undefined);
  const again = tap(s, 'b', 'tap1');
  t.is(s.interface(again).id, 1, 'the freed id and host name are available again');
  t.is(s.interface(tap(s, 'd')).id, 3);
  s.deleteInterface(a, 'tap');
  t.is(s.interface(tap(s, 'e')).id, 0);
  t.is(retvalOf(t, () => s.createLoopback('', 'e')), VppRetval.VIF_ALREADY_EXISTS, 'tags are shared by all kinds');
});

test('N2: memifs are unique per socket and id, and free again after delete', (t) => {
  const s = new DataplaneState();
  const m = s.createMemif({ role: 'master', id: 1, socket_id: 0, mac: '', tag: '' });
  t.is(retvalOf(t, () => s.createMemif({ role: 'slave', id: 1, socket_id: 0, mac: '', tag: '' })), VppRetval.VIF_ALREADY_EXISTS);
  s.createMemif({ role: 'slave', id: 1, socket_id: 1, mac: '', tag: '' });
  s.deleteInterface(m, 'memif');
  t.notThrows(() => s.createMemif({ role: 'slave', id: 1, socket_id: 0, mac: '', tag: '' }));
});

test('N2: deleting an interface takes its routes, neighbors, ACL binding, unnumbered users and BD membership', (t) => {
  const s = new DataplaneState();
  const a = tap(s, 'a');
  const b = tap(s, 'b');
  const path = (i: number) => [{ sw_if_index: i, nh: '', weight: 1, preference: 0 }];
  s.addDelRoute(true, { table_id: 0, is_ip6: false, prefix: '10.0.0.1/32', paths: path(a) });
  s.addDelRoute(true, { table_id: 0, is_ip6: false, prefix: '10.0.0.2/32', paths: path(b) });
  s.addDelNeighbor(true, { sw_if_index: a, ip_address: '10.0.0.1', is_ip6: false, mac_address: '02:00:00:00:00:01', flags: 0 });
  s.addDelNeighbor(true, { sw_if_index: b, ip_address: '10.0.0.2', is_ip6: false, mac_address: '02:00:00:00:00:02', flags: 0 });
  const acl = s.addReplaceAcl(NO_INTERFACE, 'x', []);
  s.setAclList(a, 1, [acl]);
  s.setUnnumbered(a, b, true);
  s.addDelBridgeDomain(true, { bd_id: 5, bd_tag: '', flood: true, forward: true, learn: true });
  s.setL2Bridge(a, 5, true, 1);
  s.setL2Bridge(b, 5, true, 0);
  t.deepEqual([...s.routesOf(0, false)].map((r) => r.prefix), ['10.0.0.1/32', '10.0.0.2/32']);
  t.deepEqual([...s.neighborsOn(a)].map((n) => n.ip_address), ['10.0.0.1']);
  t.is(retvalOf(t, () => s.deleteAcl(acl)), VppRetval.ACL_IN_USE_INBOUND, 'a bound ACL cannot be deleted');

  s.deleteInterface(a, 'tap');
  t.deepEqual([...s.routes.values()].map((r) => r.prefix), ['10.0.0.2/32']);
  t.deepEqual([...s.routesOf(0, false)].map((r) => r.prefix), ['10.0.0.2/32']);
  t.deepEqual([...s.neighbors.values()].map((n) => n.sw_if_index), [b]);
  t.deepEqual([...s.neighborsOn(a)], []);
  t.is(s.interface(b).unnumbered, NO_INTERFACE);
  t.deepEqual(s.members(5).map((i) => i.sw_if_index), [b]);
  t.notThrows(() => s.deleteAcl(acl), 'the binding went with the interface');
  // The BVI slot of bridge domain 5 was freed with the interface.
  t.notThrows(() => s.setL2Bridge(b, 5, true, 1));
});

test('N2: a table in use cannot be deleted; deleting it takes its routes; BVI is unique per BD', (t) => {
  const s = new DataplaneState();
  const a = tap(s, 'a');
  const b = tap(s, 'b');
  s.addDelTable(true, 7, false, '');
  s.setTable(a, false, 7);
  s.addDelRoute(true, { table_id: 7, is_ip6: false, prefix: '10.1.0.0/16', paths: [] });
  t.is(retvalOf(t, () => s.addDelTable(false, 7, false, '')), VppRetval.INVALID_VALUE);
  s.setTable(a, false, 0);
  s.addDelTable(false, 7, false, '');
  t.is(s.routes.size, 0);
  t.deepEqual([...s.routesOf(7, false)], []);
  s.addDelTable(true, 7, false, '');
  s.setTable(b, false, 7);
  s.deleteInterface(b, 'tap');
  t.notThrows(() => s.addDelTable(false, 7, false, ''), 'the deleted interface no longer uses the table');

  s.addDelBridgeDomain(true, { bd_id: 1, bd_tag: '', flood: true, forward: true, learn: true });
  s.setL2Bridge(a, 1, true, 1);
  const c = tap(s, 'c');
  t.is(retvalOf(t, () => s.setL2Bridge(c, 1, true, 1)), VppRetval.VALUE_EXIST);
  s.setL2Bridge(a, 1, false, 0);
  s.setL2Bridge(c, 1, true, 1);
  s.setL2Bridge(a, 1, true, 0);
  t.deepEqual(s.members(1).map((i) => i.sw_if_index), [a, c]);
  const bd1 = { bd_id: 1, bd_tag: '', flood: true, forward: true, learn: true };
  t.is(retvalOf(t, () => s.addDelBridgeDomain(false, bd1)), VppRetval.BD_IN_USE, 'not while it has members');
  s.deleteInterface(a, 'tap');
  s.setL2Bridge(c, 1, false, 0);
  t.is(s.interface(c).bd, null);
  t.deepEqual(s.members(1), [], 'deleting a member and taking one out both leave the domain');
  s.addDelBridgeDomain(false, bd1);
});
