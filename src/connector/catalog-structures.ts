/**
 * The msgpackr record structures both sides pre-declare, so the binary-API messages travel as
 * compact records without negotiating anything: a fixed list, identical in every thread. Key order
 * matters (a record matches an object whose keys come in exactly this order); shapes not listed
 * still work, msgpackr then defines them inside the message.
 */
import { lookup } from '../binapi/messages.js';

const HEAD = ['_msgname', 'context'] as const;

/** Fields of each request, in wire order (the connector writes known fields in this order). */
export const REQUEST_FIELDS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  control_ping: [],
  create_loopback: ['mac_address', 'tag'],
  delete_loopback: ['sw_if_index'],
  tap_create_v3: ['id', 'mac_address', 'host_if_name', 'mtu', 'tag'],
  tap_delete_v3: ['sw_if_index'],
  memif_create: ['role', 'id', 'socket_id', 'mac_address', 'tag'],
  memif_delete: ['sw_if_index'],
  sw_interface_set_flags: ['sw_if_index', 'flags'],
  sw_interface_set_mtu: ['sw_if_index', 'mtu'],
  sw_interface_set_mac_address: ['sw_if_index', 'mac_address'],
  sw_interface_set_table: ['sw_if_index', 'is_ipv6', 'vrf_id'],
  sw_interface_set_unnumbered: ['sw_if_index', 'unnumbered_sw_if_index', 'is_add'],
  sw_interface_add_del_address: ['sw_if_index', 'is_add', 'prefix'],
  ip_table_add_del: ['is_add', 'table'],
  ip_route_add_del: ['is_add', 'is_multipath', 'route'],
  ip_neighbor_add_del: ['is_add', 'neighbor'],
  acl_add_replace: ['acl_index', 'tag', 'r'],
  acl_del: ['acl_index'],
  acl_interface_set_acl_list: ['sw_if_index', 'n_input', 'acls'],
  nat44_add_del_static_mapping: ['is_add', 'tag', 'external_ip_address', 'external_port', 'protocol', 'locals'],
  bridge_domain_add_del: ['is_add', 'bd_id', 'bd_tag', 'flood', 'forward', 'learn'],
  sw_interface_set_l2_bridge: ['rx_sw_if_index', 'bd_id', 'enable', 'port_type'],
  sw_interface_dump: ['sw_if_index'],
  ip_address_dump: ['sw_if_index', 'is_ipv6'],
  ip_table_dump: [],
  ip_route_dump: ['table'],
  ip_neighbor_dump: ['sw_if_index', 'af'],
  acl_dump: ['acl_index'],
  acl_interface_list_dump: ['sw_if_index'],
  nat44_static_mapping_dump: [],
  bridge_domain_dump: ['bd_id'],
});

/** Reply fields after `retval`. */
export const REPLY_EXTRA_FIELDS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  control_ping: ['vpe_pid', 'epoch'],
  create_loopback: ['sw_if_index'],
  tap_create_v3: ['sw_if_index'],
  memif_create: ['sw_if_index'],
  acl_add_replace: ['acl_index'],
});

/** Details fields (after `_msgname`, `context`), in the order native-sim writes them. */
export const DETAILS_FIELDS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  sw_interface_details: [
    'sw_if_index',
    'interface_name',
    'interface_dev_type',
    'tag',
    'l2_address',
    'flags',
    'mtu',
    'vrf_id',
    'unnumbered_sw_if_index',
    'ip6_vrf_id',
  ],
  ip_address_details: ['sw_if_index', 'prefix'],
  ip_table_details: ['table'],
  ip_route_details: ['table_id', 'prefix', 'paths'],
  ip_neighbor_details: ['neighbor'],
  acl_details: ['acl_index', 'tag', 'r'],
  acl_interface_list_details: ['sw_if_index', 'n_input', 'acls'],
  nat44_static_mapping_details: ['tag', 'external_ip_address', 'external_port', 'protocol', 'locals'],
  bridge_domain_details: ['bd_id', 'bd_tag', 'flood', 'forward', 'learn', 'bvi_sw_if_index', 'sw_if_details'],
});

const NESTED: ReadonlyArray<readonly string[]> = [
  ['table_id', 'is_ip6', 'name'],
  ['table_id', 'is_ip6'],
  ['table_id', 'prefix', 'paths'],
  ['sw_if_index', 'nh', 'weight', 'preference'],
  ['sw_if_index', 'ip_address', 'mac_address', 'flags'],
  [
    'is_permit',
    'src_prefix',
    'dst_prefix',
    'proto',
    'srcport_or_icmptype_first',
    'srcport_or_icmptype_last',
    'dstport_or_icmpcode_first',
    'dstport_or_icmpcode_last',
  ],
  ['addr', 'port', 'probability'],
  ['sw_if_index'],
];

/**
 * The structures a message of this name may take: its request, details or reply shape (a reply
 * with extras may also come without them, as an error reply does); none for names outside the catalog.
 */
export function catalogShapesFor(name: string): string[][] {
  const request = lookup(REQUEST_FIELDS, name);
  if (request !== undefined) return [[...HEAD, ...request]];
  const details = lookup(DETAILS_FIELDS, name);
  if (details !== undefined) return [[...HEAD, ...details]];
  if (!name.endsWith('_reply')) return [];
  const base = name.slice(0, -'_reply'.length);
  if (lookup(REQUEST_FIELDS, base) === undefined) return [];
  const extra = lookup(REPLY_EXTRA_FIELDS, base);
  return extra === undefined ? [[...HEAD, 'retval']] : [[...HEAD, 'retval', ...extra], [...HEAD, 'retval']];
}

/** A fresh copy of the shared structures list (msgpackr may append private entries to it). */
export function catalogStructures(): string[][] {
  const out: string[][] = [];
  for (const fields of Object.values(REQUEST_FIELDS)) out.push([...HEAD, ...fields]);
  for (const name of Object.keys(REQUEST_FIELDS)) out.push([...HEAD, 'retval', ...(REPLY_EXTRA_FIELDS[name] ?? [])]);
  for (const fields of Object.values(DETAILS_FIELDS)) out.push([...HEAD, ...fields]);
  for (const nested of NESTED) out.push([...nested]);
  // Replies without extras share one shape; keep the list free of duplicates.
  const seen = new Set<string>();
  return out.filter((s) => {
    const k = s.join(',');
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
