import test from 'ava';
import { VppRetval } from '../src/binapi/retval.js';
import { call, dump, newEngine, retval } from './helpers/dataplane-engine.js';

const R = VppRetval;

test('N2: local0 exists from start as sw_if_index 0; new interfaces get increasing indices', (t) => {
  const e = newEngine();
  const d = dump(e, 'sw_interface_dump');
  t.is(d.length, 1);
  t.like(d[0], { _msgname: 'sw_interface_details', sw_if_index: 0, interface_name: 'local0' });
  t.like(call(e, 'create_loopback', {}), { _msgname: 'create_loopback_reply', retval: 0, sw_if_index: 1 });
  t.like(call(e, 'tap_create_v3', { host_if_name: 'vpp1' }), { retval: 0, sw_if_index: 2 });
  t.like(call(e, 'memif_create', { role: 'slave', id: 3, socket_id: 0 }), { retval: 0, sw_if_index: 3 });
});

test('N2: sw_if_index is never reused within one run', (t) => {
  const e = newEngine();
  const seen = new Set<number>();
  for (let i = 0; i < 50; i++) {
    const idx = call(e, 'create_loopback')['sw_if_index'] as number;
    t.false(seen.has(idx));
    seen.add(idx);
    t.is(retval(e, 'delete_loopback', { sw_if_index: idx }), 0);
  }
  t.is(seen.size, 50);
});

test('N2: create/delete interfaces with VPP error codes', (t) => {
  const e = newEngine();
  t.is(retval(e, 'create_loopback', { mac_address: 'zz:00:00:00:00:00' }), R.INVALID_VALUE);
  t.is(retval(e, 'create_loopback', { tag: 'a' }), 0);
  t.is(retval(e, 'create_loopback', { tag: 'a' }), R.VIF_ALREADY_EXISTS);
  t.is(retval(e, 'tap_create_v3', { host_if_name: 'h' }), 0);
  t.is(retval(e, 'tap_create_v3', { host_if_name: 'h' }), R.VIF_ALREADY_EXISTS);
  t.is(retval(e, 'tap_create_v3', { id: 0 }), R.VIF_ALREADY_EXISTS);
  t.is(retval(e, 'tap_create_v3', { mtu: 10 }), R.INVALID_VALUE);
  t.is(retval(e, 'memif_create', { role: 'master', id: 1 }), 0);
  t.is(retval(e, 'memif_create', { role: 'master', id: 1 }), R.VIF_ALREADY_EXISTS);
  t.is(retval(e, 'memif_create', { role: 'boss', id: 2 }), R.INVALID_VALUE);
  t.is(retval(e, 'delete_loopback', { sw_if_index: 99 }), R.INVALID_SW_IF_INDEX);
  t.is(retval(e, 'delete_loopback', { sw_if_index: 2 }), R.INVALID_SW_IF_INDEX, 'a tap is not a loopback');
  t.is(retval(e, 'tap_delete_v3', { sw_if_index: 2 }), 0);
  t.is(retval(e, 'tap_delete_v3', { sw_if_index: 2 }), R.INVALID_SW_IF_INDEX);
  t.is(retval(e, 'memif_delete', { sw_if_index: 3 }), 0);
  t.is(retval(e, 'delete_loopback', { sw_if_index: 1 }), 0);
  t.is(retval(e, 'delete_loopback', { sw_if_index: 'one' }), R.INVALID_VALUE);
  t.deepEqual(dump(e, 'sw_interface_dump').map((d) => d['sw_if_index']), [0]);
});

