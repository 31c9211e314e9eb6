import { HealingResyncType } from '../api/enums.js';
import { EngineError } from '../api/errors.js';
import { HealingResync } from '../api/events.js';

/** Reported to the resync orchestrator when the connector sees a new dataplane epoch. */
export class DataplaneRestartedError extends EngineError {
  readonly epoch: number;
  constructor(epoch: number) {
    super('ERR_DATAPLANE_RESTARTED', `dataplane restarted (epoch ${epoch}): its state is lost`);
    this.epoch = epoch;
  }
}

/**
 * A downstream resync (periodic-type healing) whose pusher can wait for it: the orchestrator acks
 * its status event only once the controller has re-aligned the dataplane.
 */
export class DataplaneResync extends HealingResync {
  readonly #settled: Promise<Error | null>;
  #resolve!: (err: Error | null) => void;

  constructor() {
    super(HealingResyncType.Periodic);
    this.#settled = new Promise((resolve) => (this.#resolve = resolve));
  }
  override toString(): string {
    return `${this.getName()} (dataplane restarted)`;
  }
  override done(err: Error | null): void {
    this.#resolve(err);
  }
  /** Resolves with the processing error (never rejects). */
  settled(): Promise<Error | null> {
    return this.#settled;
  }
}
