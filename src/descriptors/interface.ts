import type { Value } from '../api/values.js';
import { ALL_INTERFACES, IF_STATUS_API_FLAG_ADMIN_UP } from '../binapi/messages.js';
import type { BinapiRequest } from '../scheduler/binapi-client.js';
import type { CreatePlan, Descriptor, RetrieveContext, RetrievedValue } from '../scheduler/descriptor.js';
import { InvalidValueError } from '../scheduler/errors.js';
import type { MetadataReader } from '../scheduler/metadata-store.js';
import { INTERFACE_PREFIX, interfaceKey, nameOf, vrfTableKey } from './keys.js';
import { FieldReader, isIPv6, sortedUnique } from './value-checks.js';

/** The smallest MTU VPP takes for an interface. */
const MIN_MTU = 64;

export const INTERFACE_TYPES = ['SOFTWARE_LOOPBACK', 'TAP', 'MEMIF'] as const;
export type InterfaceType = (typeof INTERFACE_TYPES)[number];

/** The normalized interface value (ligato vpp.interfaces.Interface, the fields we model). */
export interface InterfaceValue {
  readonly name: string;
  readonly type: InterfaceType;
  readonly enabled: boolean;
  readonly physAddress?: string;
  /** CIDRs, sorted, no duplicates. */
  readonly ipAddresses: readonly string[];
  readonly vrf: number;
  readonly mtu?: number;
  readonly unnumbered?: { readonly interfaceWithIp: string };
  /**
   * Retrieved only (validate drops it): the IPv6 table the interface is bound to when the other
   * fields do not imply it, e.g. a create or update that failed between sw_interface_set_table and
   * the IPv6 address left it bound without one. The value then still depends on that table, so
   * the table is not deleted (VPP: in use) before the interface leaves it.
   */
  readonly ipv6Vrf?: number;
}

/** The allocation pool of memif ids (not a key prefix of any kind). */
const MEMIF_ID_POOL = 'memif-id/';
/** VPP names a memif `memif<socket_id>/<id>`. */
const MEMIF_NAME = /^memif\d+\/(\d+)$/;

const CREATE: Record<InterfaceType, string> = { SOFTWARE_LOOPBACK: 'create_loopback', TAP: 'tap_create_v3', MEMIF: 'memif_create' };
const DELETE: Record<InterfaceType, string> = { SOFTWARE_LOOPBACK: 'delete_loopback', TAP: 'tap_delete_v3', MEMIF: 'memif_delete' };
const DEV_TYPE: Record<string, InterfaceType> = { loopback: 'SOFTWARE_LOOPBACK', virtio: 'TAP', tap: 'TAP', memif: 'MEMIF' };

function swIfIndex(md: MetadataReader, key: string): number {
  const i = md.get(key);
  if (i === undefined) throw new Error(`no sw_if_index known for ${key}`);
  return i;
}

function asIf(v: Value): InterfaceValue {
  return v as unknown as InterfaceValue;
}

/** The IPv6 table a value binds the interface to: its VRF's while it has IPv6 addresses, else 0. */
function impliedIpv6Vrf(v: Pick<InterfaceValue, 'vrf' | 'ipAddresses'>): number {
  return v.vrf !== 0 && v.ipAddresses.some(isIPv6) ? v.vrf : 0;
}

function tableRequests(sw: number, v: InterfaceValue): BinapiRequest[] {
  const out: BinapiRequest[] = [{ name: 'sw_interface_set_table', fields: { sw_if_index: sw, is_ipv6: false, vrf_id: v.vrf } }];
  if (v.ipAddresses.some(isIPv6)) out.push({ name: 'sw_interface_set_table', fields: { sw_if_index: sw, is_ipv6: true, vrf_id: v.vrf } });
  return out;
}

