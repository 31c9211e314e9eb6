// IPAM: one IP per pod from the pod subnet, lowest free address first (deterministic).
import { isResyncMethod, type Event, type EventHandler, type KubeStateData, type ResyncOperations, type UpdateOperations } from '../api/index.js';
import { IpamExhaustedError } from './errors.js';
import { formatIpv4, type Ipv4Subnet } from './ipv4.js';
import { podView, viewsOf } from './k8s-view.js';
import type { ResolvedHandlersOptions } from './options.js';
import { isPodEvent, podChangeOf } from './pod-change.js';
import { UndoLog } from './undo-log.js';

/** Offsets 0 (network) and 1 (the pods' gateway) are reserved, and so is the broadcast address. */
const FIRST_HOST_OFFSET = 2;

export class IpamHandler implements EventHandler {
  readonly #subnet: Ipv4Subnet;
  readonly #subnetText: string;
  /** pod id -> offset in the subnet */
  readonly #byPod = new Map<string, number>();
  /** 1 = taken */
  readonly #used: Uint8Array;
  /** Every offset below it is taken, so the lowest free one is found from here. */
  #hint = FIRST_HOST_OFFSET;
  readonly #undo = new UndoLog();

  constructor(options: ResolvedHandlersOptions) {
    this.#subnet = options.subnet;
    this.#subnetText = options.podSubnet;
    this.#used = new Uint8Array(this.#subnet.size);
  }

  toString(): string {
    return 'ipam';
  }

  /** The IP allocated to a pod (`<namespace>/<name>`), if any. */
  getPodIP(podId: string): string | undefined {
    const offset = this.#byPod.get(podId);
    return offset === undefined ? undefined : formatIpv4(this.#subnet.network + offset);
  }

  /** How many addresses are allocated. */
  get allocated(): number {
    return this.#byPod.size;
  }

  handlesEvent(event: Event): boolean {
    return isResyncMethod(event.method()) || isPodEvent(event);
  }

  /**
   * Keeps the allocations of pods still present, frees the others, allocates new pods in id order.
   * Pods the subnet has no room for stay without an address (and unconnected): a resync that threw
   * would fail, and a failed healing resync is fatal.
   */
  resync(_event: Event, kubeState: KubeStateData, _resyncCount: number, _txn: ResyncOperations): void {
    const present = new Set(viewsOf(kubeState, 'pod', podView).map((p) => p.id));
    for (const id of [...this.#byPod.keys()]) if (!present.has(id)) this.#release(id);
    const missing = [...present].filter((id) => !this.#byPod.has(id)).sort();
    for (const id of missing) if (this.#free(id) === undefined) break;
  }

  update(event: Event, _txn: UpdateOperations): string {
    this.#undo.begin(event);
    const change = podChangeOf(event);
    if (change === null) return '';
    if (change.kind === 'connect') {
      if (this.#byPod.has(change.id)) return '';
      const ip = this.#allocate(change.id);
      this.#undo.record(() => this.#release(change.id));
      return `allocated ${ip} to ${change.id}`;
    }
    const offset = this.#byPod.get(change.id);
    if (offset === undefined) return '';
    const ip = this.getPodIP(change.id) as string;
    this.#release(change.id);
    this.#undo.record(() => this.#take(change.id, offset));
    return `released ${ip} of ${change.id}`;
  }

  revert(event: Event): void {
    this.#undo.revert(event);
  }

  describeInternalData(): string {
    const rows = [...this.#byPod].sort((a, b) => a[1] - b[1]).map(([id, off]) => `${id}=${formatIpv4(this.#subnet.network + off)}`);
    return `ipam ${this.#subnetText}: ${rows.join(', ')}`;
  }

  #allocate(podId: string): string {
    const ip = this.#free(podId);
    if (ip === undefined) throw new IpamExhaustedError(this.#subnetText, podId);
    return ip;
  }

  /** Takes the lowest free address for the pod; undefined when the subnet is full. */
  #free(podId: string): string | undefined {
    const last = this.#subnet.size - 1; // broadcast
    let offset = this.#hint;
    while (offset < last && this.#used[offset] === 1) offset++;
    if (offset >= last) return undefined;
    this.#take(podId, offset);
    return formatIpv4(this.#subnet.network + offset);
  }

  #take(podId: string, offset: number): void {
    this.#used[offset] = 1;
    this.#byPod.set(podId, offset);
    if (offset === this.#hint) this.#hint = offset + 1;
  }

  #release(podId: string): void {
    const offset = this.#byPod.get(podId);
    if (offset === undefined) return;
    this.#used[offset] = 0;
    this.#byPod.delete(podId);
    if (offset < this.#hint) this.#hint = offset;
  }
}
