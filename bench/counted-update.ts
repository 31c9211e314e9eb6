// The update event the loop and e2e suites push: a best-effort forward update that reports its
// completion to the batch it belongs to, so a suite can wait for a batch and verify it.
import { EventMethodType, UpdateDirectionType, UpdateTransactionType, type UpdateEvent } from '../src/api/index.js';

/** Counts the events of one batch as they finish. */
export class UpdateBatch {
  done = 0;
  errors = 0;
  firstError: Error | null = null;
  #target = 0;
  #resolve: (() => void) | null = null;

  /** Resets the counters; resolves once `target` events have finished. */
  expect(target: number): Promise<void> {
    this.done = 0;
    this.errors = 0;
    this.firstError = null;
    this.#target = target;
    return new Promise((resolve) => (this.#resolve = resolve));
  }

  finished(err: Error | null): void {
    if (err !== null) {
      this.errors++;
      this.firstError ??= err;
    }
    if (++this.done === this.#target) this.#resolve?.();
  }
}

export class CountedUpdate implements UpdateEvent {
  constructor(
    readonly id: number,
    readonly batch: UpdateBatch,
    readonly name: string,
  ) {}
  getName(): string {
    return this.name;
  }
  toString(): string {
    return this.name;
  }
  method(): EventMethodType {
    return EventMethodType.Update;
  }
  isBlocking(): boolean {
    return false;
  }
  transactionType(): UpdateTransactionType {
    return UpdateTransactionType.BestEffort;
  }
  direction(): UpdateDirectionType {
    return UpdateDirectionType.Forward;
  }
  done(err: Error | null): void {
    this.batch.finished(err);
  }
}