/** VPP interfaces: loopback, TAP, memif, with their addresses, VRF, MTU, MAC, unnumbered and admin state. */
export const interfaceDescriptor: Descriptor = {
  name: 'vpp-interface',
  keyPrefix: INTERFACE_PREFIX,

  validate(key, value) {
    const f = new FieldReader(key, value);
    const keyName = nameOf(key, INTERFACE_PREFIX);
    if (keyName === '' || keyName.includes('/')) throw new InvalidValueError(key, 'the key must end with the interface name');
    const name = f.name('name', keyName);
    if (name !== keyName) f.fail('name', `"${keyName}" (the name in the key)`, name);
    const out: Record<string, unknown> = {
      name,
      type: f.oneOf('type', INTERFACE_TYPES),
      enabled: f.bool('enabled', false),
    };
    if (f.has('physAddress')) out.physAddress = f.mac('physAddress');
    const addrs = f.array('ipAddresses').map((a, i) => f.cidr(`ipAddresses[${i}]`, a));
    out.ipAddresses = sortedUnique(addrs);
    out.vrf = f.uint('vrf', 0);
    const mtu = f.optUint('mtu', 65535);
    // 0 = the dataplane's default; below 64 VPP refuses it (INVALID_VALUE) after the interface is made.
    if (mtu !== undefined && mtu > 0 && mtu < MIN_MTU) f.fail('mtu', `0 (default) or ${MIN_MTU}..65535`, mtu);
    if (mtu !== undefined && mtu > 0) out.mtu = mtu;
    const un = f.object('unnumbered');
    if (un) {
      const withIp = un.name('interfaceWithIp');
      if (withIp === name) un.fail('interfaceWithIp', 'another interface', withIp);
      if (addrs.length > 0) f.fail('ipAddresses', 'empty for an unnumbered interface', addrs);
      out.unnumbered = { interfaceWithIp: withIp };
    }
    return out;
  },

  dependencies(_key, value) {
    const v = asIf(value);
    const deps: string[] = [];
    if (v.vrf !== 0) {
      deps.push(vrfTableKey(v.vrf, 'IPV4'));
      if (v.ipAddresses.some(isIPv6)) deps.push(vrfTableKey(v.vrf, 'IPV6'));
    }
    if (v.ipv6Vrf !== undefined && v.ipv6Vrf !== 0 && v.ipv6Vrf !== impliedIpv6Vrf(v)) deps.push(vrfTableKey(v.ipv6Vrf, 'IPV6'));
    if (v.unnumbered) deps.push(interfaceKey(v.unnumbered.interfaceWithIp));
    return deps;
  },

  needsRecreate(_key, a, b) {
    const o = asIf(a);
    const n = asIf(b);
    // VPP wants addresses gone before a table change; a removed MTU has no value to go back to.
    return o.type !== n.type || o.vrf !== n.vrf || (o.mtu !== undefined && n.mtu === undefined) || (o.physAddress !== undefined && n.physAddress === undefined);
  },

  create(_key, value, md): CreatePlan {
    const v = asIf(value);
    const fields: Record<string, unknown> = { tag: v.name };
    if (v.physAddress) fields.mac_address = v.physAddress;
    // memif (socket, id) pairs must be unique; the dataplane assigns tap ids itself.
    if (v.type === 'MEMIF') Object.assign(fields, { role: 'master', socket_id: 0, id: md.allocate(MEMIF_ID_POOL) });
    return { requests: [{ name: CREATE[v.type], fields }], capture: 'sw_if_index' };
  },

  configure(key, value, md) {
    const v = asIf(value);
    const sw = swIfIndex(md, key);
    const out: BinapiRequest[] = [];
    if (v.vrf !== 0) out.push(...tableRequests(sw, v));
    if (v.mtu !== undefined) out.push({ name: 'sw_interface_set_mtu', fields: { sw_if_index: sw, mtu: v.mtu } });
    for (const prefix of v.ipAddresses) out.push({ name: 'sw_interface_add_del_address', fields: { sw_if_index: sw, is_add: true, prefix } });
    if (v.unnumbered) {
      out.push({
        name: 'sw_interface_set_unnumbered',
        fields: { sw_if_index: swIfIndex(md, interfaceKey(v.unnumbered.interfaceWithIp)), unnumbered_sw_if_index: sw, is_add: true },
      });
    }
    if (v.enabled) out.push({ name: 'sw_interface_set_flags', fields: { sw_if_index: sw, flags: IF_STATUS_API_FLAG_ADMIN_UP } });
    return out;
  },

  update(key, oldValue, newValue, md) {
    const o = asIf(oldValue);
    const n = asIf(newValue);
    const sw = swIfIndex(md, key);
    const out: BinapiRequest[] = [];
    if (n.physAddress !== undefined && n.physAddress !== o.physAddress) {
      out.push({ name: 'sw_interface_set_mac_address', fields: { sw_if_index: sw, mac_address: n.physAddress } });
    }
    if (n.mtu !== undefined && n.mtu !== o.mtu) out.push({ name: 'sw_interface_set_mtu', fields: { sw_if_index: sw, mtu: n.mtu } });
    const ou = o.unnumbered?.interfaceWithIp;
    const nu = n.unnumbered?.interfaceWithIp;
    if (ou !== nu && ou !== undefined) {
      const withIp = md.get(interfaceKey(ou));
      if (withIp !== undefined) out.push({ name: 'sw_interface_set_unnumbered', fields: { sw_if_index: withIp, unnumbered_sw_if_index: sw, is_add: false } });
    }
    for (const prefix of o.ipAddresses) {
      if (!n.ipAddresses.includes(prefix)) out.push({ name: 'sw_interface_add_del_address', fields: { sw_if_index: sw, is_add: false, prefix } });
    }
    // Bound to the IPv6 table only while there are IPv6 addresses (the old ones removed above, the
    // new ones added below). The last one gone, the value no longer depends on that table: leave it,
    // or the table could never be deleted while the interface lives; the same for a binding a failed
    // operation left behind (ipv6Vrf).
    const had6 = o.ipv6Vrf ?? impliedIpv6Vrf(o);
    const want6 = impliedIpv6Vrf(n);
    if (had6 !== want6) out.push({ name: 'sw_interface_set_table', fields: { sw_if_index: sw, is_ipv6: true, vrf_id: want6 } });
    for (const prefix of n.ipAddresses) {
      if (!o.ipAddresses.includes(prefix)) out.push({ name: 'sw_interface_add_del_address', fields: { sw_if_index: sw, is_add: true, prefix } });
    }
    if (ou !== nu && nu !== undefined) {
      out.push({ name: 'sw_interface_set_unnumbered', fields: { sw_if_index: swIfIndex(md, interfaceKey(nu)), unnumbered_sw_if_index: sw, is_add: true } });
    }
    if (o.enabled !== n.enabled) {
      out.push({ name: 'sw_interface_set_flags', fields: { sw_if_index: sw, flags: n.enabled ? IF_STATUS_API_FLAG_ADMIN_UP : 0 } });
    }
    return out;
  },

  delete(key, value, md) {
    return [{ name: DELETE[asIf(value).type], fields: { sw_if_index: swIfIndex(md, key) } }];
  },

  async retrieve(ctx: RetrieveContext): Promise<RetrievedValue[]> {
    const details = await ctx.dump('sw_interface_dump', {});
    const tagByIndex = new Map<number, string>();
    for (const d of details) {
      if (typeof d.tag === 'string' && d.tag !== '' && typeof d.sw_if_index === 'number') tagByIndex.set(d.sw_if_index, d.tag);
    }
    // Memif ids in use (ours from before a restart, or not ours): never allocated again.
    for (const d of details) {
      const m = MEMIF_NAME.exec(String(d.interface_name));
      if (d.interface_dev_type === 'memif' && m) ctx.reserve?.(MEMIF_ID_POOL, Number(m[1]));
    }
    const mine = details.filter((d) => {
      const name = tagByIndex.get(d.sw_if_index as number);
      return name !== undefined && DEV_TYPE[String(d.interface_dev_type)] !== undefined && !name.includes('/');
    });
    // Two dumps for every interface's addresses (sw_if_index ~0), not two per interface.
    const addressesOf = new Map<number, Set<string>>();
    for (const is_ipv6 of [false, true]) {
      for (const a of await ctx.dump('ip_address_dump', { sw_if_index: ALL_INTERFACES, is_ipv6 })) {
        if (typeof a.prefix !== 'string' || typeof a.sw_if_index !== 'number') continue;
        let set = addressesOf.get(a.sw_if_index);
        if (!set) addressesOf.set(a.sw_if_index, (set = new Set()));
        set.add(a.prefix.toLowerCase());
      }
    }
    const out: RetrievedValue[] = [];
    for (const d of mine) {
      const sw = d.sw_if_index as number;
      const name = tagByIndex.get(sw) as string;
      const type = DEV_TYPE[String(d.interface_dev_type)] as InterfaceType;
      const key = interfaceKey(name);
      const hint = ctx.correlate(key) as Partial<InterfaceValue> | undefined;
      const v: Record<string, unknown> = { name, type, enabled: ((d.flags as number) & IF_STATUS_API_FLAG_ADMIN_UP) !== 0 };
      // The dataplane always reports a MAC and an MTU; they are ours only when we set them.
      if (hint?.physAddress !== undefined && typeof d.l2_address === 'string') v.physAddress = d.l2_address.toLowerCase();
      const unIndex = d.unnumbered_sw_if_index;
      const withIp = typeof unIndex === 'number' && unIndex !== sw ? tagByIndex.get(unIndex) : undefined;
      v.ipAddresses = withIp === undefined ? [...(addressesOf.get(sw) ?? [])].sort() : [];
      v.vrf = typeof d.vrf_id === 'number' ? d.vrf_id : 0;
      // A binding to an IPv6 table that the addresses and VRF do not imply (see ipv6Vrf).
      const vrf6 = typeof d.ip6_vrf_id === 'number' ? d.ip6_vrf_id : 0;
      if (vrf6 !== 0 && vrf6 !== impliedIpv6Vrf(v as Pick<InterfaceValue, 'vrf' | 'ipAddresses'>)) v.ipv6Vrf = vrf6;
      if (hint?.mtu !== undefined && typeof d.mtu === 'number') v.mtu = d.mtu;
      if (withIp !== undefined) v.unnumbered = { interfaceWithIp: withIp };
      out.push({ key, value: v, metadata: sw });
    }
    return out;
  },
};
