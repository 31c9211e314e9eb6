import { performance } from 'node:perf_hooks';
import { EventMethodType } from '../api/enums.js';
import type { FatalError } from '../api/errors.js';
import type { Event } from '../api/events.js';
import type { EventHandler } from '../api/handlers.js';
import type { RecordedTxn } from '../api/scheduler.js';
import type { EventTransaction } from './event-transaction.js';
import type { HandlerRecord } from './types.js';

/** The ALS store of one event in flight: pushes seeing it while `active` are follow-ups. */
export interface EventContext {
  readonly seqNum: number;
  /** seqNum of the event being processed when this one was pushed; null = pushed from outside. */
  readonly followUpTo: number | null;
  active: boolean;
  finished: boolean;
}

export interface NamedHandler {
  readonly handler: EventHandler;
  readonly name: string;
  /** Shared, frozen record of a successful update/resync without a change description: most events, no allocation. */
  readonly ok: HandlerRecord;
  readonly revertOk: HandlerRecord;
}

const NO_HANDLERS: readonly NamedHandler[] = Object.freeze([]);

/**
 * The state of one event's processing. The processing generator stays small (few live registers to
 * save at each suspension); everything else lives here and in plain methods.
 */
export class EventRun {
  readonly event: Event;
  readonly ctx: EventContext;
  readonly processingStart: number;
  readonly perfStart: number;
  /** Non-null only while an onEvent listener is attached: timings are measured only then. */
  readonly handlerMs: Array<{ handler: string; ms: number }> | null;
  readonly isOurShutdown: boolean;
  name = '';
  method: EventMethodType = EventMethodType.Update;
  description = '';
  isUpdate = false;
  withRevert = false;
  withHealing = true;
  reverse = false;
  skipHandlers = false;
  isHealing = false;
  healingAfterErr: Error | null = null;
  isStartupResync = false;
  isVerification = false;
  before: Array<string | undefined> | null = null;
  /** The engine's own (shared) handler list when every handler takes the event: no copy per event. */
  handlers: readonly NamedHandler[] = NO_HANDLERS;
  idx = 0;
  t0 = 0;
  txn: EventTransaction | null = null;
  wasErr: Error | null = null;
  needsHealing = false;
  fatal: FatalError | null = null;
  abort = false;
  committed = false;
  commitMs = 0;
  txnError: Error | null = null;
  recordedTxn: RecordedTxn | null = null;
  // Handler records, made only on the first record that is not the next handler's shared `ok` one;
  // until then the first `#okCount` handlers succeeded plainly (the common event allocates none).
  #records: HandlerRecord[] | null = null;
  #okCount = 0;

  constructor(event: Event, ctx: EventContext, timing: boolean, now: number, isOurShutdown: boolean) {
    this.event = event;
    this.ctx = ctx;
    this.processingStart = now;
    this.perfStart = timing ? performance.now() : 0;
    this.handlerMs = timing ? [] : null;
    this.isOurShutdown = isOurShutdown;
  }

  /** Records a plain success of `nh` (update or resync, no change description). */
  addOk(nh: NamedHandler): void {
    if (this.#records === null && this.handlers[this.#okCount] === nh) this.#okCount++;
    else this.records.push(nh.ok);
  }

  addRecord(record: HandlerRecord): void {
    this.records.push(record);
  }

  /** True while every record so far is the plain success of the handlers in order. */
  get onlyOk(): boolean {
    return this.#records === null;
  }

  /** How many handlers have a record (only meaningful while `onlyOk`). */
  get okCount(): number {
    return this.#okCount;
  }

  /** Every record in order (made into an array on first use). */
  get records(): HandlerRecord[] {
    if (this.#records === null) {
      const records: HandlerRecord[] = [];
      for (let i = 0; i < this.#okCount; i++) records.push((this.handlers[i] as NamedHandler).ok);
      this.#records = records;
    }
    return this.#records;
  }
}
