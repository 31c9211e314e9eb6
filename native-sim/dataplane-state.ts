import type { AclRule } from '../src/binapi/messages.js';
import { VppRetval } from '../src/binapi/retval.js';
import { FieldError } from './field-readers.js';
import { RouteTable, type SimPath, type SimRoute } from './route-table.js';

/** VPP's L2_BD_ID_MAX: bridge domain ids are 24 bits. */
const BD_ID_MAX = 0xffffff;

export type { SimPath, SimRoute } from './route-table.js';

/** `~0`: "no interface" in paths and filters. */
export const NO_INTERFACE = 0xffffffff;
const MIN_MTU = 64;
const MAX_MTU = 65535;

export type InterfaceKind = 'local' | 'loopback' | 'tap' | 'memif';

export interface SimInterface {
  readonly sw_if_index: number;
  readonly name: string;
  readonly kind: InterfaceKind;
  /** VPP `interface_dev_type`. */
  readonly dev_type: string;
  readonly tag: string;
  flags: number;
  mtu: number;
  mac: string;
  vrf4: number;
  vrf6: number;
  /** sw_if_index whose addresses this interface borrows, or NO_INTERFACE. */
  unnumbered: number;
  /** Canonical prefixes, insertion ordered. */
  readonly addresses: Set<string>;
  readonly host_if_name: string;
  /** tap id, or memif id. */
  readonly id: number;
  readonly socket_id: number;
  readonly role: string;
  bd: { bd_id: number; port_type: number } | null;
}

export interface SimTable {
  readonly table_id: number;
  readonly is_ip6: boolean;
  name: string;
}

export interface SimNeighbor {
  readonly sw_if_index: number;
  readonly ip_address: string;
  readonly is_ip6: boolean;
  readonly mac_address: string;
  readonly flags: number;
}

export interface SimAcl {
  readonly acl_index: number;
  tag: string;
  r: AclRule[];
}

export interface SimAclBinding {
  readonly sw_if_index: number;
  readonly n_input: number;
  readonly acls: readonly number[];
}

export interface SimStaticMapping {
  readonly tag: string;
  readonly external_ip_address: string;
  readonly external_port: number;
  readonly protocol: number;
  readonly locals: ReadonlyArray<{ addr: string; port: number; probability: number }>;
}

export interface SimBridgeDomain {
  readonly bd_id: number;
  readonly bd_tag: string;
  readonly flood: boolean;
  readonly forward: boolean;
  readonly learn: boolean;
}

function fail(retval: number, message: string): never {
  throw new FieldError(retval, message);
}

function tableKey(tableId: number, ip6: boolean): string {
  return `${ip6 ? 6 : 4}:${tableId}`;
}

/**
 * The simulated dataplane's state: plain data plus the VPP-like rules that guard it. Every method
 * either applies a change completely or throws a FieldError (with the retval) and changes nothing.
 */
export class DataplaneState {
  readonly interfaces = new Map<number, SimInterface>();
  readonly tables = new Map<string, SimTable>();
  /** Every table's routes (prefix → paths). */
  readonly routes = new RouteTable();
  /** key: `sw_if_index:ip`. */
  readonly neighbors = new Map<string, SimNeighbor>();
  readonly acls = new Map<number, SimAcl>();
  readonly aclBindings = new Map<number, SimAclBinding>();
  /** key: `external_ip:port:protocol`. */
  readonly staticMappings = new Map<string, SimStaticMapping>();
  readonly bridgeDomains = new Map<number, SimBridgeDomain>();
  #nextSwIfIndex = 0;
  #nextLoopInstance = 0;
  #nextAclIndex = 0;
  // Indexes so that no per-message rule scans the whole state (big resyncs hold 10^5+ objects).
  /** tag → sw_if_index (non-empty tags only). */
  readonly #byTag = new Map<string, number>();
  /** tap id → sw_if_index. */
  readonly #tapIds = new Map<number, number>();
  /** No tap id below this is free: the lowest free id is found without rescanning from 0. */
  #tapIdFloor = 0;
  readonly #tapHosts = new Set<string>();
  /** `socket_id/id` of existing memifs. */
  readonly #memifs = new Set<string>();
  /** sw_if_index → keys of its neighbors. */
  readonly #neighborsByIf = new Map<number, Set<string>>();
  /** sw_if_index → interfaces unnumbered to it. */
  readonly #unnumberedTo = new Map<number, Set<SimInterface>>();
  /** table key → how many interfaces are bound to it. */
  readonly #tableUsers = new Map<string, number>();
  /** acl_index → how many bindings name it. */
  readonly #aclUsers = new Map<number, number>();
  /** bd_id → its member interfaces, insertion ordered. */
  readonly #bdMembers = new Map<number, Set<SimInterface>>();
  /** bd_id → its BVI. */
  readonly #bvi = new Map<number, SimInterface>();

