// Network policies, rendered as the reference renders them for VPP: each isolated pod gets ONE
// ACL on its TAP interface combining every policy that selects it (VPP keeps one ACL list per
// interface, so policies must not each bind their own ACL). The ACL permits the allowed sources
// and ports and denies the rest.
import {
  KubeStateChange,
  isResyncMethod,
  type Event,
  type EventHandler,
  type KubeStateData,
  type ResyncOperations,
  type UpdateOperations,
  type Value,
} from '../api/index.js';
import { deepFreeze } from '../api/frozen-value.js';
import { deepEqual } from '../scheduler/value-equality.js';
import { policyView, selects, viewsOf, type Labels, type PolicyView } from './k8s-view.js';
import { aclKey } from './keys.js';
import { identityFromKey } from './names.js';
import { isPodEvent, podChangeOf } from './pod-change.js';
import type { LocalPod, PodNetworkHandler } from './pod-network.js';
import { UndoLog } from './undo-log.js';

const ANY = '0.0.0.0/0';
const DENY_ALL: Value = deepFreeze({ action: 'DENY', ipRule: { ip: { sourceNetwork: ANY, destinationNetwork: ANY } } });

/** ACL name of a pod's policies: `acl-<namespace>.<name>` (or from the hashed interface name). */
export function podAclName(pod: LocalPod): string {
  return `acl-${pod.interfaceName.slice('tap-'.length)}`;
}

/** Rule objects kept between renders; cleared when it holds this many (sources are pod IPs). */
const RULES_KEPT = 65_536;

/**
 * The PERMIT rule of one source and port, frozen, and the same object every time it is asked for:
 * a rule that did not change is then the same object in every ACL and every render, so comparing
 * renders and checking them (the ACL descriptor validates a frozen rule once) costs a reference
 * comparison per rule, not a walk through it.
 */
class PermitRules {
  readonly #kept = new Map<string, Value>();

  /** `protocol` null: any protocol; `port` null: every port of the protocol. */
  get(src: string, protocol: 'TCP' | 'UDP' | null, port: number | null): Value {
    const id = protocol === null ? src : `${src} ${protocol} ${port ?? 'all'}`;
    let rule = this.#kept.get(id);
    if (rule === undefined) {
      if (this.#kept.size >= RULES_KEPT) this.#kept.clear();
      const ip = { sourceNetwork: src, destinationNetwork: ANY };
      const range = { destinationPortRange: port === null ? { lowerPort: 0, upperPort: 65535 } : { lowerPort: port, upperPort: port } };
      const ipRule = protocol === null ? { ip } : protocol === 'UDP' ? { ip, udp: range } : { ip, tcp: range };
      this.#kept.set(id, (rule = deepFreeze({ action: 'PERMIT', ipRule })));
    }
    return rule;
  }
}

/**
 * The PERMIT rules of one policy: its allowed sources and ports (`peers`: the other connected pods
 * of the namespace, listed only when a rule selects sources by label, so a pod no policy selects
 * costs nothing more). They are the same for every pod the policy selects.
 */
function policyRules(policy: PolicyView, peers: () => readonly LocalPod[], permit: PermitRules): Value[] {
  const rules: Value[] = [];
  for (const rule of policy.ingress) {
    const sources: string[] = [];
    if (rule.from === null) sources.push(ANY);
    for (const peer of rule.from ?? []) {
      if (peer.cidrs !== undefined) sources.push(...peer.cidrs);
      else if (peer.podSelector !== undefined) {
        for (const p of peers()) if (selects(peer.podSelector, p.labels)) sources.push(`${p.ip}/32`);
      }
    }
    for (const src of sources) {
      if (rule.ports === null) rules.push(permit.get(src, null, null));
      for (const { protocol, port } of rule.ports ?? []) rules.push(permit.get(src, protocol, port));
    }
  }
  return rules;
}

/**
 * Each policy's rules for one render of a namespace, built on first use: a render of n pods then
 * builds them once per policy, not once per pod (n times n selector matches and rule objects when
 * a policy selects its sources by label).
 */
function rulesOnce(peers: () => readonly LocalPod[], permit: PermitRules): (policy: PolicyView) => readonly Value[] {
  const built = new Map<PolicyView, readonly Value[]>();
  return (policy) => {
    let rules = built.get(policy);
    if (rules === undefined) built.set(policy, (rules = policyRules(policy, peers, permit)));
    return rules;
  };
}

/**
 * The ACL of one pod given the policies of its namespace (`rulesOf`: each policy's rules, see
 * `rulesOnce`); null when no ingress policy selects the pod.
 */
function renderPodAcl(pod: LocalPod, policies: readonly PolicyView[], rulesOf: (policy: PolicyView) => readonly Value[]): Value | null {
  let rules: Value[] | null = null;
  for (const policy of policies) {
    if (!policy.isolatesIngress || policy.namespace !== pod.namespace || !selects(policy.podSelector, pod.labels)) continue;
    rules ??= [];
    for (const r of rulesOf(policy)) rules.push(r);
  }
  if (rules === null) return null;
  rules.push(DENY_ALL);
  // Traffic towards a pod leaves VPP through the pod's TAP: the ACL filters that interface's egress.
  return { name: podAclName(pod), rules, interfaces: { ingress: [], egress: [pod.interfaceName] } };
}

export class PolicyHandler implements EventHandler {
  readonly #podNetwork: PodNetworkHandler;
  readonly #policies = new Map<string, PolicyView>();
  /**
   * pod id -> [ACL key, the value put]: the value itself, which the controller's internal config
   * holds anyway (a JSON copy would double that memory and cost a string of every rule per render).
   */
  readonly #rendered = new Map<string, readonly [string, Value]>();
  /** Labels of each connected pod as this handler last saw them (to know whose peers it was). */
  readonly #labels = new Map<string, Labels>();
  readonly #undo = new UndoLog();
  readonly #permit = new PermitRules();

