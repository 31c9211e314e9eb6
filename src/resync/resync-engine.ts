import { ResyncStatus } from '../api/enums.js';
import { toError } from '../api/errors.js';
import { ResyncOrchestratorClosedError } from './errors.js';
import type { ResolvedResyncOptions } from './options.js';
import type { StatusChannel } from './registration.js';
import type { OrchestratorState, RegistrationOutcome, ResyncListener, ResyncReason, ResyncRunInfo } from './run-info.js';
import { ResyncStatusEvent } from './status-event.js';

/** One resync that is planned or running; every report and `doResync()` before it starts joins it. */
interface Plan {
  readonly reasons: ResyncReason[];
  readonly callers: Array<{ resolve: () => void; reject: (err: Error) => void }>;
}

/** The orchestrator's state machine, behind the validating facade. */
export class ResyncEngine {
  readonly #options: ResolvedResyncOptions;
  readonly #channels: StatusChannel[] = [];
  readonly #listeners = new Set<ResyncListener>();
  #planned: Plan | null = null;
  #running: Promise<void> | null = null;
  #startHandle: NodeJS.Immediate | null = null;
  /** Cancels the wait of the registration being resynced (set while one is waited for). */
  #cancelStep: (() => void) | null = null;
  #closed = false;
  #runs = 0;

  constructor(options: ResolvedResyncOptions) {
    this.#options = options;
  }

  get state(): OrchestratorState {
    if (this.#closed) return 'closed';
    if (this.#running) return 'running';
    return this.#planned ? 'planned' : 'idle';
  }

  get resyncCount(): number {
    return this.#runs;
  }

  add(channel: StatusChannel): void {
    this.#channels.push(channel);
  }

  has(name: string): boolean {
    return this.#channels.some((c) => c.name === name);
  }

  onResync(listener: ResyncListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  doResync(): Promise<void> {
    if (this.#closed) return Promise.reject(new ResyncOrchestratorClosedError('run a resync'));
    const plan = this.#plan();
    return new Promise((resolve, reject) => plan.callers.push({ resolve, reject }));
  }

  reportError(name: string, error: Error): void {
    if (this.#closed) {
      this.#options.logger.debug({ registration: name, err: error }, 'resync orchestrator closed: error report ignored');
      return;
    }
    this.#options.logger.warn({ registration: name, err: error }, 'error reported: resync planned');
    this.#plan().reasons.push({ name, error });
  }

  async close(): Promise<void> {
    if (this.#closed) {
      await this.#running;
      return;
    }
    this.#closed = true;
    if (this.#startHandle) clearImmediate(this.#startHandle);
    this.#startHandle = null;
    const planned = this.#planned;
    this.#planned = null;
    if (planned) for (const c of planned.callers) c.reject(new ResyncOrchestratorClosedError('run a resync'));
    this.#cancelStep?.();
    for (const c of this.#channels) c.close();
    await this.#running;
  }

  /** Joins the planned run, or plans one that starts after the current run (or on the next turn). */
  #plan(): Plan {
    if (this.#planned) return this.#planned;
    const plan: Plan = { reasons: [], callers: [] };
    this.#planned = plan;
    // Never start inside the caller: a reporter may be in the middle of its own work.
    if (!this.#running) this.#startHandle = setImmediate(() => this.#startPlanned());
    return plan;
  }

  #startPlanned(): void {
    this.#startHandle = null;
    const plan = this.#planned;
    if (!plan || this.#closed) return;
    this.#planned = null;
    this.#running = this.#run(plan).finally(() => {
      this.#running = null;
      // A report during the run planned exactly one more; it starts now.
      if (this.#planned && !this.#closed) this.#startPlanned();
    });
  }

  async #run(plan: Plan): Promise<void> {
    const run = ++this.#runs;
    const startedAt = Date.now();
    const { logger } = this.#options;
    logger.info({ run, reasons: plan.reasons.length, registrations: this.#channels.length }, 'resync started');
    const outcomes: RegistrationOutcome[] = [];
    const channels = [...this.#channels];
    for (const channel of channels) {
      if (this.#closed) break;
      const t0 = performance.now();
      const outcome = await this.#resyncOne(channel);
      const ms = performance.now() - t0;
      outcomes.push({ name: channel.name, outcome, ms });
      if (outcome === 'skipped') {
        logger.warn({ run, registration: channel.name, acceptTimeout: this.#options.acceptTimeout }, 'resync: registration did not take the Started event in time, skipped');
      } else if (outcome === 'ack-timeout') {
        logger.warn({ run, registration: channel.name, ackTimeout: this.#options.ackTimeout }, 'resync: registration did not acknowledge in time, going on');
      }
    }
    const completed = outcomes.length === channels.length && outcomes.every((o) => o.outcome !== 'cancelled');
    const info: ResyncRunInfo = { run, reasons: plan.reasons, outcomes, startedAt, durationMs: Date.now() - startedAt, completed };
    logger.info({ run, durationMs: info.durationMs, completed }, 'resync finished');
    for (const listener of this.#listeners) {
      try {
        listener(info);
      } catch (err) {
        logger.warn({ err: toError(err) }, 'resync listener threw');
      }
    }
    // A run close() cut short did not resync every registration: its callers learn so, as those of
    // a run that was only planned do.
    if (!completed && this.#closed) for (const c of plan.callers) c.reject(new ResyncOrchestratorClosedError('finish the resync'));
    else for (const c of plan.callers) c.resolve();
  }

  #resyncOne(channel: StatusChannel): Promise<RegistrationOutcome['outcome']> {
    const { acceptTimeout, ackTimeout } = this.#options;
    return new Promise((resolve) => {
      let settled = false;
      let taken = false;
      let timer: NodeJS.Timeout | undefined;
      const finish = (outcome: RegistrationOutcome['outcome']): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.#cancelStep = null;
        event.detach();
        resolve(outcome);
      };
      const event = new ResyncStatusEvent(ResyncStatus.Started, () => finish('acked'));
      this.#cancelStep = () => {
        channel.withdraw();
        finish('cancelled');
      };
      channel.offer(event, () => {
        taken = true;
        clearTimeout(timer);
        if (!settled) timer = setTimeout(() => finish('ack-timeout'), ackTimeout);
      });
      if (!taken) {
        timer = setTimeout(() => {
          channel.withdraw();
          finish('skipped');
        }, acceptTimeout);
      }
    });
  }
}
