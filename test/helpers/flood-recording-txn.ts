// Test double of the controller's transaction (ResyncOperations / UpdateOperations): records puts and
// deletes so the built-in handlers can be unit-tested without the controller.
import {
  UpdateDirectionType,
  isUpdateEvent,
  newKubeStateData,
  type Event,
  type EventHandler,
  type KubeStateData,
  type UpdateOperations,
  type Value,
} from '../../src/api/index.js';

export class RecordingTxn implements UpdateOperations {
  readonly changes = new Map<string, Value | null>();

  put(key: string, value: Value): void {
    if (value === null || value === undefined) throw new TypeError('value must not be null');
    this.changes.set(key, value);
  }
  get(key: string): Value | undefined {
    return this.changes.get(key) ?? undefined;
  }
  delete(key: string): void {
    this.changes.set(key, null);
  }
}

/**
 * A tiny stand-in for the controller's processing of one event over the handlers: order by
 * direction, revert the handlers that ran on the first error, apply the changes to `state`.
 */
export function drive(
  handlers: readonly EventHandler[],
  event: Event,
  state: Map<string, Value>,
  options: { failCommit?: boolean } = {},
): { changes: Map<string, Value | null>; descriptions: string[]; error: Error | null } {
  const txn = new RecordingTxn();
  const order = isUpdateEvent(event) && event.direction() === UpdateDirectionType.Reverse ? [...handlers].reverse() : [...handlers];
  const ran: EventHandler[] = [];
  const descriptions: string[] = [];
  let error: Error | null = null;
  for (const h of order) {
    if (!h.handlesEvent(event)) continue;
    ran.push(h);
    try {
      const d = h.update(event, txn);
      if (typeof d === 'string' && d !== '') descriptions.push(d);
    } catch (err) {
      error = err as Error;
      break;
    }
  }
  if (error === null && options.failCommit === true) error = new Error('commit failed');
  if (error !== null) {
    for (const h of ran.reverse()) void h.revert(event);
    return { changes: new Map(), descriptions, error };
  }
  for (const [k, v] of txn.changes) {
    if (v === null) state.delete(k);
    else state.set(k, v);
  }
  return { changes: txn.changes, descriptions, error };
}

/** Runs a resync over the handlers in order and replaces `state` with its result. */
export function driveResync(handlers: readonly EventHandler[], event: Event, kubeState: KubeStateData, state: Map<string, Value>): void {
  const txn = new RecordingTxn();
  for (const h of handlers) if (h.handlesEvent(event)) void h.resync(event, kubeState, 1, txn);
  state.clear();
  for (const [k, v] of txn.changes) if (v !== null) state.set(k, v);
}

export function kubeStateWith(entries: Record<string, Array<[string, Value]>>): KubeStateData {
  const ks = newKubeStateData();
  for (const [resource, kvs] of Object.entries(entries)) ks.set(resource, new Map(kvs));
  return ks;
}
