// The one place that knows the field names of the Kubernetes values (the etcd layout of Contiv's
// state reflector, protojson: camelCase) : everything else in the handlers works on the normalised
// views below. Unknown or malformed optional fields are ignored; a value without a name is an error.
import type { KeyValuePairs, KubeStateData, Value } from '../api/index.js';
import { InvalidKubeValueError } from './errors.js';
import { formatIpv4Prefix, parseIpv4Cidr, subtractPrefixes, type Ipv4Prefix } from './ipv4.js';
import { isK8sName, isK8sNamespace } from './names.js';

export type Labels = ReadonlyMap<string, string>;

export interface PodView {
  /** `<namespace>/<name>` */
  readonly id: string;
  readonly namespace: string;
  readonly name: string;
  readonly labels: Labels;
}

export interface ServicePortView {
  readonly name: string;
  readonly protocol: 'TCP' | 'UDP';
  readonly port: number;
}

export interface ServiceView {
  readonly id: string;
  readonly namespace: string;
  readonly name: string;
  readonly clusterIp: string;
  readonly externalIps: readonly string[];
  readonly ports: readonly ServicePortView[];
}

export interface EndpointsView {
  readonly id: string;
  /** Ready addresses with the port number behind each named port. */
  readonly subsets: ReadonlyArray<{ readonly ips: readonly string[]; readonly ports: ReadonlyMap<string, number> }>;
}

export interface SelectorView {
  readonly labels: Labels;
  readonly expressions: ReadonlyArray<{ readonly key: string; readonly operator: 'IN' | 'NOT_IN' | 'EXISTS' | 'DOES_NOT_EXIST'; readonly values: readonly string[] }>;
}

export interface PolicyPeerView {
  /** The source networks of an `ipBlock`: its CIDR with the `except` ranges taken out. */
  readonly cidrs?: readonly string[];
  readonly podSelector?: SelectorView;
}

export interface PolicyPortView {
  readonly protocol: 'TCP' | 'UDP';
  /** null: every port of the protocol. */
  readonly port: number | null;
}

/**
 * One ingress rule. A list the policy gives but none of whose entries can be rendered (peers in
 * other namespaces, named ports...) leaves the rule out: it then admits nothing, never everything.
 */
export interface PolicyRuleView {
  /** null = from anywhere. */
  readonly from: readonly PolicyPeerView[] | null;
  /** null = every port and protocol. */
  readonly ports: readonly PolicyPortView[] | null;
}

export interface PolicyView {
  readonly id: string;
  readonly namespace: string;
  readonly name: string;
  readonly podSelector: SelectorView;
  /** False for an egress-only policy: ingress is then not isolated and no ACL is rendered. */
  readonly isolatesIngress: boolean;
  readonly ingress: readonly PolicyRuleView[];
}

type Obj = Readonly<Record<string, unknown>>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

function port(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 && v < 65536 ? v : undefined;
}

/** A port's protocol (TCP when not given); undefined for one not rendered here (SCTP...). */
function protocol(v: unknown): 'TCP' | 'UDP' | undefined {
  if (v === undefined || v === 'TCP' || v === 'tcp') return 'TCP';
  return v === 'UDP' || v === 'udp' ? 'UDP' : undefined;
}

function arr(v: unknown): readonly unknown[] {
  return Array.isArray(v) ? v : [];
}

/** Labels as a record (`labels`) or in the deprecated list form `[{ key, value }]` (`label`). */
function labels(v: unknown, out = new Map<string, string>()): Map<string, string> {
  if (Array.isArray(v)) {
    for (const l of v) if (isObj(l) && typeof l['key'] === 'string') out.set(l['key'], String(l['value'] ?? ''));
  } else if (isObj(v)) {
    for (const [k, val] of Object.entries(v)) out.set(k, String(val));
  }
  return out;
}

type Expression = SelectorView['expressions'][number];
type Operator = Expression['operator'];

/** Operators as Contiv's model names them, as Kubernetes spells them, and as protobuf numbers them. */
const OPERATORS: ReadonlyMap<unknown, Operator> = new Map<unknown, Operator>([
  ['IN', 'IN'], ['In', 'IN'], [0, 'IN'],
  ['NOT_IN', 'NOT_IN'], ['NotIn', 'NOT_IN'], [1, 'NOT_IN'],
  ['EXISTS', 'EXISTS'], ['Exists', 'EXISTS'], [2, 'EXISTS'],
  ['DOES_NOT_EXIST', 'DOES_NOT_EXIST'], ['DoesNotExist', 'DOES_NOT_EXIST'], [3, 'DOES_NOT_EXIST'],
]);

