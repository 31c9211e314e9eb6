// Pod networking: each connected pod gets a TAP interface with its IP, a /32 route and a static ARP entry.
import { isResyncMethod, type Event, type EventHandler, type KubeStateData, type ResyncOperations, type UpdateOperations } from '../api/index.js';
import { EngineError } from '../api/index.js';
import type { IpamHandler } from './ipam.js';
import { fnv1a32, macFromHash } from './ipv4.js';
import { podView, viewsOf, type Labels } from './k8s-view.js';
import { podConfig, type PodConfig } from './keys.js';
import { vppName } from './names.js';
import { isPodEvent, podChangeOf } from './pod-change.js';
import { AddPod, DeletePod } from './pod-events.js';
import { UndoLog } from './undo-log.js';

/** A pod this node has connected. */
export interface LocalPod {
  readonly id: string;
  readonly namespace: string;
  readonly name: string;
  readonly labels: Labels;
  readonly ip: string;
  readonly interfaceName: string;
  readonly config: PodConfig;
}

const NO_LABELS: Labels = new Map();

/**
 * VPP-side TAP name of a pod: `tap-<namespace>.<name>` (unique: namespaces have no dots, see names.ts), or
 * `tap-<hash>` of the id when that is too long for VPP.
 */
export function podInterfaceName(podId: string): string {
  const slash = podId.indexOf('/');
  return vppName(`tap-${podId.slice(0, slash)}.${podId.slice(slash + 1)}`, 'tap-', podId);
}

export function podMac(podId: string): string {
  return macFromHash(fnv1a32(`mac:${podId}`));
}

export class PodNetworkHandler implements EventHandler {
  readonly #ipam: IpamHandler;
  readonly #pods = new Map<string, LocalPod>();
  /** Labels of the pods in the Kubernetes state, for a pod the CNI connects (AddPod carries none). */
  readonly #k8sLabels = new Map<string, Labels>();
  readonly #undo = new UndoLog();

  constructor(ipam: IpamHandler) {
    this.#ipam = ipam;
  }

  toString(): string {
    return 'pod-network';
  }

  /** The connected pods by `<namespace>/<name>`. */
  get pods(): ReadonlyMap<string, LocalPod> {
    return this.#pods;
  }

  handlesEvent(event: Event): boolean {
    return isResyncMethod(event.method()) || isPodEvent(event);
  }

  resync(_event: Event, kubeState: KubeStateData, _resyncCount: number, txn: ResyncOperations): void {
    this.#pods.clear();
    this.#k8sLabels.clear();
    for (const pod of viewsOf(kubeState, 'pod', podView)) {
      this.#k8sLabels.set(pod.id, pod.labels);
      const local = this.#connect(pod.id, pod.namespace, pod.name, pod.labels);
      if (local !== undefined) putPod(txn, local);
    }
  }

  update(event: Event, txn: UpdateOperations): string {
    this.#undo.begin(event);
    const change = podChangeOf(event);
    if (change === null) return '';
    const existing = this.#pods.get(change.id);
    if (!(event instanceof AddPod) && !(event instanceof DeletePod)) this.#rememberLabels(change.id, change.kind === 'connect' ? change.labels : null);
    if (change.kind === 'disconnect') {
      if (existing === undefined) return '';
      txn.delete(existing.config.arpKey);
      txn.delete(existing.config.routeKey);
      txn.delete(existing.config.interfaceKey);
      this.#pods.delete(change.id);
      this.#undo.record(() => this.#pods.set(change.id, existing));
      return `disconnected ${change.id}`;
    }
    if (existing !== undefined) {
      if (event instanceof AddPod) event.result = { ipAddress: existing.ip, interfaceName: existing.interfaceName };
      if (change.labels === null || sameLabels(change.labels, existing.labels)) return '';
      this.#pods.set(change.id, { ...existing, labels: change.labels });
      this.#undo.record(() => this.#pods.set(change.id, existing));
      return `relabelled ${change.id}`;
    }
    const local = this.#connect(change.id, change.namespace, change.name, change.labels ?? this.#k8sLabels.get(change.id) ?? NO_LABELS);
    if (local === undefined) {
      // The IPAM handler failed this event already (a full subnet); a later change or resync connects the pod.
      if (!(event instanceof AddPod)) return `${change.id} not connected: no IP address`;
      throw new EngineError('ERR_NO_POD_IP', `pod ${change.id} has no IP address (is the IPAM handler before the pod handler?)`);
    }
    putPod(txn, local);
    this.#undo.record(() => this.#pods.delete(change.id));
    if (event instanceof AddPod) {
      event.result = { ipAddress: local.ip, interfaceName: local.interfaceName };
      this.#undo.record(() => (event.result = null));
    }
    return `connected ${change.id} (${local.ip} on ${local.interfaceName})`;
  }

  revert(event: Event): void {
    this.#undo.revert(event);
  }

  describeInternalData(): string {
    const rows = [...this.#pods.values()].map((p) => `${p.id}=${p.ip}@${p.interfaceName}`).sort();
    return `pods: ${rows.join(', ')}`;
  }

  #rememberLabels(id: string, labels: Labels | null): void {
    const before = this.#k8sLabels.get(id);
    if (labels === null) this.#k8sLabels.delete(id);
    else this.#k8sLabels.set(id, labels);
    this.#undo.record(() => (before === undefined ? this.#k8sLabels.delete(id) : this.#k8sLabels.set(id, before)));
  }

  #connect(id: string, namespace: string, name: string, labels: Labels): LocalPod | undefined {
    const ip = this.#ipam.getPodIP(id);
    if (ip === undefined) return undefined;
    const interfaceName = podInterfaceName(id);
    const local: LocalPod = { id, namespace, name, labels, ip, interfaceName, config: podConfig(interfaceName, ip, podMac(id)) };
    this.#pods.set(id, local);
    return local;
  }
}

function putPod(txn: ResyncOperations, pod: LocalPod): void {
  txn.put(pod.config.interfaceKey, pod.config.interface);
  txn.put(pod.config.routeKey, pod.config.route);
  txn.put(pod.config.arpKey, pod.config.arp);
}

function sameLabels(a: Labels, b: Labels): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}