test('N2: interface flags, mtu, mac, table, unnumbered and their errors', (t) => {
  const e = newEngine();
  const a = call(e, 'create_loopback')['sw_if_index'] as number;
  const b = call(e, 'create_loopback')['sw_if_index'] as number;
  t.is(retval(e, 'sw_interface_set_flags', { sw_if_index: a, flags: 1 }), 0);
  t.is(retval(e, 'sw_interface_set_flags', { sw_if_index: 42, flags: 1 }), R.INVALID_SW_IF_INDEX);
  t.is(retval(e, 'sw_interface_set_mtu', { sw_if_index: a, mtu: 1400 }), 0);
  t.is(retval(e, 'sw_interface_set_mtu', { sw_if_index: a, mtu: 1 }), R.INVALID_VALUE);
  t.is(retval(e, 'sw_interface_set_mac_address', { sw_if_index: a, mac_address: 'AA:bb:cc:dd:ee:01' }), 0);
  t.is(retval(e, 'sw_interface_set_mac_address', { sw_if_index: a, mac_address: 'nope' }), R.INVALID_VALUE);
  t.is(retval(e, 'sw_interface_set_table', { sw_if_index: a, is_ipv6: false, vrf_id: 5 }), R.NO_SUCH_FIB);
  t.is(retval(e, 'ip_table_add_del', { is_add: true, table: { table_id: 5, is_ip6: false } }), 0);
  t.is(retval(e, 'sw_interface_set_table', { sw_if_index: a, is_ipv6: false, vrf_id: 5 }), 0);
  t.is(retval(e, 'sw_interface_set_table', { sw_if_index: a, is_ipv6: true, vrf_id: 5 }), R.NO_SUCH_FIB);
  t.is(retval(e, 'sw_interface_set_unnumbered', { sw_if_index: a, unnumbered_sw_if_index: b, is_add: true }), 0);
  t.is(retval(e, 'sw_interface_set_unnumbered', { sw_if_index: a, unnumbered_sw_if_index: 77, is_add: true }), R.INVALID_SW_IF_INDEX);
  t.is(retval(e, 'sw_interface_set_unnumbered', { sw_if_index: a, unnumbered_sw_if_index: a, is_add: true }), R.INVALID_VALUE);
  const d = dump(e, 'sw_interface_dump', { sw_if_index: a })[0];
  t.like(d, { sw_if_index: a, flags: 1, mtu: 1400, l2_address: 'aa:bb:cc:dd:ee:01', vrf_id: 5 });
  t.like(dump(e, 'sw_interface_dump', { sw_if_index: b })[0], { unnumbered_sw_if_index: a });
  t.is(retval(e, 'sw_interface_set_unnumbered', { sw_if_index: a, unnumbered_sw_if_index: b, is_add: false }), 0);
  t.is(retval(e, 'sw_interface_set_unnumbered', { sw_if_index: a, unnumbered_sw_if_index: b, is_add: false }), R.NO_SUCH_ENTRY);
  t.is(retval(e, 'ip_table_add_del', { is_add: false, table: { table_id: 5, is_ip6: false } }), R.INVALID_VALUE, 'still referenced');
});

test('N2: set_table to another table is refused while addresses of that family are present (own or borrowed when unnumbered), as in VPP', (t) => {
  const e = newEngine();
  const a = call(e, 'create_loopback')['sw_if_index'] as number;
  const b = call(e, 'create_loopback')['sw_if_index'] as number;
  for (const is_ip6 of [false, true]) t.is(retval(e, 'ip_table_add_del', { is_add: true, table: { table_id: 7, is_ip6 } }), 0);
  t.is(retval(e, 'sw_interface_add_del_address', { sw_if_index: a, is_add: true, prefix: '10.0.0.1/24' }), 0);
  t.is(retval(e, 'sw_interface_set_table', { sw_if_index: a, is_ipv6: false, vrf_id: 7 }), R.ADDRESS_FOUND_FOR_INTERFACE);
  t.is(retval(e, 'sw_interface_set_table', { sw_if_index: a, is_ipv6: false, vrf_id: 0 }), 0, 'the same table is no change');
  t.is(retval(e, 'sw_interface_set_table', { sw_if_index: a, is_ipv6: true, vrf_id: 7 }), 0, 'no IPv6 address yet');
  t.is(retval(e, 'sw_interface_set_unnumbered', { sw_if_index: a, unnumbered_sw_if_index: b, is_add: true }), 0);
  t.is(retval(e, 'sw_interface_set_table', { sw_if_index: b, is_ipv6: false, vrf_id: 7 }), R.ADDRESS_FOUND_FOR_INTERFACE, 'borrowed address');
  t.is(retval(e, 'sw_interface_add_del_address', { sw_if_index: a, is_add: false, prefix: '10.0.0.1/24' }), 0);
  t.is(retval(e, 'sw_interface_set_table', { sw_if_index: a, is_ipv6: false, vrf_id: 7 }), 0);
  t.like(dump(e, 'sw_interface_dump', { sw_if_index: a })[0], { vrf_id: 7 });
});