/** Every pod: an empty selector. */
const EVERY_POD: SelectorView = { labels: new Map(), expressions: [] };

function stringList(v: unknown): string[] | undefined {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : undefined;
}

/**
 * A label selector `{ matchLabel: [{ key, value }], matchExpression: [{ key, operator, value }] }`;
 * undefined when any part of it cannot be read (a guess could select pods it never meant).
 * Absent fields are protobuf defaults (operator IN, empty lists).
 */
function selector(v: unknown): SelectorView | undefined {
  if (v === undefined || v === null) return EVERY_POD;
  if (!isObj(v)) return undefined;
  const exprs = v['matchExpression'] ?? [];
  const given = v['matchLabel'] ?? [];
  // The list form of Contiv's model, or a record as Kubernetes writes `matchLabels`.
  const pairs = isObj(given) ? Object.entries(given).map(([key, value]) => ({ key, value })) : given;
  if (!Array.isArray(exprs) || !Array.isArray(pairs)) return undefined;
  const expressions: Expression[] = [];
  for (const e of exprs) {
    if (!isObj(e) || typeof e['key'] !== 'string') return undefined;
    const operator = OPERATORS.get(e['operator'] ?? 'IN');
    const values = stringList(e['value']);
    if (operator === undefined || values === undefined) return undefined;
    expressions.push({ key: e['key'], operator, values });
  }
  const labels = new Map<string, string>();
  for (const l of pairs) {
    if (!isObj(l)) return undefined;
    const value = l['value'] ?? '';
    if (typeof l['key'] !== 'string' || typeof value !== 'string') return undefined;
    labels.set(l['key'], value);
  }
  return { labels, expressions };
}

function identity(resource: string, value: Value): { namespace: string; name: string; id: string } {
  if (!isObj(value)) throw new InvalidKubeValueError(resource, 'value is not an object');
  const name = value['name'];
  if (name === undefined) throw new InvalidKubeValueError(resource, 'missing "name"');
  if (!isK8sName(name)) throw new InvalidKubeValueError(resource, `"name" is not a Kubernetes name: ${JSON.stringify(name)}`);
  const ns = value['namespace'];
  if (ns !== undefined && !isK8sNamespace(ns)) throw new InvalidKubeValueError(resource, `bad "namespace" of ${name}: ${JSON.stringify(ns)}`);
  const namespace = ns ?? 'default';
  return { namespace, name, id: `${namespace}/${name}` };
}

export function podView(value: Value): PodView {
  const id = identity('pod', value);
  return { ...id, labels: labels(value['labels'], labels(value['label'])) };
}

export function serviceView(value: Value): ServiceView {
  const id = identity('service', value);
  const clusterIp = str(value['clusterIp']) ?? '';
  const ports: ServicePortView[] = [];
  for (const p of arr(value['port'])) {
    if (!isObj(p)) continue;
    const number = port(p['port']);
    const proto = protocol(p['protocol']);
    if (number === undefined || proto === undefined) continue;
    ports.push({ name: str(p['name']) ?? '', protocol: proto, port: number });
  }
  const externalIps = arr(value['externalIps']).filter((x): x is string => typeof x === 'string' && x.length > 0);
  return { ...id, clusterIp, externalIps, ports };
}

export function endpointsView(value: Value): EndpointsView {
  const { id } = identity('endpoints', value);
  const subsets: Array<{ ips: string[]; ports: Map<string, number> }> = [];
  for (const s of arr(value['endpointSubsets'])) {
    if (!isObj(s)) continue;
    const ips = arr(s['addresses'])
      .map((a) => (isObj(a) ? str(a['ip']) : undefined))
      .filter((x): x is string => x !== undefined);
    const ports = new Map<string, number>();
    for (const p of arr(s['ports'])) {
      if (!isObj(p)) continue;
      const number = port(p['port']);
      if (number !== undefined) ports.set(str(p['name']) ?? '', number);
    }
    subsets.push({ ips, ports });
  }
  return { id, subsets };
}

