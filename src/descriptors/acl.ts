import type { Value } from '../api/values.js';
import { ACL_INDEX_NEW } from '../binapi/messages.js';
import type { BinapiRequest } from '../scheduler/binapi-client.js';
import type { Descriptor, RetrieveContext, RetrievedValue } from '../scheduler/descriptor.js';
import { InvalidValueError } from '../scheduler/errors.js';
import type { MetadataReader } from '../scheduler/metadata-store.js';
import { ACL_PREFIX, INTERFACE_PREFIX, aclKey, interfaceKey, nameOf } from './keys.js';
import type { FieldReader as Reader } from './value-checks.js';
import { FieldReader, sortedUnique } from './value-checks.js';

export const ACL_ACTIONS = ['DENY', 'PERMIT', 'REFLECT'] as const;
export type AclAction = (typeof ACL_ACTIONS)[number];

export interface PortRange {
  readonly lowerPort: number;
  readonly upperPort: number;
}

/** A rule in normalized form: every field present, ports only for TCP/UDP. */
export interface AclRuleValue {
  readonly action: AclAction;
  readonly ipRule: {
    readonly ip: { readonly sourceNetwork: string; readonly destinationNetwork: string; readonly protocol: number };
    readonly tcp?: { readonly sourcePortRange: PortRange; readonly destinationPortRange: PortRange };
    readonly udp?: { readonly sourcePortRange: PortRange; readonly destinationPortRange: PortRange };
  };
}

export interface AclValue {
  readonly name: string;
  readonly rules: readonly AclRuleValue[];
  readonly interfaces: { readonly ingress: readonly string[]; readonly egress: readonly string[] };
}

const TCP = 6;
const UDP = 17;
const ANY4 = '0.0.0.0/0';

function asAcl(v: Value): AclValue {
  return v as unknown as AclValue;
}

function portRange(f: Reader | undefined, field: string): PortRange {
  const r = f?.object(field);
  const lowerPort = r ? r.uint('lowerPort', 0, 65535) : 0;
  const upperPort = r ? r.uint('upperPort', 65535, 65535) : 65535;
  if (r && lowerPort > upperPort) r.fail('upperPort', `>= lowerPort (${lowerPort})`, upperPort);
  return { lowerPort, upperPort };
}

function normalizeRule(key: string, raw: unknown, i: number): AclRuleValue {
  const f = new FieldReader(key, raw, `rules[${i}].`);
  const action = f.oneOf('action', ACL_ACTIONS);
  const ipRule = f.object('ipRule');
  const ip = ipRule?.object('ip');
  const tcp = ipRule?.object('tcp');
  const udp = ipRule?.object('udp');
  if (tcp && udp) f.fail('ipRule', 'either tcp or udp, not both', 'both');
  const sourceNetwork = ip?.has('sourceNetwork') && ip.raw('sourceNetwork') !== '' ? ip.cidr('sourceNetwork') : ANY4;
  const destinationNetwork = ip?.has('destinationNetwork') && ip.raw('destinationNetwork') !== '' ? ip.cidr('destinationNetwork') : ANY4;
  const protocol = tcp ? TCP : udp ? UDP : (ip?.uint('protocol', 0, 255) ?? 0);
  const rule: Record<string, unknown> = { ip: { sourceNetwork, destinationNetwork, protocol } };
  const ports = tcp ?? udp;
  if (ports) {
    rule[tcp ? 'tcp' : 'udp'] = { sourcePortRange: portRange(ports, 'sourcePortRange'), destinationPortRange: portRange(ports, 'destinationPortRange') };
  }
  return { action, ipRule: rule as unknown as AclRuleValue['ipRule'] };
}