test('N2 N3: interface addresses: add, duplicate, delete missing, invalid prefix, dump by family', (t) => {
  const e = newEngine();
  const a = call(e, 'create_loopback')['sw_if_index'] as number;
  t.is(retval(e, 'sw_interface_add_del_address', { sw_if_index: a, is_add: true, prefix: '10.0.0.1/24' }), 0);
  t.is(retval(e, 'sw_interface_add_del_address', { sw_if_index: a, is_add: true, prefix: '10.0.0.1/24' }), R.VALUE_EXIST);
  t.is(retval(e, 'sw_interface_add_del_address', { sw_if_index: a, is_add: true, prefix: 'fd00:0::1/64' }), 0);
  t.is(retval(e, 'sw_interface_add_del_address', { sw_if_index: a, is_add: true, prefix: '10.0.0.300/24' }), R.INVALID_VALUE);
  t.is(retval(e, 'sw_interface_add_del_address', { sw_if_index: a, is_add: true, prefix: '10.0.0.3/33' }), R.INVALID_VALUE);
  t.is(retval(e, 'sw_interface_add_del_address', { sw_if_index: a, is_add: true, prefix: '10.0.0.3' }), R.INVALID_VALUE);
  t.is(retval(e, 'sw_interface_add_del_address', { sw_if_index: 9, is_add: true, prefix: '10.0.0.3/24' }), R.INVALID_SW_IF_INDEX);
  t.deepEqual(dump(e, 'ip_address_dump', { sw_if_index: a, is_ipv6: false }).map((d) => d['prefix']), ['10.0.0.1/24']);
  t.deepEqual(dump(e, 'ip_address_dump', { sw_if_index: a, is_ipv6: true }).map((d) => d['prefix']), ['fd00::1/64']);
  t.is(retval(e, 'sw_interface_add_del_address', { sw_if_index: a, is_add: false, prefix: '10.0.0.2/24' }), R.ADDRESS_NOT_FOUND_FOR_INTERFACE);
  t.is(retval(e, 'sw_interface_add_del_address', { sw_if_index: a, is_add: false, prefix: '10.0.0.1/24' }), 0);
  t.deepEqual(dump(e, 'ip_address_dump', { sw_if_index: a }), []);
});

test('N2 N3: VRF tables: 0 always exists, add/delete, delete missing, dump', (t) => {
  const e = newEngine();
  const tables = (): string[] => dump(e, 'ip_table_dump').map((d) => {
    const tb = d['table'] as { table_id: number; is_ip6: boolean };
    return `${tb.is_ip6 ? 6 : 4}:${tb.table_id}`;
  });
  t.deepEqual(tables(), ['4:0', '6:0']);
  t.is(retval(e, 'ip_table_add_del', { is_add: true, table: { table_id: 10, is_ip6: true, name: 'ten' } }), 0);
  t.is(retval(e, 'ip_table_add_del', { is_add: true, table: { table_id: 10, is_ip6: true } }), 0, 'VPP: re-add is a no-op');
  t.deepEqual(tables(), ['4:0', '6:0', '6:10']);
  t.is(retval(e, 'ip_table_add_del', { is_add: false, table: { table_id: 11, is_ip6: true } }), R.NO_SUCH_ENTRY);
  t.is(retval(e, 'ip_table_add_del', { is_add: false, table: { table_id: 0, is_ip6: false } }), R.INVALID_VALUE);
  t.is(retval(e, 'ip_table_add_del', { is_add: false, table: { table_id: 10, is_ip6: true } }), 0);
  t.deepEqual(tables(), ['4:0', '6:0']);
  t.is(retval(e, 'ip_table_add_del', { is_add: true, table: 'x' }), R.INVALID_VALUE);
});

