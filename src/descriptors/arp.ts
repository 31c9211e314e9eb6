import type { Value } from '../api/values.js';
import type { Descriptor, RetrieveContext, RetrievedValue } from '../scheduler/descriptor.js';
import { InvalidValueError } from '../scheduler/errors.js';
import { ARP_PREFIX, INTERFACE_PREFIX, arpKey, interfaceKey } from './keys.js';
import { FieldReader } from './value-checks.js';

/** The normalized ARP (IP neighbor) entry. */
export interface ArpValue {
  readonly interface: string;
  readonly ipAddress: string;
  readonly physAddress: string;
  readonly static: boolean;
}

/** `ip_neighbor_add_del.neighbor.flags`: bit 0 = static. */
const NEIGHBOR_FLAG_STATIC = 1;

function asArp(v: Value): ArpValue {
  return v as unknown as ArpValue;
}

function neighbor(v: ArpValue, isAdd: boolean, md: { get(key: string): number | undefined }): Record<string, unknown> {
  const sw = md.get(interfaceKey(v.interface));
  if (sw === undefined) throw new Error(`no sw_if_index known for interface ${v.interface}`);
  return {
    is_add: isAdd,
    neighbor: { sw_if_index: sw, ip_address: v.ipAddress, mac_address: v.physAddress, flags: v.static ? NEIGHBOR_FLAG_STATIC : 0 },
  };
}

/** ARP / IP neighbor entries (ip_neighbor_add_del). Any change is a re-create. */
export const arpDescriptor: Descriptor = {
  name: 'vpp-arp',
  keyPrefix: ARP_PREFIX,
  retrieveDependencies: ['vpp-interface'],
  droppedWithDependencies: true,

  validate(key, value) {
    const f = new FieldReader(key, value);
    const rest = key.slice(ARP_PREFIX.length);
    const slash = rest.indexOf('/');
    const out = {
      interface: f.name('interface', slash > 0 ? rest.slice(0, slash) : undefined),
      ipAddress: f.ip('ipAddress'),
      physAddress: f.mac('physAddress'),
      static: f.bool('static', false),
    };
    const canonical = arpKey(out.interface, out.ipAddress);
    if (canonical !== key) throw new InvalidValueError(key, `the key does not match the value (expected ${canonical})`);
    return out;
  },

  dependencies(_key, value) {
    return [interfaceKey(asArp(value).interface)];
  },

  // A valid entry's key is arpKey(interface, ipAddress).
  dependenciesOfKey(key) {
    const rest = key.slice(ARP_PREFIX.length);
    const slash = rest.indexOf('/');
    return slash > 0 ? [interfaceKey(rest.slice(0, slash))] : undefined;
  },

  create(_key, value, md) {
    return { requests: [{ name: 'ip_neighbor_add_del', fields: neighbor(asArp(value), true, md) }] };
  },

  delete(_key, value, md) {
    return [{ name: 'ip_neighbor_add_del', fields: neighbor(asArp(value), false, md) }];
  },

  async retrieve(ctx: RetrieveContext): Promise<RetrievedValue[]> {
    const out: RetrievedValue[] = [];
    for (const d of await ctx.dump('ip_neighbor_dump', {})) {
      const n = (d.neighbor ?? d) as { sw_if_index?: unknown; ip_address?: unknown; mac_address?: unknown; flags?: unknown };
      if (typeof n.sw_if_index !== 'number' || typeof n.ip_address !== 'string' || typeof n.mac_address !== 'string') continue;
      const ifKey = ctx.metadata.keyOf(INTERFACE_PREFIX, n.sw_if_index);
      if (!ifKey) continue;
      const iface = ifKey.slice(INTERFACE_PREFIX.length);
      const ip = n.ip_address.toLowerCase();
      out.push({
        key: arpKey(iface, ip),
        value: { interface: iface, ipAddress: ip, physAddress: n.mac_address.toLowerCase(), static: ((n.flags as number) & NEIGHBOR_FLAG_STATIC) !== 0 },
      });
    }
    return out;
  },
};
