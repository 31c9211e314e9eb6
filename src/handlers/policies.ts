// Network policies: a policy becomes an ACL on the TAP interfaces of the pods it selects, permitting
// the allowed sources and ports and denying the rest.
import {
  KubeStateChange,
  UpdateDirectionType,
  isResyncMethod,
  isUpdateEvent,
  type Event,
  type EventHandler,
  type KubeStateData,
  type ResyncOperations,
  type UpdateOperations,
  type Value,
} from '../api/index.js';
import { policyView, selects, viewsOf, type PolicyView } from './k8s-view.js';
import { aclKey } from './keys.js';
import { isPodEvent, podChangeOf } from './pod-change.js';
import type { LocalPod, PodNetworkHandler } from './pod-network.js';
import { UndoLog } from './undo-log.js';

const ANY = '0.0.0.0/0';
const DENY_ALL: Value = { action: 'DENY', ipRule: { ip: { sourceNetwork: ANY, destinationNetwork: ANY } } };

/** ACL name of a policy: `pol.<namespace>.<name>`. */
export function policyAclName(policyId: string): string {
  const slash = policyId.indexOf('/');
  return `pol.${policyId.slice(0, slash)}.${policyId.slice(slash + 1)}`;
}

/** The ACL for a policy given the connected pods (minus `excluded`); null when it selects no pod. */
export function renderPolicy(policy: PolicyView, pods: Iterable<LocalPod>, excluded?: string): Value | null {
  const inNamespace: LocalPod[] = [];
  for (const p of pods) if (p.namespace === policy.namespace && p.id !== excluded) inNamespace.push(p);
  inNamespace.sort((a, b) => (a.id < b.id ? -1 : 1));
  if (!policy.isolatesIngress) return null;
  const selected = inNamespace.filter((p) => selects(policy.podSelector, p.labels));
  if (selected.length === 0) return null;
  const rules: Value[] = [];
  for (const rule of policy.ingress) {
    const sources: string[] = [];
    if (rule.from.length === 0) sources.push(ANY);
    for (const peer of rule.from) {
      if (peer.cidr !== undefined) sources.push(peer.cidr);
      else if (peer.podSelector !== undefined) {
        for (const p of inNamespace) if (selects(peer.podSelector, p.labels)) sources.push(`${p.ip}/32`);
      }
    }
    for (const src of sources) {
      const ip = { sourceNetwork: src, destinationNetwork: ANY };
      if (rule.ports.length === 0) rules.push({ action: 'PERMIT', ipRule: { ip } });
      for (const { protocol, port } of rule.ports) {
        const range = { destinationPortRange: { lowerPort: port, upperPort: port } };
        rules.push({ action: 'PERMIT', ipRule: protocol === 'UDP' ? { ip, udp: range } : { ip, tcp: range } });
      }
    }
  }
  rules.push(DENY_ALL);
  // Traffic towards a pod leaves VPP through the pod's TAP: the ACL filters that interface's egress.
  return { name: policyAclName(policy.id), rules, interfaces: { ingress: [], egress: selected.map((p) => p.interfaceName) } };
}

export class PolicyHandler implements EventHandler {
  readonly #podNetwork: PodNetworkHandler;
  readonly #policies = new Map<string, PolicyView>();
  readonly #rendered = new Map<string, string>();
  readonly #undo = new UndoLog();

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
    for (const p of viewsOf(kubeState, 'policy', policyView)) this.#policies.set(p.id, p);
    for (const policy of this.#policies.values()) {
      const value = renderPolicy(policy, this.#podNetwork.pods.values());
      if (value === null) continue;
      txn.put(aclKey(policyAclName(policy.id)), value);
      this.#rendered.set(policy.id, JSON.stringify(value));
    }
  }

  update(event: Event, txn: UpdateOperations): string {
    this.#undo.begin(event);
    if (event instanceof KubeStateChange && event.resource === 'policy') {
      const value = event.newValue ?? event.prevValue;
      if (value === null) return '';
      const id = policyView(value).id;
      const before = this.#policies.get(id);
      if (event.newValue === null) this.#policies.delete(id);
      else this.#policies.set(id, policyView(event.newValue));
      this.#undo.record(() => (before === undefined ? this.#policies.delete(id) : this.#policies.set(id, before)));
      return this.#render(id, txn);
    }
    const change = podChangeOf(event);
    if (change === null) return '';
    // In a Reverse update this handler runs before the pod handler: leave the leaving pod out.
    const reverse = isUpdateEvent(event) && event.direction() === UpdateDirectionType.Reverse;
    const excluded = change.kind === 'disconnect' || reverse ? change.id : undefined;
    const changes: string[] = [];
    for (const policy of this.#policies.values()) {
      if (policy.namespace !== change.namespace) continue;
      const what = this.#render(policy.id, txn, excluded);
      if (what !== '') changes.push(what);
    }
    return changes.join(', ');
  }

  revert(event: Event): void {
    this.#undo.revert(event);
  }

  describeInternalData(): string {
    return `policies: ${[...this.#rendered.keys()].sort().join(', ')}`;
  }

  #render(id: string, txn: UpdateOperations, excluded?: string): string {
    const policy = this.#policies.get(id);
    const value = policy === undefined ? null : renderPolicy(policy, this.#podNetwork.pods.values(), excluded);
    const before = this.#rendered.get(id);
    const key = aclKey(policyAclName(id));
    if (value === null) {
      if (before === undefined) return '';
      txn.delete(key);
      this.#rendered.delete(id);
      this.#undo.record(() => this.#rendered.set(id, before));
      return `removed ACL of ${id}`;
    }
    const json = JSON.stringify(value);
    if (json === before) return '';
    txn.put(key, value);
    this.#rendered.set(id, json);
    this.#undo.record(() => (before === undefined ? this.#rendered.delete(id) : this.#rendered.set(id, before)));
    return `${before === undefined ? 'added' : 'updated'} ACL of ${id}`;
  }
}
