import type { Value } from '../api/values.js';
import type { Descriptor, RetrieveContext, RetrievedValue } from '../scheduler/descriptor.js';
import { InvalidValueError } from '../scheduler/errors.js';
import { YIELD_CHUNK, yieldToLoop } from '../scheduler/loop-yield.js';
import { INTERFACE_PREFIX, ROUTE_PREFIX, interfaceKey, routeKey, vrfTableKey } from './keys.js';
import { parseIPv4 } from './ipv4-text.js';
import { FieldReader, IPV4_HOST_BITS, NOT_IPV4_CIDR, ipv4Network, isIPv6, isNetworkAddress } from './value-checks.js';

/** The normalized route value. */
export interface RouteValue {
  readonly vrfId: number;
  /** A network address in CIDR form (host bits zero). */
  readonly dstNetwork: string;
  readonly nextHopAddr?: string;
  readonly outgoingInterface?: string;
  readonly weight: number;
  readonly preference: number;
}

/** "No interface" in a route path. */
export const NO_SW_IF_INDEX = 0xffffffff;

function asRoute(v: Value): RouteValue {
  return v as unknown as RouteValue;
}

function zeroAddr(dst: string): string {
  return isIPv6(dst) ? '::' : '0.0.0.0';
}

/** One path of the prefix, added (or replaced in place) or deleted on its own: VPP's multipath. */
function routeFields(v: RouteValue, isAdd: boolean, sw: number): Record<string, unknown> {
  return {
    is_add: isAdd,
    is_multipath: true,
    route: {
      table_id: v.vrfId,
      prefix: v.dstNetwork,
      paths: [{ sw_if_index: sw, nh: v.nextHopAddr ?? zeroAddr(v.dstNetwork), weight: v.weight, preference: v.preference }],
    },
  };
}

function outgoingIndex(v: RouteValue, md: { get(key: string): number | undefined }): number {
  if (!v.outgoingInterface) return NO_SW_IF_INDEX;
  const sw = md.get(interfaceKey(v.outgoingInterface));
  if (sw === undefined) throw new Error(`no sw_if_index known for interface ${v.outgoingInterface}`);
  return sw;
}

/**
 * Static routes (ip_route_add_del), one path per key: keys with the same destination and different
 * next hops or interfaces are paths of one prefix. The key holds everything but weight and
 * preference, so an update is one multipath add that replaces the path in place.
 */
