import type { Value } from '../api/values.js';
import type { Descriptor, RetrieveContext, RetrievedValue } from '../scheduler/descriptor.js';
import { InvalidValueError } from '../scheduler/errors.js';
import { DNAT44_PREFIX, dnat44Key, nameOf } from './keys.js';
import { FieldReader } from './value-checks.js';

export const NAT_PROTOCOLS = ['TCP', 'UDP', 'ICMP'] as const;
export type NatProtocol = (typeof NAT_PROTOCOLS)[number];
const PROTO_NUMBER: Record<NatProtocol, number> = { TCP: 6, UDP: 17, ICMP: 1 };
const PROTO_NAME = new Map<number, NatProtocol>([
  [6, 'TCP'],
  [17, 'UDP'],
  [1, 'ICMP'],
]);

export interface LocalIpValue {
  readonly localIp: string;
  readonly localPort: number;
  readonly probability: number;
}

export interface StaticMappingValue {
  readonly externalIp: string;
  readonly externalPort: number;
  readonly protocol: NatProtocol;
  /** Sorted by address, then port. */
  readonly localIps: readonly LocalIpValue[];
}

/** The normalized DNAT44 value: mappings sorted by external address, port, protocol. */
export interface Dnat44Value {
  readonly label: string;
  readonly staticMappings: readonly StaticMappingValue[];
}

function asDnat(v: Value): Dnat44Value {
  return v as unknown as Dnat44Value;
}

function cmp(a: string | number, b: string | number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortMappings(ms: StaticMappingValue[]): StaticMappingValue[] {
  return ms.sort((a, b) => cmp(a.externalIp, b.externalIp) || cmp(a.externalPort, b.externalPort) || cmp(a.protocol, b.protocol));
}

function sortLocals(ls: LocalIpValue[]): LocalIpValue[] {
  return ls.sort((a, b) => cmp(a.localIp, b.localIp) || cmp(a.localPort, b.localPort));
}

function requests(v: Dnat44Value, isAdd: boolean): Array<{ name: string; fields: Record<string, unknown> }> {
  return v.staticMappings.map((m) => ({
    name: 'nat44_add_del_static_mapping',
    fields: {
      is_add: isAdd,
      tag: v.label,
      external_ip_address: m.externalIp,
      external_port: m.externalPort,
      protocol: PROTO_NUMBER[m.protocol],
      locals: m.localIps.map((l) => ({ addr: l.localIp, port: l.localPort, probability: l.probability })),
    },
  }));
}

/** DNAT44: static mappings (nat44_add_del_static_mapping, tag = label). Any change is a re-create. */
export const dnat44Descriptor: Descriptor = {
  name: 'vpp-dnat44',
  keyPrefix: DNAT44_PREFIX,

  validate(key, value) {
    const f = new FieldReader(key, value);
    const keyLabel = nameOf(key, DNAT44_PREFIX);
    if (keyLabel === '' || keyLabel.includes('/')) throw new InvalidValueError(key, 'the key must end with the DNAT label');
    const label = f.name('label', keyLabel);
    if (label !== keyLabel) f.fail('label', `"${keyLabel}" (the label in the key)`, label);
    const seen = new Set<string>();
    const staticMappings = f.array('staticMappings').map((raw, i) => {
      const m = new FieldReader(key, raw, `staticMappings[${i}].`);
      const localIps = m.array('localIps').map((lraw, j) => {
        const l = new FieldReader(key, lraw, `staticMappings[${i}].localIps[${j}].`);
        return { localIp: l.ipv4('localIp'), localPort: l.uint('localPort', 0, 65535), probability: l.uint('probability', 0, 255) };
      });
      if (localIps.length === 0) m.fail('localIps', 'at least one local address', []);
      const sm = { externalIp: m.ipv4('externalIp'), externalPort: m.uint('externalPort', 0, 65535), protocol: m.oneOf('protocol', NAT_PROTOCOLS, 'TCP'), localIps: sortLocals(localIps) };
      const id = `${sm.externalIp}/${sm.externalPort}/${sm.protocol}`;
      if (seen.has(id)) m.fail('externalIp', 'unique with externalPort and protocol', id);
      seen.add(id);
      return sm;
    });
    // An empty DNAT leaves no trace on the dataplane, so it could never be read back.
    if (staticMappings.length === 0) f.fail('staticMappings', 'at least one static mapping', []);
    return { label, staticMappings: sortMappings(staticMappings) };
  },

  dependencies() {
    return [];
  },

  dependenciesOfKey() {
    return [];
  },

  create(_key, value) {
    return { requests: requests(asDnat(value), true) };
  },

  delete(_key, value) {
    return requests(asDnat(value), false);
  },

  async retrieve(ctx: RetrieveContext): Promise<RetrievedValue[]> {
    const byLabel = new Map<string, StaticMappingValue[]>();
    for (const d of await ctx.dump('nat44_static_mapping_dump', {})) {
      if (typeof d.tag !== 'string' || d.tag === '' || d.tag.includes('/') || typeof d.external_ip_address !== 'string') continue;
      const protocol = PROTO_NAME.get(d.protocol as number);
      if (!protocol) continue;
      const locals = Array.isArray(d.locals) ? (d.locals as Array<Record<string, unknown>>) : [];
      const sm: StaticMappingValue = {
        externalIp: d.external_ip_address.toLowerCase(),
        externalPort: typeof d.external_port === 'number' ? d.external_port : 0,
        protocol,
        localIps: sortLocals(
          locals.map((l) => ({
            localIp: String(l.addr).toLowerCase(),
            localPort: typeof l.port === 'number' ? l.port : 0,
            probability: typeof l.probability === 'number' ? l.probability : 0,
          })),
        ),
      };
      let arr = byLabel.get(d.tag);
      if (!arr) byLabel.set(d.tag, (arr = []));
      arr.push(sm);
    }
    return [...byLabel].map(([label, ms]) => ({ key: dnat44Key(label), value: { label, staticMappings: sortMappings(ms) } }));
  },
};
