import { ACL_INDEX_NEW, ALL_INTERFACES, type AclRule } from '../src/binapi/messages.js';
import { VppRetval } from '../src/binapi/retval.js';
import { DataplaneState, NO_INTERFACE, type SimInterface, type SimPath } from './dataplane-state.js';
import {
  FieldError,
  type Fields,
  arr,
  asFields,
  bool,
  canonicalIp,
  ipAddress,
  ipPrefix,
  macAddress,
  obj,
  str,
  u32,
} from './field-readers.js';
import { sharedPath } from './route-table.js';

/** Applies one request; returns the reply fields beyond `retval` (throws FieldError to reject). */
export type RequestHandler = (state: DataplaneState, msg: Fields) => Record<string, unknown> | undefined;
/** Answers one dump: the fields of each details message, in order. */
export type DumpHandler = (state: DataplaneState, msg: Fields) => Array<Record<string, unknown>>;

function aclRule(v: unknown, i: number): AclRule {
  const r = asFields(v, `r[${i}]`);
  const is_permit = u32(r, 'is_permit', 0);
  if (is_permit > 2) throw new FieldError(VppRetval.INVALID_VALUE, `r[${i}].is_permit ${is_permit}`);
  const prefix = (name: string): string => (r[name] === undefined || r[name] === '' ? '' : ipPrefix(r, name).key);
  return {
    is_permit,
    src_prefix: prefix('src_prefix'),
    dst_prefix: prefix('dst_prefix'),
    proto: u32(r, 'proto', 0),
    srcport_or_icmptype_first: u32(r, 'srcport_or_icmptype_first', 0),
    srcport_or_icmptype_last: u32(r, 'srcport_or_icmptype_last', 65535),
    dstport_or_icmpcode_first: u32(r, 'dstport_or_icmpcode_first', 0),
    dstport_or_icmpcode_last: u32(r, 'dstport_or_icmpcode_last', 65535),
  };
}

function swIfIndexList(v: readonly unknown[]): number[] {
  return v.map((x, i) => u32({ [`acls[${i}]`]: x }, `acls[${i}]`));
}