export const routeDescriptor: Descriptor = {
  name: 'vpp-route',
  keyPrefix: ROUTE_PREFIX,
  retrieveDependencies: ['vpp-interface', 'vpp-vrf-table'],
  droppedWithDependencies: true,

  validate(key, value) {
    const f = new FieldReader(key, value);
    // IPv4 text is read once here (the common case, validated per put and per changed resync
    // entry); anything else takes the general readers.
    const rawDst = f.raw('dstNetwork');
    const net = typeof rawDst === 'string' ? ipv4Network(rawDst) : NOT_IPV4_CIDR;
    let dst: string;
    let dst6: boolean;
    if (net >= 0) {
      dst = rawDst as string;
      dst6 = false;
    } else {
      dst = f.cidr('dstNetwork');
      if (net === IPV4_HOST_BITS || !isNetworkAddress(dst)) f.fail('dstNetwork', 'a network address (host bits zero)', dst);
      dst6 = isIPv6(dst);
    }
    const out: Record<string, unknown> = { vrfId: f.uint('vrfId', 0), dstNetwork: dst };
    if (f.has('nextHopAddr') && f.raw('nextHopAddr') !== '') {
      const rawNh = f.raw('nextHopAddr');
      const nh4 = typeof rawNh === 'string' && parseIPv4(rawNh) >= 0;
      const nh = nh4 ? (rawNh as string) : f.ip('nextHopAddr');
      if ((!nh4 && isIPv6(nh)) !== dst6) f.fail('nextHopAddr', 'of the same address family as dstNetwork', nh);
      // The zero address is VPP's "no next hop" (a dump reports none): the same as leaving it out.
      if (nh !== zeroAddr(dst)) out.nextHopAddr = nh;
    }
    if (f.has('outgoingInterface') && f.raw('outgoingInterface') !== '') out.outgoingInterface = f.name('outgoingInterface');
    // VPP stores a weight of 0 as 1 (and protobuf leaves 0 out): the same value, read back as 1.
    out.weight = f.uint('weight', 1, 255) || 1;
    out.preference = f.uint('preference', 0, 255);
    const canonical = routeKey(out as unknown as RouteValue);
    if (canonical !== key) throw new InvalidValueError(key, `the key does not match the value (expected ${canonical})`);
    // A path needs somewhere to go: the dataplane would take one with neither, but its dump cannot
    // tell it from the routes the dataplane makes itself, so it could never be read back or removed.
    if (out.nextHopAddr === undefined && out.outgoingInterface === undefined) f.fail('outgoingInterface', 'an interface name, or a nextHopAddr', undefined);
    return out;
  },

  dependencies(_key, value) {
    const v = asRoute(value);
    const deps: string[] = [];
    if (v.outgoingInterface) deps.push(interfaceKey(v.outgoingInterface));
    if (v.vrfId !== 0) deps.push(vrfTableKey(v.vrfId, isIPv6(v.dstNetwork) ? 'IPV6' : 'IPV4'));
    return deps;
  },

  // A valid route's key is routeKey(value): `[if/<name>/]vrf/<id>/dst/<network>[/gw/<next hop>]`.
  dependenciesOfKey(key) {
    let rest = key.slice(ROUTE_PREFIX.length);
    const deps: string[] = [];
    if (rest.startsWith('if/')) {
      const end = rest.indexOf('/', 3);
      if (end <= 3) return undefined;
      deps.push(interfaceKey(rest.slice(3, end)));
      rest = rest.slice(end + 1);
    }
    const m = /^vrf\/(\d+)\/dst\/([^/]+\/\d+)(?:\/gw\/[^/]+)?$/.exec(rest);
    if (m === null) return undefined;
    const vrfId = Number(m[1]);
    if (vrfId !== 0) deps.push(vrfTableKey(vrfId, isIPv6(m[2] as string) ? 'IPV6' : 'IPV4'));
    return deps;
  },

  create(_key, value, md) {
    const v = asRoute(value);
    return { requests: [{ name: 'ip_route_add_del', fields: routeFields(v, true, outgoingIndex(v, md)) }] };
  },

  update(_key, _oldValue, newValue, md) {
    const v = asRoute(newValue);
    return [{ name: 'ip_route_add_del', fields: routeFields(v, true, outgoingIndex(v, md)) }];
  },

  delete(_key, value, md) {
    const v = asRoute(value);
    return [{ name: 'ip_route_add_del', fields: routeFields(v, false, outgoingIndex(v, md)) }];
  },

  async retrieve(ctx: RetrieveContext): Promise<RetrievedValue[]> {
    const tables: Array<{ table_id: number; is_ip6: boolean }> = [
      { table_id: 0, is_ip6: false },
      { table_id: 0, is_ip6: true },
    ];
    for (const d of await ctx.dump('ip_table_dump', {})) {
      const t = d.table as { table_id?: unknown; is_ip6?: unknown } | undefined;
      if (t && typeof t.table_id === 'number' && t.table_id !== 0) tables.push({ table_id: t.table_id, is_ip6: t.is_ip6 === true });
    }
    const out: RetrievedValue[] = [];
    const seen = new Set<string>();
    let n = 0;
    for (const table of tables) {
      for (const d of await ctx.dump('ip_route_dump', { table })) {
        // A big table is read in chunks: the event loop runs between them (a full resync of 10⁵ routes).
        if (++n % YIELD_CHUNK === 0) await yieldToLoop();
        const r = (d.route ?? d) as { table_id?: unknown; prefix?: unknown; paths?: unknown };
        if (typeof r.prefix !== 'string' || !Array.isArray(r.paths)) continue;
        const vrfId = typeof r.table_id === 'number' ? r.table_id : table.table_id;
        for (const p of r.paths as Array<Record<string, unknown>>) {
          const sw = typeof p.sw_if_index === 'number' ? p.sw_if_index : NO_SW_IF_INDEX;
          let outgoingInterface: string | undefined;
          if (sw !== NO_SW_IF_INDEX) {
            const ifKey = ctx.metadata.keyOf(INTERFACE_PREFIX, sw);
            if (!ifKey) continue; // a path through an interface we do not manage is not ours
            outgoingInterface = ifKey.slice(INTERFACE_PREFIX.length);
          }
          const nh = typeof p.nh === 'string' && p.nh !== '0.0.0.0' && p.nh !== '::' && p.nh !== '' ? p.nh.toLowerCase() : undefined;
          if (!outgoingInterface && !nh) continue; // neither interface nor next hop: a dataplane default
          const v: Record<string, unknown> = { vrfId, dstNetwork: r.prefix.toLowerCase() };
          if (nh) v.nextHopAddr = nh;
          if (outgoingInterface) v.outgoingInterface = outgoingInterface;
          v.weight = typeof p.weight === 'number' ? p.weight : 1;
          v.preference = typeof p.preference === 'number' ? p.preference : 0;
          const key = routeKey(v as unknown as RouteValue);
          if (seen.has(key)) continue;
          seen.add(key);
          out.push({ key, value: v });
        }
      }
    }
    return out;
  },
};
