import type { Value } from '../api/values.js';
import { ACL_INDEX_NEW } from '../binapi/messages.js';
import type { BinapiRequest } from '../scheduler/binapi-client.js';
import type { Descriptor, RetrieveContext, RetrievedValue } from '../scheduler/descriptor.js';
import { InvalidValueError } from '../scheduler/errors.js';
import type { MetadataReader } from '../scheduler/metadata-store.js';
import { deepFreeze, isDeepFrozen } from '../api/frozen-value.js';
import { deepEqual } from '../scheduler/value-equality.js';
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
const ANY6 = '::/0';

/** A rule's network, or undefined when left out (absent or ''). */
function network(ip: Reader | undefined, field: string): string | undefined {
  return ip?.has(field) && ip.raw(field) !== '' ? ip.cidr(field) : undefined;
}

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
  const source = network(ip, 'sourceNetwork');
  const destination = network(ip, 'destinationNetwork');
  // A rule matches one address family: the side left out is "any" of the other side's family.
  const v6 = (source ?? destination ?? '').includes(':');
  if (source !== undefined && destination !== undefined && source.includes(':') !== destination.includes(':')) {
    ip?.fail('destinationNetwork', `a CIDR of the same family as sourceNetwork (${source})`, destination);
  }
  const sourceNetwork = source ?? (v6 ? ANY6 : ANY4);
  const destinationNetwork = destination ?? (v6 ? ANY6 : ANY4);
  const protocol = tcp ? TCP : udp ? UDP : (ip?.uint('protocol', 0, 255) ?? 0);
  const rule: Record<string, unknown> = { ip: { sourceNetwork, destinationNetwork, protocol } };
  // TCP or UDP named by number only: every port, as the dataplane reports it back.
  const ports = tcp ?? udp;
  if (ports || protocol === TCP || protocol === UDP) {
    rule[protocol === TCP ? 'tcp' : 'udp'] = { sourcePortRange: portRange(ports, 'sourcePortRange'), destinationPortRange: portRange(ports, 'destinationPortRange') };
  }
  return { action, ipRule: rule as unknown as AclRuleValue['ipRule'] };
}

/**
 * Normalized forms of rules that cannot change (deep-frozen): a policy renderer puts one rule
 * object into the ACLs of many pods, event after event, and each is then checked once. Failures
 * are never kept (their message names the key and position).
 */
const normalizedOnce = new WeakMap<object, AclRuleValue>();

