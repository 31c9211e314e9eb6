/**
 * The binary-API messages the engine exchanges with the dataplane, VPP style: snake_case names and
 * fields, every request answered by `<name>_reply` carrying `retval` (dumps by `<x>_details`
 * messages, then the `control_ping_reply` that ends them). Addresses are strings (`10.1.1.1`,
 * prefixes `10.1.1.0/24`), MACs `aa:bb:cc:dd:ee:ff`.
 */

/** Every message on the wire: name, context (channel << 16 | sequence), then its fields. */
export interface BinapiMessage {
  readonly _msgname: string;
  readonly context: number;
  readonly [field: string]: unknown;
}

export const InterfaceDevType = Object.freeze({ loopback: 'loopback', tap: 'virtio', memif: 'memif' } as const);

/** `sw_interface_set_flags.flags`: bit 0 = admin up. */
export const IF_STATUS_API_FLAG_ADMIN_UP = 1;
/** `sw_if_index` that means every interface (`ip_address_dump`). */
export const ALL_INTERFACES = 0xffffffff;
/** `acl_add_replace.acl_index` that asks for a new ACL. */
export const ACL_INDEX_NEW = 0xffffffff;

export interface Requests {
  control_ping: Record<string, never>;
  create_loopback: { mac_address?: string; tag?: string };
  delete_loopback: { sw_if_index: number };
  tap_create_v3: { id?: number; mac_address?: string; host_if_name?: string; mtu?: number; tag?: string };
  tap_delete_v3: { sw_if_index: number };
  memif_create: { role?: 'master' | 'slave'; id?: number; socket_id?: number; mac_address?: string; tag?: string };
  memif_delete: { sw_if_index: number };
  sw_interface_set_flags: { sw_if_index: number; flags: number };
  sw_interface_set_mtu: { sw_if_index: number; mtu: number };
  sw_interface_set_mac_address: { sw_if_index: number; mac_address: string };
  sw_interface_set_table: { sw_if_index: number; is_ipv6: boolean; vrf_id: number };
  sw_interface_set_unnumbered: { sw_if_index: number; unnumbered_sw_if_index: number; is_add: boolean };
  sw_interface_add_del_address: { sw_if_index: number; is_add: boolean; prefix: string };
  ip_table_add_del: { is_add: boolean; table: { table_id: number; is_ip6: boolean; name?: string } };
  ip_route_add_del: {
    is_add: boolean;
    /** Add or remove one path of the prefix (an add of an existing path replaces its weight and preference). */
    is_multipath?: boolean;
    route: {
      table_id: number;
      prefix: string;
      paths: Array<{ sw_if_index: number; nh: string; weight: number; preference: number }>;
    };
  };
  ip_neighbor_add_del: {
    is_add: boolean;
    neighbor: { sw_if_index: number; ip_address: string; mac_address: string; flags: number };
  };
  acl_add_replace: { acl_index: number; tag: string; r: AclRule[] };
  acl_del: { acl_index: number };
  acl_interface_set_acl_list: { sw_if_index: number; n_input: number; acls: number[] };
  nat44_add_del_static_mapping: {
    is_add: boolean;
    tag: string;
    external_ip_address: string;
    external_port: number;
    protocol: number;
    locals: Array<{ addr: string; port: number; probability: number }>;
  };
  bridge_domain_add_del: {
    is_add: boolean;
    bd_id: number;
    bd_tag?: string;
    flood?: boolean;
    forward?: boolean;
    learn?: boolean;
  };
  sw_interface_set_l2_bridge: { rx_sw_if_index: number; bd_id: number; enable: boolean; port_type: number };
  // dumps
  sw_interface_dump: { sw_if_index?: number };
  ip_address_dump: { sw_if_index: number; is_ipv6?: boolean };
  ip_table_dump: Record<string, never>;
  ip_route_dump: { table: { table_id: number; is_ip6: boolean } };
  ip_neighbor_dump: { sw_if_index?: number; af?: number };
  acl_dump: { acl_index?: number };
  acl_interface_list_dump: { sw_if_index?: number };
  nat44_static_mapping_dump: Record<string, never>;
  bridge_domain_dump: { bd_id?: number };
}

export interface AclRule {
  is_permit: number; // 0 deny, 1 permit, 2 permit+reflect
  src_prefix: string;
  dst_prefix: string;
  proto: number;
  srcport_or_icmptype_first: number;
  srcport_or_icmptype_last: number;
  dstport_or_icmpcode_first: number;
  dstport_or_icmpcode_last: number;
}

/** Details messages answering each dump (one message per object). */
export interface Details {
  sw_interface_details: {
    sw_if_index: number;
    interface_name: string;
    interface_dev_type: string;
    tag: string;
    l2_address: string;
    flags: number;
    mtu: number;
    /** Simulation conveniences VPP spreads over other dumps. */
    vrf_id: number;
    unnumbered_sw_if_index: number;
    /** The IPv6 table (VPP: sw_interface_get_table with is_ipv6). */
    ip6_vrf_id: number;
  };
  ip_address_details: { sw_if_index: number; prefix: string };
  ip_table_details: { table: { table_id: number; is_ip6: boolean; name: string } };
  ip_route_details: Requests['ip_route_add_del']['route'] & Record<string, unknown>;
  ip_neighbor_details: { neighbor: Requests['ip_neighbor_add_del']['neighbor'] };
  acl_details: { acl_index: number; tag: string; r: AclRule[] };
  acl_interface_list_details: { sw_if_index: number; n_input: number; acls: number[] };
  nat44_static_mapping_details: Omit<Requests['nat44_add_del_static_mapping'], 'is_add'>;
  bridge_domain_details: {
    bd_id: number;
    bd_tag: string;
    flood: boolean;
    forward: boolean;
    learn: boolean;
    /** The member that is the bridge domain's BVI; ~0 when none. */
    bvi_sw_if_index: number;
    sw_if_details: Array<{ sw_if_index: number }>;
  };
}

/** Which details message answers which dump. */
export const DUMP_DETAILS: Readonly<Record<string, keyof Details>> = Object.freeze({
  sw_interface_dump: 'sw_interface_details',
  ip_address_dump: 'ip_address_details',
  ip_table_dump: 'ip_table_details',
  ip_route_dump: 'ip_route_details',
  ip_neighbor_dump: 'ip_neighbor_details',
  acl_dump: 'acl_details',
  acl_interface_list_dump: 'acl_interface_list_details',
  nat44_static_mapping_dump: 'nat44_static_mapping_details',
  bridge_domain_dump: 'bridge_domain_details',
});

/** Extra reply fields beyond `retval`. */
export interface ReplyFields {
  control_ping: { vpe_pid: number; /** Changes on every (re)start of the dataplane. */ epoch: number };
  create_loopback: { sw_if_index: number };
  tap_create_v3: { sw_if_index: number };
  memif_create: { sw_if_index: number };
  acl_add_replace: { acl_index: number };
}

export type RequestName = keyof Requests;
export type DumpName = keyof typeof DUMP_DETAILS & RequestName;

export function replyName(request: string): string {
  return `${request}_reply`;
}

export function isDump(name: string): boolean {
  return Object.prototype.hasOwnProperty.call(DUMP_DETAILS, name);
}

/**
 * `table[name]` for a catalog table keyed by message name, own entries only: a name off the wire
 * such as "constructor" or "toString" must not find what every object inherits.
 */
export function lookup<T>(table: Readonly<Record<string, T>>, name: string): T | undefined {
  return Object.hasOwn(table, name) ? table[name] : undefined;
}