/** The request handlers, by message name (control_ping is answered by the engine: it knows the epoch). */
export const REQUEST_HANDLERS: Readonly<Record<string, RequestHandler>> = Object.freeze({
  create_loopback: (s, m) => ({ sw_if_index: s.createLoopback(macAddress(m, 'mac_address', true), str(m, 'tag', '')) }),
  delete_loopback: (s, m) => void s.deleteInterface(u32(m, 'sw_if_index'), 'loopback'),
  tap_create_v3: (s, m) => ({
    sw_if_index: s.createTap({
      id: m['id'] === undefined ? undefined : u32(m, 'id'),
      mac: macAddress(m, 'mac_address', true),
      host_if_name: str(m, 'host_if_name', ''),
      mtu: u32(m, 'mtu', 0),
      tag: str(m, 'tag', ''),
    }),
  }),
  tap_delete_v3: (s, m) => void s.deleteInterface(u32(m, 'sw_if_index'), 'tap'),
  memif_create: (s, m) => ({
    sw_if_index: s.createMemif({
      role: str(m, 'role', 'master'),
      id: u32(m, 'id', 0),
      socket_id: u32(m, 'socket_id', 0),
      mac: macAddress(m, 'mac_address', true),
      tag: str(m, 'tag', ''),
    }),
  }),
  memif_delete: (s, m) => void s.deleteInterface(u32(m, 'sw_if_index'), 'memif'),
  sw_interface_set_flags: (s, m) => void s.setFlags(u32(m, 'sw_if_index'), u32(m, 'flags')),
  sw_interface_set_mtu: (s, m) => void s.setMtu(u32(m, 'sw_if_index'), u32(m, 'mtu')),
  sw_interface_set_mac_address: (s, m) => void s.setMac(u32(m, 'sw_if_index'), macAddress(m, 'mac_address', false)),
  sw_interface_set_table: (s, m) => void s.setTable(u32(m, 'sw_if_index'), bool(m, 'is_ipv6', false), u32(m, 'vrf_id')),
  sw_interface_set_unnumbered: (s, m) =>
    void s.setUnnumbered(u32(m, 'sw_if_index'), u32(m, 'unnumbered_sw_if_index'), bool(m, 'is_add', true)),
  sw_interface_add_del_address: (s, m) => {
    const sw_if_index = u32(m, 'sw_if_index');
    const is_add = bool(m, 'is_add');
    return void s.addDelAddress(sw_if_index, is_add, ipPrefix(m, 'prefix').key);
  },
  ip_table_add_del: (s, m) => {
    const t = obj(m, 'table');
    return void s.addDelTable(bool(m, 'is_add'), u32(t, 'table_id'), bool(t, 'is_ip6', false), str(t, 'name', ''));
  },
  ip_route_add_del: (s, m) => {
    const is_add = bool(m, 'is_add');
    const is_multipath = bool(m, 'is_multipath', false);
    const r = obj(m, 'route');
    const prefix = ipPrefix(r, 'prefix');
    const list = arr(r, 'paths', []);
    const paths: SimPath[] = [];
    for (let i = 0; i < list.length; i++) {
      const v = list[i];
      // The field name is built only for the error: no string per valid path.
      const p = typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Fields) : asFields(v, `paths[${i}]`);
      const nhText = str(p, 'nh', '');
      const nh = nhText === '' ? '' : ipAddress(p, 'nh').ip;
      // VPP takes a weight of 0 as 1 (fib_api_path_decode).
      paths.push(sharedPath(u32(p, 'sw_if_index', NO_INTERFACE), nh, u32(p, 'weight', 1) || 1, u32(p, 'preference', 0)));
    }
    return void s.addDelRoute(is_add, { table_id: u32(r, 'table_id', 0), is_ip6: prefix.v6, prefix: prefix.key, paths }, is_multipath);
  },
  ip_neighbor_add_del: (s, m) => {
    const is_add = bool(m, 'is_add');
    const n = obj(m, 'neighbor');
    const ip = ipAddress(n, 'ip_address');
    return void s.addDelNeighbor(is_add, {
      sw_if_index: u32(n, 'sw_if_index'),
      ip_address: ip.ip,
      is_ip6: ip.v6,
      mac_address: is_add ? macAddress(n, 'mac_address', false) : macAddress(n, 'mac_address', true),
      flags: u32(n, 'flags', 0),
    });
  },
  acl_add_replace: (s, m) => ({
    acl_index: s.addReplaceAcl(u32(m, 'acl_index', ACL_INDEX_NEW), str(m, 'tag', ''), arr(m, 'r', []).map(aclRule)),
  }),
  acl_del: (s, m) => void s.deleteAcl(u32(m, 'acl_index')),
  acl_interface_set_acl_list: (s, m) =>
    void s.setAclList(u32(m, 'sw_if_index'), u32(m, 'n_input', 0), swIfIndexList(arr(m, 'acls', []))),
  nat44_add_del_static_mapping: (s, m) => {
    const is_add = bool(m, 'is_add');
    const locals = arr(m, 'locals', []).map((v, i) => {
      const l = asFields(v, `locals[${i}]`);
      return { addr: ipAddress(l, 'addr').ip, port: u32(l, 'port', 0), probability: u32(l, 'probability', 0) };
    });
    if (is_add && locals.length === 0) throw new FieldError(VppRetval.INVALID_VALUE, 'locals: at least one local address');
    return void s.addDelStaticMapping(is_add, {
      tag: str(m, 'tag', ''),
      external_ip_address: ipAddress(m, 'external_ip_address').ip,
      external_port: u32(m, 'external_port', 0),
      protocol: u32(m, 'protocol', 0),
      locals,
    });
  },
  bridge_domain_add_del: (s, m) =>
    void s.addDelBridgeDomain(bool(m, 'is_add'), {
      bd_id: u32(m, 'bd_id'),
      bd_tag: str(m, 'bd_tag', ''),
      flood: bool(m, 'flood', true),
      forward: bool(m, 'forward', true),
      learn: bool(m, 'learn', true),
    }),
  sw_interface_set_l2_bridge: (s, m) =>
    void s.setL2Bridge(u32(m, 'rx_sw_if_index'), u32(m, 'bd_id', 0), bool(m, 'enable'), u32(m, 'port_type', 0)),
});

/** An optional u32 filter: absent or ~0 means "all". */
function filter(m: Fields, name: string): number | null {
  if (m[name] === undefined) return null;
  const v = u32(m, name);
  return v === NO_INTERFACE ? null : v;
}

export function interfaceDetails(i: SimInterface): Record<string, unknown> {
  return {
    sw_if_index: i.sw_if_index,
    interface_name: i.name,
    interface_dev_type: i.dev_type,
    tag: i.tag,
    l2_address: i.mac,
    flags: i.flags,
    mtu: i.mtu,
    vrf_id: i.vrf4,
    unnumbered_sw_if_index: i.unnumbered,
    ip6_vrf_id: i.vrf6,
  };
}

