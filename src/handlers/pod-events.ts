// CNI-style events: a container runtime asks for a pod's network (AddPod) or gives it back (DeletePod).
import {
  EventMethodType,
  UpdateDirectionType,
  UpdateTransactionType,
  WaitableEvent,
  type UpdateEvent,
} from '../api/index.js';
import { isK8sName, isK8sNamespace } from './names.js';

function checked(what: string, v: unknown, ok: (v: unknown) => v is string, rule: string): string {
  if (!ok(v)) throw new TypeError(`${what} must be a Kubernetes ${rule}, received ${JSON.stringify(v) ?? String(v)}`);
  return v;
}

/** What the pod got, filled in by the pod-network handler (the CNI reply). */
export interface PodNetworkResult {
  readonly ipAddress: string;
  readonly interfaceName: string;
}

abstract class PodEvent extends WaitableEvent implements UpdateEvent {
  readonly namespace: string;
  readonly name: string;
  /** Ignored by the handlers; kept for logs, as the reference's CNI request carries it. */
  readonly containerId: string;

  constructor(pod: { namespace: string; name: string; containerId?: string }) {
    super();
    if (typeof pod !== 'object' || pod === null) throw new TypeError(`pod must be { namespace, name }, received ${String(pod)}`);
    this.namespace = checked('pod.namespace', pod.namespace, isK8sNamespace, "namespace (lower-case alphanumerics and '-')");
    this.name = checked('pod.name', pod.name, isK8sName, "name (lower-case alphanumerics, '-', '.')");
    this.containerId = typeof pod.containerId === 'string' ? pod.containerId : '';
  }
  /** `<namespace>/<name>` */
  get podId(): string {
    return `${this.namespace}/${this.name}`;
  }
  abstract getName(): string;
  abstract transactionType(): UpdateTransactionType;
  abstract direction(): UpdateDirectionType;
  override toString(): string {
    return `${this.getName()} (${this.podId})`;
  }
  method(): EventMethodType {
    return EventMethodType.Update;
  }
  /** The CNI waits for the reply. */
  isBlocking(): boolean {
    return true;
  }
}

/** Connects a pod: blocking, all-or-nothing (RevertOnFailure), handlers in forward order. */
export class AddPod extends PodEvent {
  /** Set when the pod was connected. */
  result: PodNetworkResult | null = null;

  getName(): string {
    return 'Add Pod';
  }
  transactionType(): UpdateTransactionType {
    return UpdateTransactionType.RevertOnFailure;
  }
  direction(): UpdateDirectionType {
    return UpdateDirectionType.Forward;
  }
}

/** Disconnects a pod: blocking, best effort without healing, handlers in reverse order. */
export class DeletePod extends PodEvent {
  getName(): string {
    return 'Delete Pod';
  }
  transactionType(): UpdateTransactionType {
    return UpdateTransactionType.BestEffortIgnoreErrors;
  }
  direction(): UpdateDirectionType {
    return UpdateDirectionType.Reverse;
  }
}