function toVpp(rule: AclRuleValue): Record<string, unknown> {
  const ports = rule.ipRule.tcp ?? rule.ipRule.udp;
  return {
    is_permit: ACL_ACTIONS.indexOf(rule.action),
    src_prefix: rule.ipRule.ip.sourceNetwork,
    dst_prefix: rule.ipRule.ip.destinationNetwork,
    proto: rule.ipRule.ip.protocol,
    srcport_or_icmptype_first: ports?.sourcePortRange.lowerPort ?? 0,
    srcport_or_icmptype_last: ports?.sourcePortRange.upperPort ?? 65535,
    dstport_or_icmpcode_first: ports?.destinationPortRange.lowerPort ?? 0,
    dstport_or_icmpcode_last: ports?.destinationPortRange.upperPort ?? 65535,
  };
}

function fromVpp(r: Record<string, unknown>): AclRuleValue {
  const num = (k: string, d: number): number => (typeof r[k] === 'number' ? (r[k] as number) : d);
  const protocol = num('proto', 0);
  const rule: Record<string, unknown> = {
    ip: { sourceNetwork: String(r.src_prefix ?? ANY4).toLowerCase(), destinationNetwork: String(r.dst_prefix ?? ANY4).toLowerCase(), protocol },
  };
  if (protocol === TCP || protocol === UDP) {
    rule[protocol === TCP ? 'tcp' : 'udp'] = {
      sourcePortRange: { lowerPort: num('srcport_or_icmptype_first', 0), upperPort: num('srcport_or_icmptype_last', 65535) },
      destinationPortRange: { lowerPort: num('dstport_or_icmpcode_first', 0), upperPort: num('dstport_or_icmpcode_last', 65535) },
    };
  }
  return { action: ACL_ACTIONS[num('is_permit', 0)] ?? 'DENY', ipRule: rule as unknown as AclRuleValue['ipRule'] };
}

/** One ACL per interface and direction: the interface's list is exactly this ACL. */
function interfaceLists(v: AclValue, aclIndex: number, md: MetadataReader, only?: ReadonlySet<string>): BinapiRequest[] {
  const names = sortedUnique([...v.interfaces.ingress, ...v.interfaces.egress]);
  const out: BinapiRequest[] = [];
  for (const name of names) {
    if (only && !only.has(name)) continue;
    const sw = md.get(interfaceKey(name));
    if (sw === undefined) throw new Error(`no sw_if_index known for interface ${name}`);
    const input = v.interfaces.ingress.includes(name);
    const output = v.interfaces.egress.includes(name);
    const acls = [...(input ? [aclIndex] : []), ...(output ? [aclIndex] : [])];
    out.push({ name: 'acl_interface_set_acl_list', fields: { sw_if_index: sw, n_input: input ? 1 : 0, acls } });
  }
  return out;
}

function clearLists(names: Iterable<string>, md: MetadataReader): BinapiRequest[] {
  const out: BinapiRequest[] = [];
  for (const name of names) {
    const sw = md.get(interfaceKey(name));
    if (sw !== undefined) out.push({ name: 'acl_interface_set_acl_list', fields: { sw_if_index: sw, n_input: 0, acls: [] } });
  }
  return out;
}

function aclIndexOf(key: string, md: MetadataReader): number {
  const i = md.get(key);
  if (i === undefined) throw new Error(`no acl_index known for ${key}`);
  return i;
}