  constructor() {
    this.#addInterface({ kind: 'local', name: 'local0', dev_type: 'local', tag: '', mac: '00:00:00:00:00:00', mtu: 0 });
    this.tables.set(tableKey(0, false), { table_id: 0, is_ip6: false, name: 'ipv4-VRF:0' });
    this.tables.set(tableKey(0, true), { table_id: 0, is_ip6: true, name: 'ipv6-VRF:0' });
  }

  #addInterface(spec: {
    kind: InterfaceKind;
    name: string;
    dev_type: string;
    tag: string;
    mac: string;
    mtu: number;
    host_if_name?: string;
    id?: number;
    socket_id?: number;
    role?: string;
  }): SimInterface {
    const sw_if_index = this.#nextSwIfIndex++;
    const iface: SimInterface = {
      sw_if_index,
      name: spec.name,
      kind: spec.kind,
      dev_type: spec.dev_type,
      tag: spec.tag,
      flags: 0,
      mtu: spec.mtu,
      mac: spec.mac || generatedMac(sw_if_index),
      vrf4: 0,
      vrf6: 0,
      unnumbered: NO_INTERFACE,
      addresses: new Set(),
      host_if_name: spec.host_if_name ?? '',
      id: spec.id ?? 0,
      socket_id: spec.socket_id ?? 0,
      role: spec.role ?? '',
      bd: null,
    };
    this.interfaces.set(sw_if_index, iface);
    if (iface.tag !== '') this.#byTag.set(iface.tag, sw_if_index);
    this.#useTable(tableKey(0, false), 1);
    this.#useTable(tableKey(0, true), 1);
    return iface;
  }

  #useTable(key: string, delta: number): void {
    const n = (this.#tableUsers.get(key) ?? 0) + delta;
    if (n === 0) this.#tableUsers.delete(key);
    else this.#tableUsers.set(key, n);
  }

  /** The sw_if_index of the interface with this (non-empty) tag, if any. */
  byTag(tag: string): number | undefined {
    return tag === '' ? undefined : this.#byTag.get(tag);
  }

  /** The routes of one table. */
  routesOf(tableId: number, ip6: boolean): Iterable<SimRoute> {
    return this.routes.routesOf(tableId, ip6);
  }

  /** The neighbors on one interface. */
  neighborsOn(sw_if_index: number): Iterable<SimNeighbor> {
    const keys = this.#neighborsByIf.get(sw_if_index);
    if (!keys) return [];
    const out: SimNeighbor[] = [];
    for (const k of keys) out.push(this.neighbors.get(k)!);
    return out;
  }

  interface(sw_if_index: number): SimInterface {
    const iface = this.interfaces.get(sw_if_index);
    if (!iface) fail(VppRetval.INVALID_SW_IF_INDEX, `no interface with sw_if_index ${sw_if_index}`);
    return iface;
  }

  #checkTag(tag: string): void {
    if (tag !== '' && this.#byTag.has(tag)) fail(VppRetval.VIF_ALREADY_EXISTS, `an interface is already tagged "${tag}"`);
  }

  createLoopback(mac: string, tag: string): number {
    this.#checkTag(tag);
    const instance = this.#nextLoopInstance++;
    return this.#addInterface({ kind: 'loopback', name: `loop${instance}`, dev_type: 'loopback', tag, mac, mtu: 9000 })
      .sw_if_index;
  }

  createTap(spec: { id: number | undefined; mac: string; host_if_name: string; mtu: number; tag: string }): number {
    this.#checkTag(spec.tag);
    if (spec.mtu !== 0) checkMtu(spec.mtu);
    let id = spec.id;
    if (id === undefined || id === NO_INTERFACE) {
      while (this.#tapIds.has(this.#tapIdFloor)) this.#tapIdFloor++;
      id = this.#tapIdFloor;
    } else if (this.#tapIds.has(id)) {
      fail(VppRetval.VIF_ALREADY_EXISTS, `tap id ${id} already exists`);
    }
    const host = spec.host_if_name || `tap${id}`;
    if (this.#tapHosts.has(host)) fail(VppRetval.VIF_ALREADY_EXISTS, `host interface "${host}" already exists`);
    const iface = this.#addInterface({
      kind: 'tap',
      name: `tap${id}`,
      dev_type: 'virtio',
      tag: spec.tag,
      mac: spec.mac,
      mtu: spec.mtu || 1500,
      host_if_name: host,
      id,
    });
    this.#tapIds.set(id, iface.sw_if_index);
    this.#tapHosts.add(host);
    return iface.sw_if_index;
  }

  createMemif(spec: { role: string; id: number; socket_id: number; mac: string; tag: string }): number {
    if (spec.role !== 'master' && spec.role !== 'slave') fail(VppRetval.INVALID_VALUE, `memif role "${spec.role}"`);
    this.#checkTag(spec.tag);
    const memifKey = `${spec.socket_id}/${spec.id}`;
    if (this.#memifs.has(memifKey)) fail(VppRetval.VIF_ALREADY_EXISTS, `memif${memifKey} already exists`);
    this.#memifs.add(memifKey);
    return this.#addInterface({
      kind: 'memif',
      name: `memif${spec.socket_id}/${spec.id}`,
      dev_type: 'memif',
      tag: spec.tag,
      mac: spec.mac,
      mtu: 9000,
      id: spec.id,
      socket_id: spec.socket_id,
      role: spec.role,
    }).sw_if_index;
  }

  deleteInterface(sw_if_index: number, kind: InterfaceKind): void {
    const iface = this.interface(sw_if_index);
    if (iface.kind !== kind) fail(VppRetval.INVALID_SW_IF_INDEX, `sw_if_index ${sw_if_index} is not a ${kind} interface`);
    // Like VPP, deleting an interface takes with it everything that hangs on it.
    for (const key of this.#neighborsByIf.get(sw_if_index) ?? []) this.neighbors.delete(key);
    this.#neighborsByIf.delete(sw_if_index);
    this.routes.dropInterface(sw_if_index);
    this.#unbindAcls(sw_if_index);
    for (const other of this.#unnumberedTo.get(sw_if_index) ?? []) other.unnumbered = NO_INTERFACE;
    this.#unnumberedTo.delete(sw_if_index);
    if (iface.unnumbered !== NO_INTERFACE) this.#unnumberedTo.get(iface.unnumbered)?.delete(iface);
    if (iface.bd) this.#leaveBd(iface);
    this.#useTable(tableKey(iface.vrf4, false), -1);
    this.#useTable(tableKey(iface.vrf6, true), -1);
    if (iface.tag !== '') this.#byTag.delete(iface.tag);
    if (kind === 'tap') {
      this.#tapIds.delete(iface.id);
      this.#tapHosts.delete(iface.host_if_name);
      if (iface.id < this.#tapIdFloor) this.#tapIdFloor = iface.id;
    } else if (kind === 'memif') {
      this.#memifs.delete(`${iface.socket_id}/${iface.id}`);
    }
    this.interfaces.delete(sw_if_index);
  }

  #unbindAcls(sw_if_index: number): void {
    const old = this.aclBindings.get(sw_if_index);
    if (!old) return;
    for (const a of old.acls) {
      const n = (this.#aclUsers.get(a) ?? 1) - 1;
      if (n === 0) this.#aclUsers.delete(a);
      else this.#aclUsers.set(a, n);
    }
    this.aclBindings.delete(sw_if_index);
  }

  setFlags(sw_if_index: number, flags: number): void {
    this.interface(sw_if_index).flags = flags;
  }

  setMtu(sw_if_index: number, mtu: number): void {
    const iface = this.interface(sw_if_index);
    checkMtu(mtu);
    iface.mtu = mtu;
  }

  setMac(sw_if_index: number, mac: string): void {
    this.interface(sw_if_index).mac = mac;
  }

  setTable(sw_if_index: number, is_ipv6: boolean, vrf_id: number): void {
    const iface = this.interface(sw_if_index);
    if (!this.tables.has(tableKey(vrf_id, is_ipv6))) {
      fail(VppRetval.NO_SUCH_FIB, `no IPv${is_ipv6 ? 6 : 4} table ${vrf_id}`);
    }
    // As in VPP's ip_table_bind: a table change with addresses of that family present (own or, when
    // unnumbered, borrowed) is refused; they must be removed first.
    if (vrf_id !== (is_ipv6 ? iface.vrf6 : iface.vrf4) && this.#hasAddress(iface, is_ipv6)) {
      fail(VppRetval.ADDRESS_FOUND_FOR_INTERFACE, `IPv${is_ipv6 ? 6 : 4} addresses are still present on sw_if_index ${sw_if_index}`);
    }
    this.#useTable(tableKey(is_ipv6 ? iface.vrf6 : iface.vrf4, is_ipv6), -1);
    this.#useTable(tableKey(vrf_id, is_ipv6), 1);
    if (is_ipv6) iface.vrf6 = vrf_id;
    else iface.vrf4 = vrf_id;
  }

  #hasAddress(iface: SimInterface, ipv6: boolean): boolean {
    const from = iface.unnumbered !== NO_INTERFACE ? this.interfaces.get(iface.unnumbered) : iface;
    for (const a of from?.addresses ?? []) if (a.includes(':') === ipv6) return true;
    return false;
  }

  setUnnumbered(sw_if_index: number, unnumbered_sw_if_index: number, is_add: boolean): void {
    this.interface(sw_if_index);
    const target = this.interface(unnumbered_sw_if_index);
    if (sw_if_index === unnumbered_sw_if_index) fail(VppRetval.INVALID_VALUE, 'an interface cannot be unnumbered to itself');
    if (is_add) {
      if (target.unnumbered !== NO_INTERFACE) this.#unnumberedTo.get(target.unnumbered)?.delete(target);
      target.unnumbered = sw_if_index;
      let set = this.#unnumberedTo.get(sw_if_index);
      if (!set) this.#unnumberedTo.set(sw_if_index, (set = new Set()));
      set.add(target);
    } else if (target.unnumbered === sw_if_index) {
      target.unnumbered = NO_INTERFACE;
      this.#unnumberedTo.get(sw_if_index)?.delete(target);
    } else fail(VppRetval.NO_SUCH_ENTRY, `sw_if_index ${unnumbered_sw_if_index} is not unnumbered to ${sw_if_index}`);
  }

  addDelAddress(sw_if_index: number, is_add: boolean, prefixKey: string): void {
    const iface = this.interface(sw_if_index);
    if (is_add) {
      if (iface.addresses.has(prefixKey)) fail(VppRetval.VALUE_EXIST, `address ${prefixKey} already on sw_if_index ${sw_if_index}`);
      iface.addresses.add(prefixKey);
    } else if (!iface.addresses.delete(prefixKey)) {
      fail(VppRetval.ADDRESS_NOT_FOUND_FOR_INTERFACE, `address ${prefixKey} not on sw_if_index ${sw_if_index}`);
    }
  }

  addDelTable(is_add: boolean, table_id: number, is_ip6: boolean, name: string): void {
    const key = tableKey(table_id, is_ip6);
    const existing = this.tables.get(key);
    if (is_add) {
      // VPP treats adding an existing table as success (it only takes another lock).
      if (existing) {
        if (name) existing.name = name;
        return;
      }
      this.tables.set(key, { table_id, is_ip6, name: name || `ipv${is_ip6 ? 6 : 4}-VRF:${table_id}` });
      return;
    }
    if (table_id === 0) fail(VppRetval.INVALID_VALUE, 'table 0 cannot be deleted');
    if (!existing) fail(VppRetval.NO_SUCH_ENTRY, `no IPv${is_ip6 ? 6 : 4} table ${table_id}`);
    if (this.#tableUsers.has(key)) {
      const user = [...this.interfaces.values()].find((i) => (is_ip6 ? i.vrf6 : i.vrf4) === table_id);
      fail(VppRetval.INVALID_VALUE, `table ${table_id} is still used by sw_if_index ${user?.sw_if_index}`);
    }
    this.routes.dropTable(table_id, is_ip6);
    this.tables.delete(key);
  }

  /**
   * `ip_route_add_del`. With `multipath` each path is added (or, when the prefix has the same path
   * already, its weight and preference replaced in place) or deleted on its own, and the prefix goes
   * with its last path; without it the route is added or deleted whole, as before.
   */
  addDelRoute(is_add: boolean, route: SimRoute, multipath = false): void {
    const { table_id, is_ip6, prefix, paths } = route;
    if (!this.tables.has(tableKey(table_id, is_ip6))) fail(VppRetval.NO_SUCH_FIB, `no IPv${is_ip6 ? 6 : 4} table ${table_id}`);
    if (!is_add) {
      if (multipath && paths.length > 0) {
        // All or nothing: every path must be there before any goes.
        for (const p of paths) {
          if (!this.routes.hasPath(table_id, is_ip6, prefix, p)) fail(VppRetval.NO_SUCH_ENTRY, `no path ${describePath(p)} of ${prefix} in table ${table_id}`);
        }
        for (const p of paths) this.routes.removePath(table_id, is_ip6, prefix, p);
      } else if (!this.routes.remove(table_id, is_ip6, prefix)) {
        fail(VppRetval.NO_SUCH_ENTRY, `no route ${prefix} in table ${table_id}`);
      }
      return;
    }
    for (const p of paths) if (p.sw_if_index !== NO_INTERFACE) this.interface(p.sw_if_index);
    if (multipath) {
      if (paths.length === 0) fail(VppRetval.INVALID_VALUE, `a multipath add of ${prefix} names no path`);
      for (const p of paths) this.routes.addPath(table_id, is_ip6, prefix, p);
    } else if (!this.routes.insert(table_id, is_ip6, prefix, paths)) {
      fail(VppRetval.ENTRY_ALREADY_EXISTS, `route ${prefix} exists in table ${table_id}`);
    }
  }

  addDelNeighbor(is_add: boolean, n: SimNeighbor): void {
    this.interface(n.sw_if_index);
    const key = `${n.sw_if_index}:${n.ip_address}`;
    if (!is_add) {
      if (!this.neighbors.delete(key)) fail(VppRetval.NO_SUCH_ENTRY, `no neighbor ${n.ip_address} on sw_if_index ${n.sw_if_index}`);
      this.#neighborsByIf.get(n.sw_if_index)?.delete(key);
      return;
    }
    if (this.neighbors.has(key)) fail(VppRetval.ENTRY_ALREADY_EXISTS, `neighbor ${n.ip_address} exists on sw_if_index ${n.sw_if_index}`);
    this.neighbors.set(key, n);
    let set = this.#neighborsByIf.get(n.sw_if_index);
    if (!set) this.#neighborsByIf.set(n.sw_if_index, (set = new Set()));
    set.add(key);
  }

  addReplaceAcl(acl_index: number, tag: string, rules: AclRule[]): number {
    if (acl_index === NO_INTERFACE) {
      const index = this.#nextAclIndex++;
      this.acls.set(index, { acl_index: index, tag, r: rules });
      return index;
    }
    const acl = this.acls.get(acl_index);
    if (!acl) fail(VppRetval.NO_SUCH_ENTRY, `no ACL ${acl_index}`);
    acl.tag = tag;
    acl.r = rules;
    return acl_index;
  }

  deleteAcl(acl_index: number): void {
    if (!this.acls.has(acl_index)) fail(VppRetval.NO_SUCH_ENTRY, `no ACL ${acl_index}`);
    if (this.#aclUsers.has(acl_index)) {
      // As VPP's acl_del_list: inbound use is checked first.
      const bindings = [...this.aclBindings.values()];
      const inbound = bindings.find((x) => x.acls.slice(0, x.n_input).includes(acl_index));
      const b = inbound ?? bindings.find((x) => x.acls.includes(acl_index));
      fail(inbound ? VppRetval.ACL_IN_USE_INBOUND : VppRetval.ACL_IN_USE_OUTBOUND, `ACL ${acl_index} is in use on sw_if_index ${b?.sw_if_index}`);
    }
    this.acls.delete(acl_index);
  }

  setAclList(sw_if_index: number, n_input: number, acls: readonly number[]): void {
    this.interface(sw_if_index);
    if (n_input > acls.length) fail(VppRetval.INVALID_VALUE, `n_input ${n_input} > ${acls.length} ACLs`);
    for (const a of acls) if (!this.acls.has(a)) fail(VppRetval.NO_SUCH_ENTRY, `no ACL ${a}`);
    this.#unbindAcls(sw_if_index);
    if (acls.length === 0) return;
    this.aclBindings.set(sw_if_index, { sw_if_index, n_input, acls: [...acls] });
    for (const a of acls) this.#aclUsers.set(a, (this.#aclUsers.get(a) ?? 0) + 1);
  }

  addDelStaticMapping(is_add: boolean, m: SimStaticMapping): void {
    const key = `${m.external_ip_address}:${m.external_port}:${m.protocol}`;
    if (!is_add) {
      if (!this.staticMappings.delete(key)) fail(VppRetval.NO_SUCH_ENTRY, `no static mapping ${key}`);
      return;
    }
    if (this.staticMappings.has(key)) fail(VppRetval.VALUE_EXIST, `static mapping ${key} exists`);
    this.staticMappings.set(key, m);
  }

  /** As VPP's bd_add_del: bridge domain 0 always exists (and is not dumped); one in use is not deleted. */
  addDelBridgeDomain(is_add: boolean, bd: SimBridgeDomain): void {
    const exists = bd.bd_id === 0 || this.bridgeDomains.has(bd.bd_id);
    if (!is_add) {
      if (!exists) fail(VppRetval.NO_SUCH_ENTRY, `no bridge domain ${bd.bd_id}`);
      if (bd.bd_id === 0) fail(VppRetval.BD_NOT_MODIFIABLE, 'bridge domain 0 cannot be deleted');
      if ((this.#bdMembers.get(bd.bd_id)?.size ?? 0) > 0) fail(VppRetval.BD_IN_USE, `bridge domain ${bd.bd_id} has member interfaces`);
      this.bridgeDomains.delete(bd.bd_id);
      this.#bdMembers.delete(bd.bd_id);
      return;
    }
    if (exists) fail(VppRetval.BD_ALREADY_EXISTS, `bridge domain ${bd.bd_id} exists`);
    if (bd.bd_id > BD_ID_MAX) fail(VppRetval.BD_ID_EXCEED_MAX, `bd_id ${bd.bd_id} is above ${BD_ID_MAX}`);
    this.bridgeDomains.set(bd.bd_id, bd);
  }

  setL2Bridge(sw_if_index: number, bd_id: number, enable: boolean, port_type: number): void {
    const iface = this.interface(sw_if_index);
    if (!enable) {
      // As VPP: the interface goes back to L3 mode, which it may be in already.
      this.#leaveBd(iface);
      return;
    }
    if (!this.bridgeDomains.has(bd_id)) fail(VppRetval.NO_SUCH_ENTRY, `no bridge domain ${bd_id}`);
    if (port_type !== 0 && port_type !== 1) fail(VppRetval.INVALID_VALUE, `port_type ${port_type}`);
    const bvi = this.#bvi.get(bd_id);
    if (port_type === 1 && bvi !== undefined && bvi !== iface) fail(VppRetval.VALUE_EXIST, `bridge domain ${bd_id} already has a BVI`);
    if (iface.bd) this.#leaveBd(iface);
    iface.bd = { bd_id, port_type };
    let members = this.#bdMembers.get(bd_id);
    if (!members) this.#bdMembers.set(bd_id, (members = new Set()));
    members.add(iface);
    if (port_type === 1) this.#bvi.set(bd_id, iface);
  }

  #leaveBd(iface: SimInterface): void {
    if (!iface.bd) return;
    const bd_id = iface.bd.bd_id;
    this.#bdMembers.get(bd_id)?.delete(iface);
    if (this.#bvi.get(bd_id) === iface) this.#bvi.delete(bd_id);
    iface.bd = null;
  }

  /** Members of a bridge domain, ordered by sw_if_index (as a scan of the interfaces would give). */
  /** The sw_if_index of the bridge domain's BVI, if it has one. */
  bviOf(bd_id: number): number | undefined {
    return this.#bvi.get(bd_id)?.sw_if_index;
  }

  members(bd_id: number): SimInterface[] {
    const set = this.#bdMembers.get(bd_id);
    return set ? [...set].sort((a, b) => a.sw_if_index - b.sw_if_index) : [];
  }
}

function describePath(p: SimPath): string {
  return `via ${p.nh || '-'} sw_if_index ${p.sw_if_index === NO_INTERFACE ? '~0' : p.sw_if_index}`;
}

function checkMtu(mtu: number): void {
  if (mtu < MIN_MTU || mtu > MAX_MTU) fail(VppRetval.INVALID_VALUE, `mtu ${mtu} out of range ${MIN_MTU}..${MAX_MTU}`);
}

/** A locally administered MAC derived from the sw_if_index, as VPP derives one for loopbacks. */
function generatedMac(sw_if_index: number): string {
  const b = [0x02, 0xfe, (sw_if_index >>> 24) & 0xff, (sw_if_index >>> 16) & 0xff, (sw_if_index >>> 8) & 0xff, sw_if_index & 0xff];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}
