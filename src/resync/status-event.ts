import { ResyncStatus } from '../api/enums.js';

/** What a registration receives when a resync reaches it (seed: `StatusEvent`). */
export interface StatusEvent {
  resyncStatus(): ResyncStatus;
  /** Tells the orchestrator this registration has finished its part of the resync. */
  ack(): void;
}

/** A status event whose `ack()` is idempotent and never blocks, also after the orchestrator gave up. */
export class ResyncStatusEvent implements StatusEvent {
  readonly #status: ResyncStatus;
  #acked = false;
  #onAck: (() => void) | null;

  constructor(status: ResyncStatus, onAck: (() => void) | null) {
    this.#status = status;
    this.#onAck = onAck;
  }

  resyncStatus(): ResyncStatus {
    return this.#status;
  }

  ack(): void {
    if (this.#acked) return;
    this.#acked = true;
    const onAck = this.#onAck;
    this.#onAck = null;
    onAck?.();
  }

  get acked(): boolean {
    return this.#acked;
  }

  /** Drops the callback so a late `ack()` reaches nothing. */
  detach(): void {
    this.#onAck = null;
  }
}