/** An `ipBlock` as source networks (its CIDR less its exceptions); undefined when unreadable. */
function ipBlock(v: unknown): string[] | undefined {
  if (!isObj(v)) return undefined;
  const cidr = typeof v['cidr'] === 'string' ? parseIpv4Cidr(v['cidr']) : undefined;
  if (cidr === undefined) return undefined;
  const except: Ipv4Prefix[] = [];
  for (const e of arr(v['except'])) {
    const p = typeof e === 'string' ? parseIpv4Cidr(e) : undefined;
    // An exception that cannot be read could hide any part of the block: the block is not rendered.
    if (p === undefined) return undefined;
    except.push(p);
  }
  return subtractPrefixes(cidr, except).map(formatIpv4Prefix);
}

function policyPeers(v: unknown): PolicyPeerView[] | null {
  if (!Array.isArray(v) || v.length === 0) return null;
  const from: PolicyPeerView[] = [];
  for (const f of v) {
    if (!isObj(f)) continue;
    if (f['ipBlock'] !== undefined) {
      const cidrs = ipBlock(f['ipBlock']);
      if (cidrs !== undefined) from.push({ cidrs });
    }
    // Peers selecting other namespaces are not rendered (this handler sees one namespace at a time).
    // A selector that cannot be read leaves its peer out: it admits nothing.
    else if (f['pods'] !== undefined && f['namespaces'] === undefined) {
      const podSelector = selector(f['pods']);
      if (podSelector !== undefined) from.push({ podSelector });
    }
  }
  return from;
}

function policyPorts(v: unknown): PolicyPortView[] | null {
  if (!Array.isArray(v) || v.length === 0) return null;
  const ports: PolicyPortView[] = [];
  for (const p of v) {
    if (!isObj(p)) continue;
    const proto = protocol(p['protocol']);
    if (proto === undefined) continue;
    if (p['port'] === undefined) {
      ports.push({ protocol: proto, port: null });
      continue;
    }
    // A named port refers to the destination pod's container ports, which are not known here.
    const number = isObj(p['port']) ? port(p['port']['number']) : undefined;
    if (number !== undefined) ports.push({ protocol: proto, port: number });
  }
  return ports;
}

export function policyView(value: Value): PolicyView {
  const id = identity('policy', value);
  const ingress: PolicyRuleView[] = [];
  for (const r of arr(value['ingressRule'])) {
    if (!isObj(r)) continue;
    const from = policyPeers(r['from']);
    const ports = policyPorts(r['port']);
    if (from?.length === 0 || ports?.length === 0) continue;
    ingress.push({ from, ports });
  }
  const type = value['policyType'];
  // A pod selector that cannot be read isolates every pod of the namespace, and its rules admit no
  // one (policies add up: they would open pods other policies restrict): admits less, never more.
  const podSelector = selector(value['pods']);
  if (podSelector === undefined) return { ...id, podSelector: EVERY_POD, isolatesIngress: type !== 'EGRESS', ingress: [] };
  return { ...id, podSelector, isolatesIngress: type !== 'EGRESS', ingress };
}

/** Whether the selector matches the pod's labels (an empty selector selects every pod). */
export function selects(sel: SelectorView, podLabels: Labels): boolean {
  for (const [k, v] of sel.labels) if (podLabels.get(k) !== v) return false;
  for (const e of sel.expressions) {
    const v = podLabels.get(e.key);
    const ok =
      e.operator === 'EXISTS' ? v !== undefined
      : e.operator === 'DOES_NOT_EXIST' ? v === undefined
      : e.operator === 'IN' ? v !== undefined && e.values.includes(v)
      : v === undefined || !e.values.includes(v);
    if (!ok) return false;
  }
  return true;
}

/** The resource's values in a resync snapshot, each turned into a view; malformed values are skipped. */
export function viewsOf<T>(kubeState: KubeStateData, resource: string, view: (v: Value) => T): T[] {
  const values: KeyValuePairs | undefined = kubeState.get(resource);
  const out: T[] = [];
  if (!values) return out;
  for (const v of values.values()) {
    try {
      out.push(view(v));
    } catch {
      // A malformed value in a snapshot must not fail the whole resync (a failed healing resync is fatal).
    }
  }
  return out;
}
