import type { Event } from './events.js';
import type { ResyncOperations, UpdateOperations } from './transactions.js';
import type { KubeStateData } from './values.js';

/**
 * Reacts to events by building key-value transactions. A handler fails by throwing (or rejecting).
 * Sync handlers cost no promise: the loop awaits only when a thenable comes back.
 */
export interface EventHandler {
  /** Identifies the handler in logs and history. */
  toString(): string;
  handlesEvent(event: Event): boolean;
  resync(event: Event, kubeStateData: KubeStateData, resyncCount: number, txn: ResyncOperations): void | Promise<void>;
  /** Returns a description of the change it made, if any. */
  update(event: Event, txn: UpdateOperations): string | void | Promise<string | void>;
  revert(event: Event): void | Promise<void>;
  /** Optional: a dump of the handler's internal state, compared before/after a verification resync. */
  describeInternalData?(): string;
}