test('N2 N3: routes: add, duplicate, missing table, unknown interface, delete missing, dump per table', (t) => {
  const e = newEngine();
  const a = call(e, 'create_loopback')['sw_if_index'] as number;
  const route = (table_id: number, prefix: string, sw_if_index = a, nh = '10.0.0.254') => ({
    table_id,
    prefix,
    paths: [{ sw_if_index, nh, weight: 1, preference: 0 }],
  });
  t.is(retval(e, 'ip_route_add_del', { is_add: true, route: route(0, '192.168.0.0/16') }), 0);
  t.is(retval(e, 'ip_route_add_del', { is_add: true, route: route(0, '192.168.0.0/16') }), R.ENTRY_ALREADY_EXISTS);
  t.is(retval(e, 'ip_route_add_del', { is_add: true, route: route(3, '192.168.0.0/16') }), R.NO_SUCH_FIB);
  t.is(retval(e, 'ip_route_add_del', { is_add: true, route: route(0, '172.16.0.0/12', 55) }), R.INVALID_SW_IF_INDEX);
  t.is(retval(e, 'ip_route_add_del', { is_add: true, route: route(0, '172.16.0.0/12', a, 'x') }), R.INVALID_VALUE);
  t.is(retval(e, 'ip_route_add_del', { is_add: true, route: route(0, 'bad/12') }), R.INVALID_VALUE);
  t.is(retval(e, 'ip_route_add_del', { is_add: false, route: route(0, '10.9.0.0/16') }), R.NO_SUCH_ENTRY);
  t.is(retval(e, 'ip_route_add_del', { is_add: true, route: route(0, 'fd00::/8', a, 'fd00::1') }), 0);
  const d = dump(e, 'ip_route_dump', { table: { table_id: 0, is_ip6: false } });
  t.is(d.length, 1);
  t.like(d[0], { _msgname: 'ip_route_details', table_id: 0, prefix: '192.168.0.0/16' });
  t.deepEqual((d[0] as { paths: unknown[] }).paths, [{ sw_if_index: a, nh: '10.0.0.254', weight: 1, preference: 0 }]);
  t.is(dump(e, 'ip_route_dump', { table: { table_id: 0, is_ip6: true } }).length, 1);
  t.is(retval(e, 'delete_loopback', { sw_if_index: a }), 0);
  t.is(dump(e, 'ip_route_dump', { table: { table_id: 0, is_ip6: false } }).length, 0, 'routes via a deleted interface go');
});