/** IP ACLs (acl_add_replace) and their assignment to interfaces (acl_interface_set_acl_list). */
export const aclDescriptor: Descriptor = {
  name: 'vpp-acl',
  keyPrefix: ACL_PREFIX,
  retrieveDependencies: ['vpp-interface'],

  validate(key, value) {
    const f = new FieldReader(key, value);
    const keyName = nameOf(key, ACL_PREFIX);
    if (keyName === '' || keyName.includes('/')) throw new InvalidValueError(key, 'the key must end with the ACL name');
    const name = f.name('name', keyName);
    if (name !== keyName) f.fail('name', `"${keyName}" (the name in the key)`, name);
    const rules = f.array('rules').map((r, i) => normalizeRule(key, r, i));
    const ifs = f.object('interfaces');
    const list = (dir: string): string[] =>
      sortedUnique((ifs?.array(dir) ?? []).map((n, i) => {
        if (typeof n !== 'string' || n === '' || n.includes('/')) ifs?.fail(`${dir}[${i}]`, 'an interface name', n);
        return n as string;
      }));
    return { name, rules, interfaces: { ingress: list('ingress'), egress: list('egress') } };
  },

  dependencies(_key, value) {
    const v = asAcl(value);
    return sortedUnique([...v.interfaces.ingress, ...v.interfaces.egress]).map(interfaceKey);
  },

  create(_key, value) {
    const v = asAcl(value);
    return { requests: [{ name: 'acl_add_replace', fields: { acl_index: ACL_INDEX_NEW, tag: v.name, r: v.rules.map(toVpp) } }], capture: 'acl_index' };
  },

  configure(key, value, md) {
    return interfaceLists(asAcl(value), aclIndexOf(key, md), md);
  },

  update(key, oldValue, newValue, md) {
    const o = asAcl(oldValue);
    const n = asAcl(newValue);
    const idx = aclIndexOf(key, md);
    const out: BinapiRequest[] = [];
    if (JSON.stringify(o.rules) !== JSON.stringify(n.rules)) {
      out.push({ name: 'acl_add_replace', fields: { acl_index: idx, tag: n.name, r: n.rules.map(toVpp) } });
    }
    const oldNames = new Set([...o.interfaces.ingress, ...o.interfaces.egress]);
    const newNames = new Set([...n.interfaces.ingress, ...n.interfaces.egress]);
    out.push(...clearLists([...oldNames].filter((x) => !newNames.has(x)), md));
    const changed = new Set<string>();
    for (const name of newNames) {
      if (o.interfaces.ingress.includes(name) !== n.interfaces.ingress.includes(name) || o.interfaces.egress.includes(name) !== n.interfaces.egress.includes(name)) {
        changed.add(name);
      }
    }
    out.push(...interfaceLists(n, idx, md, changed));
    return out;
  },

  delete(key, value, md) {
    const v = asAcl(value);
    return [...clearLists(sortedUnique([...v.interfaces.ingress, ...v.interfaces.egress]), md), { name: 'acl_del', fields: { acl_index: aclIndexOf(key, md) } }];
  },

  async retrieve(ctx: RetrieveContext): Promise<RetrievedValue[]> {
    const lists = await ctx.dump('acl_interface_list_dump', {});
    const ingress = new Map<number, string[]>();
    const egress = new Map<number, string[]>();
    for (const l of lists) {
      if (typeof l.sw_if_index !== 'number' || !Array.isArray(l.acls)) continue;
      const ifKey = ctx.metadata.keyOf(INTERFACE_PREFIX, l.sw_if_index);
      if (!ifKey) continue;
      const name = ifKey.slice(INTERFACE_PREFIX.length);
      const nInput = typeof l.n_input === 'number' ? l.n_input : 0;
      (l.acls as unknown[]).forEach((a, i) => {
        if (typeof a !== 'number') return;
        const m = i < nInput ? ingress : egress;
        let arr = m.get(a);
        if (!arr) m.set(a, (arr = []));
        arr.push(name);
      });
    }
    const out: RetrievedValue[] = [];
    for (const d of await ctx.dump('acl_dump', {})) {
      if (typeof d.acl_index !== 'number' || typeof d.tag !== 'string' || d.tag === '' || d.tag.includes('/')) continue;
      const rules = Array.isArray(d.r) ? (d.r as Array<Record<string, unknown>>).map(fromVpp) : [];
      out.push({
        key: aclKey(d.tag),
        value: {
          name: d.tag,
          rules,
          interfaces: { ingress: sortedUnique(ingress.get(d.acl_index) ?? []), egress: sortedUnique(egress.get(d.acl_index) ?? []) },
        },
        metadata: d.acl_index,
      });
    }
    return out;
  },
};