function normalizeShared(key: string, raw: unknown, i: number): AclRuleValue {
  if (typeof raw !== 'object' || raw === null) return normalizeRule(key, raw, i);
  // Only deep-frozen rules are kept, and frozen stays frozen: a rule found here needs no check.
  let rule = normalizedOnce.get(raw);
  if (rule !== undefined) return rule;
  rule = normalizeRule(key, raw, i);
  if (isDeepFrozen(raw)) normalizedOnce.set(raw, deepFreeze(rule));
  return rule;
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

/**
 * The ACLs bound to each interface, by direction: an interface's list on the dataplane is the
 * union of every ACL that names it (acl_interface_set_acl_list replaces the whole list). Kept per
 * descriptor instance; rebuilt from the dataplane on every retrieve.
 */
class AclBindings {
  readonly #in = new Direction();
  readonly #out = new Direction();

  reset(): void {
    this.#in.clear();
    this.#out.clear();
  }

  /** Binds `acl` (index) to exactly the interfaces of `v` (null = unbind everywhere); returns the interfaces touched. */
  bind(acl: string, index: number | null, v: AclValue | null): Set<string> {
    const touched = new Set<string>();
    for (const [dir, names] of [
      [this.#in, v?.interfaces.ingress ?? []],
      [this.#out, v?.interfaces.egress ?? []],
    ] as const) {
      // Only the interfaces this ACL is on: the cost follows the ACL, not the number of interfaces.
      for (const iface of [...dir.interfacesOf(acl)]) {
        if (index === null || !names.includes(iface)) {
          dir.unset(iface, acl);
          touched.add(iface);
        }
      }
      if (index === null) continue;
      for (const iface of names) {
        if (dir.get(iface)?.get(acl) !== index) {
          dir.set(iface, acl, index);
          touched.add(iface);
        }
      }
    }
    return touched;
  }

  /**
   * The interfaces where this view of `acl` differs from `v` (what was applied): a list request
   * that failed left the view ahead of the dataplane. Empty as long as every request went through.
   */
  drift(acl: string, v: AclValue): Set<string> {
    const out = new Set<string>();
    for (const [dir, names] of [
      [this.#in, v.interfaces.ingress],
      [this.#out, v.interfaces.egress],
    ] as const) {
      const viewed = dir.interfacesOf(acl);
      for (const iface of viewed) if (!names.includes(iface)) out.add(iface);
      for (const iface of names) if (!viewed.has(iface)) out.add(iface);
    }
    return out;
  }

  /** The list requests for `ifaces` (those without a known sw_if_index are gone already). */
  lists(ifaces: Iterable<string>, md: MetadataReader): BinapiRequest[] {
    const out: BinapiRequest[] = [];
    for (const iface of [...ifaces].sort()) {
      const sw = md.get(interfaceKey(iface));
      if (sw === undefined) continue;
      const input = [...(this.#in.get(iface)?.entries() ?? [])].sort().map(([, i]) => i);
      const output = [...(this.#out.get(iface)?.entries() ?? [])].sort().map(([, i]) => i);
      out.push({ name: 'acl_interface_set_acl_list', fields: { sw_if_index: sw, n_input: input.length, acls: [...input, ...output] } });
    }
    return out;
  }

  learn(acl: string, iface: string, index: number, ingress: boolean): void {
    (ingress ? this.#in : this.#out).set(iface, acl, index);
  }
}

/** One direction's bindings, indexed both ways: interface → ACL → index, and ACL → interfaces. */
class Direction {
  readonly #byIface = new Map<string, Map<string, number>>();
  readonly #byAcl = new Map<string, Set<string>>();

  get(iface: string): ReadonlyMap<string, number> | undefined {
    return this.#byIface.get(iface);
  }

  interfacesOf(acl: string): ReadonlySet<string> {
    return this.#byAcl.get(acl) ?? EMPTY;
  }

  set(iface: string, acl: string, index: number): void {
    let acls = this.#byIface.get(iface);
    if (!acls) this.#byIface.set(iface, (acls = new Map()));
    acls.set(acl, index);
    let ifaces = this.#byAcl.get(acl);
    if (!ifaces) this.#byAcl.set(acl, (ifaces = new Set()));
    ifaces.add(iface);
  }

  unset(iface: string, acl: string): void {
    const acls = this.#byIface.get(iface);
    acls?.delete(acl);
    if (acls?.size === 0) this.#byIface.delete(iface);
    const ifaces = this.#byAcl.get(acl);
    ifaces?.delete(iface);
    if (ifaces?.size === 0) this.#byAcl.delete(acl);
  }

  clear(): void {
    this.#byIface.clear();
    this.#byAcl.clear();
  }
}

const EMPTY: ReadonlySet<string> = new Set();

/**
 * Binding to an interface that is not there would leave the ACL without it and no error (a caller
 * that does not wait for dependencies, the offload pool): it fails before `bindings` changes.
 */
function requireInterfaces(v: AclValue, md: MetadataReader): void {
  for (const iface of [...v.interfaces.ingress, ...v.interfaces.egress]) {
    if (md.get(interfaceKey(iface)) === undefined) throw new Error(`no sw_if_index known for interface ${iface}`);
  }
}

function aclIndexOf(key: string, md: MetadataReader): number {
  const i = md.get(key);
  if (i === undefined) throw new Error(`no acl_index known for ${key}`);
  return i;
}

/**
 * IP ACLs (acl_add_replace) and their assignment to interfaces (acl_interface_set_acl_list). Each
 * call makes a descriptor with its own view of the interfaces' ACL lists (one per scheduler).
 */
export function createAclDescriptor(): Descriptor {
  const bindings = new AclBindings();
  return {
  name: 'vpp-acl',
  keyPrefix: ACL_PREFIX,
  // An interface's ACL list is the union of every ACL on it, kept in `bindings`.
  threadBound: true,
  retrieveDependencies: ['vpp-interface'],

  validate(key, value) {
    const f = new FieldReader(key, value);
    const keyName = nameOf(key, ACL_PREFIX);
    if (keyName === '' || keyName.includes('/')) throw new InvalidValueError(key, 'the key must end with the ACL name');
    const name = f.name('name', keyName);
    if (name !== keyName) f.fail('name', `"${keyName}" (the name in the key)`, name);
    const rules = f.array('rules').map((r, i) => normalizeShared(key, r, i));
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
    const v = asAcl(value);
    const idx = aclIndexOf(key, md);
    requireInterfaces(v, md);
    return bindings.lists(bindings.bind(v.name, idx, v), md);
  },

  update(key, oldValue, newValue, md) {
    const o = asAcl(oldValue);
    const n = asAcl(newValue);
    const idx = aclIndexOf(key, md);
    requireInterfaces(n, md);
    const out: BinapiRequest[] = [];
    // A walk that stops at the first difference, no two strings of every rule.
    if (!deepEqual(o.rules, n.rules)) {
      out.push({ name: 'acl_add_replace', fields: { acl_index: idx, tag: n.name, r: n.rules.map(toVpp) } });
    }
    // Interfaces where the view drifted from the applied value are listed again, whatever the view
    // says now (a caller that does not re-read the dataplane after a failure: the offload pool).
    const drift = bindings.drift(n.name, o);
    const touched = bindings.bind(n.name, idx, n);
    for (const iface of drift) touched.add(iface);
    out.push(...bindings.lists(touched, md));
    return out;
  },

  delete(key, value, md) {
    const v = asAcl(value);
    // Its own interfaces are always re-listed: a bound ACL cannot be deleted, even when this
    // descriptor's view of the lists is empty (a fresh instance, e.g. in another thread).
    const touched = bindings.bind(v.name, null, null);
    for (const iface of [...v.interfaces.ingress, ...v.interfaces.egress]) touched.add(iface);
    return [...bindings.lists(touched, md), { name: 'acl_del', fields: { acl_index: aclIndexOf(key, md) } }];
  },

  async retrieve(ctx: RetrieveContext): Promise<RetrievedValue[]> {
    const lists = await ctx.dump('acl_interface_list_dump', {});
    const details = await ctx.dump('acl_dump', {});
    const nameOfIndex = new Map<number, string>();
    for (const d of details) if (typeof d.acl_index === 'number' && typeof d.tag === 'string') nameOfIndex.set(d.acl_index, d.tag);
    bindings.reset();
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
        const acl = nameOfIndex.get(a);
        if (acl !== undefined) bindings.learn(acl, name, a, i < nInput);
      });
    }
    const out: RetrievedValue[] = [];
    for (const d of details) {
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
}