test('N2 N3: neighbors: add, duplicate, invalid ip/mac, delete missing, dump filters', (t) => {
  const e = newEngine();
  const a = call(e, 'create_loopback')['sw_if_index'] as number;
  const n = (ip_address: string, mac_address = '02:00:00:00:00:01', sw_if_index = a) => ({ sw_if_index, ip_address, mac_address, flags: 1 });
  t.is(retval(e, 'ip_neighbor_add_del', { is_add: true, neighbor: n('10.0.0.2') }), 0);
  t.is(retval(e, 'ip_neighbor_add_del', { is_add: true, neighbor: n('10.0.0.2') }), R.ENTRY_ALREADY_EXISTS);
  t.is(retval(e, 'ip_neighbor_add_del', { is_add: true, neighbor: n('10.0.0.3', 'bad') }), R.INVALID_VALUE);
  t.is(retval(e, 'ip_neighbor_add_del', { is_add: true, neighbor: n('10.0.0', '02:00:00:00:00:01') }), R.INVALID_VALUE);
  t.is(retval(e, 'ip_neighbor_add_del', { is_add: true, neighbor: n('10.0.0.3', undefined, 8) }), R.INVALID_SW_IF_INDEX);
  t.is(retval(e, 'ip_neighbor_add_del', { is_add: true, neighbor: n('fd00::2') }), 0);
  t.is(dump(e, 'ip_neighbor_dump').length, 2);
  t.is(dump(e, 'ip_neighbor_dump', { af: 1 }).length, 1);
  t.deepEqual(dump(e, 'ip_neighbor_dump', { sw_if_index: a, af: 0 })[0]?.['neighbor'], n('10.0.0.2'));
  t.is(retval(e, 'ip_neighbor_add_del', { is_add: false, neighbor: n('10.0.0.9') }), R.NO_SUCH_ENTRY);
  t.is(retval(e, 'ip_neighbor_add_del', { is_add: false, neighbor: n('10.0.0.2') }), 0);
});

test('N2 N3: ACLs: create, replace, bind, in-use delete, missing, dumps', (t) => {
  const e = newEngine();
  const a = call(e, 'create_loopback')['sw_if_index'] as number;
  const rule = { is_permit: 1, src_prefix: '10.0.0.0/8', dst_prefix: '0.0.0.0/0', proto: 6, srcport_or_icmptype_first: 0, srcport_or_icmptype_last: 65535, dstport_or_icmpcode_first: 80, dstport_or_icmpcode_last: 80 };
  const r1 = call(e, 'acl_add_replace', { acl_index: 0xffffffff, tag: 'web', r: [rule] });
  t.like(r1, { _msgname: 'acl_add_replace_reply', retval: 0, acl_index: 0 });
  t.is(retval(e, 'acl_add_replace', { acl_index: 0, tag: 'web2', r: [rule, rule] }), 0);
  t.is(retval(e, 'acl_add_replace', { acl_index: 9, tag: 'x', r: [] }), R.NO_SUCH_ENTRY);
  t.is(retval(e, 'acl_add_replace', { acl_index: 0xffffffff, tag: 'x', r: [{ ...rule, src_prefix: '1.2.3/8' }] }), R.INVALID_VALUE);
  t.is(retval(e, 'acl_add_replace', { acl_index: 0xffffffff, tag: 'x', r: [{ ...rule, is_permit: 7 }] }), R.INVALID_VALUE);
  t.like(dump(e, 'acl_dump', { acl_index: 0 })[0], { acl_index: 0, tag: 'web2' });
  t.is((dump(e, 'acl_dump')[0]?.['r'] as unknown[]).length, 2);
  t.is(retval(e, 'acl_interface_set_acl_list', { sw_if_index: a, n_input: 1, acls: [0] }), 0);
  t.is(retval(e, 'acl_interface_set_acl_list', { sw_if_index: a, n_input: 2, acls: [0] }), R.INVALID_VALUE);
  t.is(retval(e, 'acl_interface_set_acl_list', { sw_if_index: a, n_input: 1, acls: [5] }), R.NO_SUCH_ENTRY);
  t.is(retval(e, 'acl_interface_set_acl_list', { sw_if_index: 77, n_input: 0, acls: [] }), R.INVALID_SW_IF_INDEX);
  const bindings = dump(e, 'acl_interface_list_dump').map(({ context: _c, ...rest }) => rest);
  t.deepEqual(bindings, [{ _msgname: 'acl_interface_list_details', sw_if_index: a, n_input: 1, acls: [0] }]);
  t.is(retval(e, 'acl_del', { acl_index: 0 }), R.ACL_IN_USE_INBOUND, 'in use, inbound');
  t.is(retval(e, 'acl_interface_set_acl_list', { sw_if_index: a, n_input: 0, acls: [0] }), 0);
  t.is(retval(e, 'acl_del', { acl_index: 0 }), R.ACL_IN_USE_OUTBOUND, 'in use, outbound');
  t.is(retval(e, 'acl_interface_set_acl_list', { sw_if_index: a, n_input: 0, acls: [] }), 0);
  t.is(retval(e, 'acl_del', { acl_index: 0 }), 0);
  t.is(retval(e, 'acl_del', { acl_index: 0 }), R.NO_SUCH_ENTRY);
  t.deepEqual(dump(e, 'acl_dump'), []);
});