  constructor(podNetwork: PodNetworkHandler) {
    this.#podNetwork = podNetwork;
  }

  toString(): string {
    return 'policies';
  }

  handlesEvent(event: Event): boolean {
    if (isResyncMethod(event.method())) return true;
    return (event instanceof KubeStateChange && event.resource === 'policy') || isPodEvent(event);
  }

  /** Runs after the pod handler's resync (handler order), so the connected pods are already rebuilt. */
  resync(_event: Event, kubeState: KubeStateData, _resyncCount: number, txn: ResyncOperations): void {
    this.#policies.clear();
    this.#rendered.clear();
    this.#labels.clear();
    for (const p of this.#podNetwork.pods.values()) this.#labels.set(p.id, p.labels);
    for (const p of viewsOf(kubeState, 'policy', policyView)) this.#policies.set(p.id, p);
    const byNamespace = this.#podsByNamespace();
    for (const [namespace, pods] of byNamespace) {
      const policies = this.#policiesOf(namespace);
      if (policies.length === 0) continue;
      const rulesOf = rulesOnce(() => pods, this.#permit);
      for (const pod of pods) {
        const value = renderPodAcl(pod, policies, rulesOf);
        if (value === null) continue;
        const key = aclKey(podAclName(pod));
        txn.put(key, value);
        this.#rendered.set(pod.id, [key, value]);
      }
    }
  }

  update(event: Event, txn: UpdateOperations): string {
    this.#undo.begin(event);
    if (event instanceof KubeStateChange && event.resource === 'policy') {
      const value = event.newValue ?? event.prevValue;
      // A delete may carry only the key.
      const view = value === null ? identityFromKey(event.key) : policyView(value);
      if (view === undefined) return '';
      const before = this.#policies.get(view.id);
      if (event.newValue === null) this.#policies.delete(view.id);
      else this.#policies.set(view.id, view as PolicyView);
      this.#undo.record(() => (before === undefined ? this.#policies.delete(view.id) : this.#policies.set(view.id, before)));
      return this.#renderNamespace(view.namespace, txn);
    }
    const change = podChangeOf(event);
    if (change === null) return '';
    // For a leaving pod this handler runs before the pod handler (Reverse order): leave it out now.
    const leaving = change.kind === 'disconnect' ? change.id : undefined;
    const before = this.#labels.get(change.id);
    const now = leaving === undefined ? this.#podNetwork.pods.get(change.id)?.labels : undefined;
    if (now === undefined) this.#labels.delete(change.id);
    else this.#labels.set(change.id, now);
    this.#undo.record(() => (before === undefined ? this.#labels.delete(change.id) : this.#labels.set(change.id, before)));
    // Other pods' ACLs change only when this pod is (or was) a peer source of a policy.
    const peer = this.#isPeer(change.namespace, before) || this.#isPeer(change.namespace, now);
    return this.#renderNamespace(change.namespace, txn, leaving, peer ? undefined : change.id);
  }

  /** Whether a pod with these labels is selected as a source by a policy of the namespace. */
  #isPeer(namespace: string, labels: Labels | undefined): boolean {
    if (labels === undefined) return false;
    for (const policy of this.#policies.values()) {
      if (policy.namespace !== namespace) continue;
      for (const rule of policy.ingress) {
        for (const from of rule.from ?? []) if (from.podSelector !== undefined && selects(from.podSelector, labels)) return true;
      }
    }
    return false;
  }

  revert(event: Event): void {
    this.#undo.revert(event);
  }

  describeInternalData(): string {
    return `policies: ${[...this.#policies.keys()].sort().join(', ')}; ACLs: ${[...this.#rendered.values()].map((r) => r[0]).sort().join(', ')}`;
  }

  #podsByNamespace(): Map<string, LocalPod[]> {
    const out = new Map<string, LocalPod[]>();
    for (const p of this.#podNetwork.pods.values()) {
      let list = out.get(p.namespace);
      if (list === undefined) out.set(p.namespace, (list = []));
      list.push(p);
    }
    for (const list of out.values()) list.sort((a, b) => (a.id < b.id ? -1 : 1));
    return out;
  }