function routeDetails(r: { table_id: number; prefix: string; paths: readonly SimPath[] }): Record<string, unknown> {
  return {
    table_id: r.table_id,
    prefix: r.prefix,
    paths: r.paths.map((p) => ({ sw_if_index: p.sw_if_index, nh: p.nh, weight: p.weight, preference: p.preference })),
  };
}

/** The dump handlers, by dump name (N3: answered from state). */
export const DUMP_HANDLERS: Readonly<Record<string, DumpHandler>> = Object.freeze({
  sw_interface_dump: (s, m) => {
    const only = filter(m, 'sw_if_index');
    if (only !== null) {
      const i = s.interfaces.get(only);
      return i ? [interfaceDetails(i)] : [];
    }
    const out = [];
    for (const i of s.interfaces.values()) out.push(interfaceDetails(i));
    return out;
  },
  ip_address_dump: (s, m) => {
    const only = u32(m, 'sw_if_index');
    const v6 = bool(m, 'is_ipv6', false);
    const out = [];
    // sw_if_index ~0 = every interface: one dump instead of one per interface.
    const ifaces = only === ALL_INTERFACES ? s.interfaces.values() : [s.interfaces.get(only)];
    for (const iface of ifaces) {
      if (!iface) continue;
      for (const prefix of iface.addresses) {
        if (canonicalIp(prefix.slice(0, prefix.indexOf('/')))?.v6 === v6) out.push({ sw_if_index: iface.sw_if_index, prefix });
      }
    }
    return out;
  },
  ip_table_dump: (s) => [...s.tables.values()].map((t) => ({ table: { table_id: t.table_id, is_ip6: t.is_ip6, name: t.name } })),
  ip_route_dump: (s, m) => {
    const t = obj(m, 'table');
    const table_id = u32(t, 'table_id', 0);
    const is_ip6 = bool(t, 'is_ip6', false);
    const out = [];
    for (const r of s.routesOf(table_id, is_ip6)) out.push(routeDetails(r));
    return out;
  },
  ip_neighbor_dump: (s, m) => {
    const only = filter(m, 'sw_if_index');
    const af = m['af'] === undefined ? null : u32(m, 'af');
    const out = [];
    for (const n of only === null ? s.neighbors.values() : s.neighborsOn(only)) {
      if (af !== null && (af === 1) !== n.is_ip6) continue;
      out.push({
        neighbor: { sw_if_index: n.sw_if_index, ip_address: n.ip_address, mac_address: n.mac_address, flags: n.flags },
      });
    }
    return out;
  },
  acl_dump: (s, m) => {
    const only = filter(m, 'acl_index');
    const out = [];
    const acls = only === null ? s.acls.values() : [s.acls.get(only)];
    for (const a of acls) if (a) out.push({ acl_index: a.acl_index, tag: a.tag, r: a.r.map((r) => ({ ...r })) });
    return out;
  },
  acl_interface_list_dump: (s, m) => {
    const only = filter(m, 'sw_if_index');
    const out = [];
    const bindings = only === null ? s.aclBindings.values() : [s.aclBindings.get(only)];
    for (const b of bindings) if (b) out.push({ sw_if_index: b.sw_if_index, n_input: b.n_input, acls: [...b.acls] });
    return out;
  },
  nat44_static_mapping_dump: (s) =>
    [...s.staticMappings.values()].map((m) => ({
      tag: m.tag,
      external_ip_address: m.external_ip_address,
      external_port: m.external_port,
      protocol: m.protocol,
      locals: m.locals.map((l) => ({ addr: l.addr, port: l.port, probability: l.probability })),
    })),
  bridge_domain_dump: (s, m) => {
    const only = filter(m, 'bd_id');
    const out = [];
    const bds = only === null ? s.bridgeDomains.values() : [s.bridgeDomains.get(only)];
    for (const bd of bds) {
      if (!bd) continue;
      out.push({
        bd_id: bd.bd_id,
        bd_tag: bd.bd_tag,
        flood: bd.flood,
        forward: bd.forward,
        learn: bd.learn,
        bvi_sw_if_index: s.bviOf(bd.bd_id) ?? NO_INTERFACE,
        sw_if_details: s.members(bd.bd_id).map((i) => ({ sw_if_index: i.sw_if_index })),
      });
    }
    return out;
  },
});