test('N2 N3: NAT44 static mappings: add, duplicate, delete missing, invalid ip, dump', (t) => {
  const e = newEngine();
  const m = { tag: 'svc', external_ip_address: '1.1.1.1', external_port: 80, protocol: 6, locals: [{ addr: '10.1.1.1', port: 8080, probability: 1 }] };
  t.is(retval(e, 'nat44_add_del_static_mapping', { is_add: true, ...m }), 0);
  t.is(retval(e, 'nat44_add_del_static_mapping', { is_add: true, ...m }), R.VALUE_EXIST);
  t.is(retval(e, 'nat44_add_del_static_mapping', { is_add: true, ...m, external_ip_address: '1.1.1' }), R.INVALID_VALUE);
  t.is(retval(e, 'nat44_add_del_static_mapping', { is_add: true, ...m, external_port: 81, locals: [] }), R.INVALID_VALUE);
  t.like(dump(e, 'nat44_static_mapping_dump')[0], { _msgname: 'nat44_static_mapping_details', tag: 'svc', external_port: 80 });
  t.is(retval(e, 'nat44_add_del_static_mapping', { is_add: false, ...m, external_port: 81 }), R.NO_SUCH_ENTRY);
  t.is(retval(e, 'nat44_add_del_static_mapping', { is_add: false, ...m }), 0);
  t.deepEqual(dump(e, 'nat44_static_mapping_dump'), []);
});

test('N2 N3: bridge domains and L2 membership', (t) => {
  const e = newEngine();
  const a = call(e, 'create_loopback')['sw_if_index'] as number;
  const b = call(e, 'create_loopback')['sw_if_index'] as number;
  t.is(retval(e, 'bridge_domain_add_del', { is_add: true, bd_id: 4, bd_tag: 'bd4', flood: true, forward: true, learn: false }), 0);
  t.is(retval(e, 'bridge_domain_add_del', { is_add: true, bd_id: 4 }), R.BD_ALREADY_EXISTS);
  t.is(retval(e, 'bridge_domain_add_del', { is_add: true, bd_id: 0 }), R.BD_ALREADY_EXISTS, 'bridge domain 0 always exists');
  t.is(retval(e, 'bridge_domain_add_del', { is_add: false, bd_id: 0 }), R.BD_NOT_MODIFIABLE);
  t.is(retval(e, 'bridge_domain_add_del', { is_add: true, bd_id: 0x1000000 }), R.BD_ID_EXCEED_MAX);
  t.is(retval(e, 'bridge_domain_add_del', { is_add: false, bd_id: 0x1000000 }), R.NO_SUCH_ENTRY);
  t.is(retval(e, 'sw_interface_set_l2_bridge', { rx_sw_if_index: a, bd_id: 4, enable: true, port_type: 1 }), 0);
  t.is(retval(e, 'sw_interface_set_l2_bridge', { rx_sw_if_index: b, bd_id: 4, enable: true, port_type: 1 }), R.VALUE_EXIST, 'one BVI');
  t.is(retval(e, 'sw_interface_set_l2_bridge', { rx_sw_if_index: b, bd_id: 4, enable: true, port_type: 0 }), 0);
  t.is(retval(e, 'sw_interface_set_l2_bridge', { rx_sw_if_index: b, bd_id: 9, enable: true, port_type: 0 }), R.NO_SUCH_ENTRY);
  t.is(retval(e, 'sw_interface_set_l2_bridge', { rx_sw_if_index: 99, bd_id: 4, enable: true, port_type: 0 }), R.INVALID_SW_IF_INDEX);
  const d = dump(e, 'bridge_domain_dump', { bd_id: 4 })[0];
  t.like(d, { bd_id: 4, bd_tag: 'bd4', learn: false });
  t.deepEqual(d?.['sw_if_details'], [{ sw_if_index: a }, { sw_if_index: b }]);
  t.is(retval(e, 'sw_interface_set_l2_bridge', { rx_sw_if_index: b, bd_id: 4, enable: false, port_type: 0 }), 0);
  t.is(retval(e, 'sw_interface_set_l2_bridge', { rx_sw_if_index: b, bd_id: 4, enable: false, port_type: 0 }), 0, 'back to L3 mode, where it is already');
  t.is(retval(e, 'bridge_domain_add_del', { is_add: false, bd_id: 4 }), R.BD_IN_USE, 'a (the BVI) is still a member');
  t.is(retval(e, 'sw_interface_set_l2_bridge', { rx_sw_if_index: a, bd_id: 4, enable: false, port_type: 1 }), 0);
  t.is(retval(e, 'sw_interface_set_l2_bridge', { rx_sw_if_index: b, bd_id: 4, enable: true, port_type: 1 }), 0, 'the BVI left with a');
  t.is(retval(e, 'delete_loopback', { sw_if_index: b }), 0);
  t.is(retval(e, 'bridge_domain_add_del', { is_add: false, bd_id: 4 }), 0, 'deleting the member interface left the domain empty');
  t.is(retval(e, 'bridge_domain_add_del', { is_add: false, bd_id: 4 }), R.NO_SUCH_ENTRY);
  t.deepEqual(dump(e, 'bridge_domain_dump'), []);
});