  #policiesOf(namespace: string): PolicyView[] {
    const out: PolicyView[] = [];
    for (const p of this.#policies.values()) if (p.namespace === namespace) out.push(p);
    return out.sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  /** The connected pods of a namespace, by id (the order of an ACL's source rules). */
  #podsOf(namespace: string, leaving: string | undefined): LocalPod[] {
    const pods: LocalPod[] = [];
    for (const p of this.#podNetwork.pods.values()) if (p.namespace === namespace && p.id !== leaving) pods.push(p);
    return pods.sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  /**
   * Re-renders the ACLs of the pods of a namespace (or of `only` that pod); puts/deletes only what
   * changed. With `only`, the cost is that pod's, not the namespace's: the namespace's pods are
   * listed only when a policy isolates the pod (they are its possible sources).
   */
  #renderNamespace(namespace: string, txn: UpdateOperations, leaving?: string, only?: string): string {
    const policies = this.#policiesOf(namespace);
    let peers: LocalPod[] | undefined;
    const peersOf = (): LocalPod[] => (peers ??= this.#podsOf(namespace, leaving));
    let targets: readonly LocalPod[];
    if (only === undefined) targets = peersOf();
    else {
      const pod = only === leaving ? undefined : this.#podNetwork.pods.get(only);
      targets = pod === undefined ? [] : [pod];
    }
    let added = 0;
    let updated = 0;
    let removed = 0;
    const rulesOf = rulesOnce(peersOf, this.#permit);
    for (const pod of targets) {
      const value = renderPodAcl(pod, policies, rulesOf);
      const before = this.#rendered.get(pod.id);
      if (value === null) {
        if (before === undefined) continue;
        this.#drop(pod.id, before, txn);
        removed++;
        continue;
      }
      const key = aclKey(podAclName(pod));
      if (before !== undefined && before[0] === key && deepEqual(before[1], value)) continue;
      if (before !== undefined && before[0] !== key) txn.delete(before[0]);
      txn.put(key, value);
      this.#rendered.set(pod.id, [key, value]);
      this.#undo.record(() => (before === undefined ? this.#rendered.delete(pod.id) : this.#rendered.set(pod.id, before)));
      if (before === undefined) added++;
      else updated++;
    }
    // Pods of this namespace that are gone (the leaving one, or disconnected earlier): drop their ACLs.
    const gone: string[] = [];
    if (only === undefined) {
      const present = new Set<string>();
      for (const pod of targets) present.add(pod.id);
      const prefix = `${namespace}/`;
      for (const podId of this.#rendered.keys()) if (podId.startsWith(prefix) && !present.has(podId)) gone.push(podId);
    } else {
      for (const podId of [only, leaving]) {
        if (podId !== undefined && this.#rendered.has(podId) && !targets.some((p) => p.id === podId) && !gone.includes(podId)) gone.push(podId);
      }
    }
    for (const podId of gone) {
      this.#drop(podId, this.#rendered.get(podId) as readonly [string, Value], txn);
      removed++;
    }
    const parts: string[] = [];
    if (added > 0) parts.push(`${added} ACL(s) added`);
    if (updated > 0) parts.push(`${updated} updated`);
    if (removed > 0) parts.push(`${removed} removed`);
    return parts.length === 0 ? '' : `${namespace}: ${parts.join(', ')}`;
  }

  #drop(podId: string, before: readonly [string, Value], txn: UpdateOperations): void {
    txn.delete(before[0]);
    this.#rendered.delete(podId);
    this.#undo.record(() => this.#rendered.set(podId, before));
  }
}
