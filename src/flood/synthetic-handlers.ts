// Synthetic mode: N simple handlers, each toggling K VRF tables per event (created if absent,
// deleted if present) in a small key space of its own: raw throughput with a state that stays bounded.
import {
  EventMethodType,
  UpdateDirectionType,
  UpdateTransactionType,
  isResyncMethod,
  type Event,
  type EventHandler,
  type KubeStateData,
  type ResyncOperations,
  type UpdateEvent,
  type UpdateOperations,
  type Value,
} from '../api/index.js';

/** The event the synthetic handlers react to: the generator's `index`-th update. */
export class SyntheticUpdate implements UpdateEvent {
  constructor(readonly index: number) {}
  getName(): string {
    return 'Synthetic Update';
  }
  toString(): string {
    return `Synthetic Update #${this.index}`;
  }
  method(): EventMethodType {
    return EventMethodType.Update;
  }
  transactionType(): UpdateTransactionType {
    return UpdateTransactionType.BestEffort;
  }
  direction(): UpdateDirectionType {
    return UpdateDirectionType.Forward;
  }
  isBlocking(): boolean {
    return false;
  }
  done(_err: Error | null): void {}
}

/** First VRF id the synthetic handlers use (below it: the built-in and external kinds). */
export const SYNTHETIC_VRF_BASE = 1000;

export function syntheticSlots(keysPerEvent: number): number {
  return Math.max(16, keysPerEvent * 4);
}

export function vrfKey(id: number): string {
  return `config/vpp/v2/vrf-table/id/${id}/protocol/IPV4`;
}

export class SyntheticHandler implements EventHandler {
  readonly #index: number;
  readonly #keysPerEvent: number;
  readonly #slots: number;
  /** VRF id -> value, what this handler wants configured */
  readonly #tables = new Map<number, Value>();
  #undo: { event: Event; changed: Array<[number, Value | undefined]> } | null = null;

  constructor(index: number, keysPerEvent: number) {
    this.#index = index;
    this.#keysPerEvent = keysPerEvent;
    this.#slots = syntheticSlots(keysPerEvent);
  }

  toString(): string {
    return `synthetic-${this.#index}`;
  }

  /** What this handler wants configured. */
  get desired(): ReadonlyMap<string, Value> {
    const out = new Map<string, Value>();
    for (const [id, v] of this.#tables) out.set(vrfKey(id), v);
    return out;
  }

  handlesEvent(event: Event): boolean {
    return event instanceof SyntheticUpdate || isResyncMethod(event.method());
  }

  resync(_event: Event, _kubeState: KubeStateData, _resyncCount: number, txn: ResyncOperations): void {
    for (const [id, v] of this.#tables) txn.put(vrfKey(id), v);
  }

  update(event: Event, txn: UpdateOperations): void {
    if (!(event instanceof SyntheticUpdate)) return;
    const changed: Array<[number, Value | undefined]> = [];
    const first = SYNTHETIC_VRF_BASE + this.#index * this.#slots;
    const base = (event.index * this.#keysPerEvent) % this.#slots;
    for (let k = 0; k < this.#keysPerEvent; k++) {
      const id = first + ((base + k) % this.#slots);
      const before = this.#tables.get(id);
      changed.push([id, before]);
      if (before === undefined) {
        const value: Value = { id, protocol: 'IPV4', label: `synthetic-${this.#index}` };
        this.#tables.set(id, value);
        txn.put(vrfKey(id), value);
      } else {
        this.#tables.delete(id);
        txn.delete(vrfKey(id));
      }
    }
    this.#undo = { event, changed };
  }

  revert(event: Event): void {
    if (this.#undo?.event !== event) return;
    for (const [id, before] of this.#undo.changed.reverse()) {
      if (before === undefined) this.#tables.delete(id);
      else this.#tables.set(id, before);
    }
    this.#undo = null;
  }
}

export function syntheticHandlers(count: number, keysPerEvent: number): SyntheticHandler[] {
  return Array.from({ length: count }, (_, i) => new SyntheticHandler(i, keysPerEvent));
}