test('N2: control_ping answers with the epoch; malformed messages are protocol errors (V6)', (t) => {
  const e = newEngine();
  t.like(call(e, 'control_ping'), { _msgname: 'control_ping_reply', retval: 0, epoch: 7 });
  t.is(e.handle('junk'), null);
  t.is(e.handle({ context: 1 }), null);
  t.is(e.handle({ _msgname: 'create_loopback' }), null);
  t.is(e.handle({ _msgname: 'no_such_message', context: 1 }), null);
  t.is(e.counters().protocolErrors, 4);
  // Names every object inherits are not messages either (before: "constructor" killed the sim's thread).
  for (const name of ['constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf']) t.is(e.handle({ _msgname: name, context: 1 }), null, name);
  t.is(e.counters().protocolErrors, 9);
  t.false(Object.keys(e.counters().messages).some((n) => ['constructor', 'toString', 'hasOwnProperty'].includes(n)));
});

test('N2 V6: a message named like an inherited property, sent through the rings, is a protocol error; the sim thread lives on', async (t) => {
  const { startNativeSim } = await import('../native-sim/index.js');
  const { VppConnector, FrameCodec, writeRawFrame } = await import('../src/connector/index.js');
  const sim = await startNativeSim();
  t.teardown(() => sim.close());
  const c = await VppConnector.connect(sim, { pingInterval: 0 });
  t.teardown(() => c.close());
  const codec = new FrameCodec();
  t.deepEqual(codec.decode(codec.encode({ _msgname: 'constructor', context: 9 })), { _msgname: 'constructor', context: 9 });
  const p = await c.createProducerRing();
  t.teardown(() => p.close());
  for (const name of ['constructor', 'toString']) writeRawFrame(p.ring, codec.encode({ _msgname: name, context: 1 }), undefined, p.doorbell);
  const deadline = Date.now() + 5000;
  while ((await sim.counters()).protocolErrors < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  t.is((await sim.counters()).protocolErrors, 2);
  t.is((await c.request('create_loopback'))['retval'], 0, 'the sim still answers');
});
