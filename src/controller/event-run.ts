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

/** A verification's snapshot of a handler whose describeInternalData() threw: not compared. */
export const NOT_DESCRIBED = Symbol('describeInternalData() threw');

const NO_HANDLERS: readonly NamedHandler[] = Object.freeze([]);
// What a spare run points at between events.
const NO_CONTEXT: EventContext = { seqNum: 0, followUpTo: null, active: false, finished: true };
const NO_EVENT: Event = Object.freeze({
  getName: () => 'none',
  toString: () => 'none',
  method: () => EventMethodType.Update,
  isBlocking: () => false,
  done: () => undefined,
});

/**
 * The state of one event's processing. The processing generator stays small (few live registers to
 * save at each suspension); everything else lives here and in plain methods. The loop reuses one
 * instance from event to event (`reset`): nothing that outlives an event points at it, and arrays
 * that do outlive it (handler records in the history, timings given to listeners) are made anew.
 */
export class EventRun {
  event!: Event;
  ctx!: EventContext;
  processingStart = 0;
  perfStart = 0;
  /** Non-null only while an onEvent listener is attached: timings are measured only then. */
  handlerMs: Array<{ handler: string; ms: number }> | null = null;
  isOurShutdown = false;
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
  before: Array<string | undefined | typeof NOT_DESCRIBED> | null = null;
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
  /** The event's history record is written. */
  recorded = false;
  // Handler records, made only on the first record that is not the next handler's shared `ok` one;
  // until then the first `#okCount` handlers succeeded plainly (the common event allocates none).
  #records: HandlerRecord[] | null = null;
  #okCount = 0;

  constructor(event: Event, ctx: EventContext, timing: boolean, now: number, isOurShutdown: boolean) {
    this.reset(event, ctx, timing, now, isOurShutdown);
  }

  /** Makes this the state of a new event (every field, so a reused instance carries nothing over). */
  reset(event: Event, ctx: EventContext, timing: boolean, now: number, isOurShutdown: boolean): void {
    this.event = event;
    this.ctx = ctx;
    this.processingStart = now;
    this.perfStart = timing ? performance.now() : 0;
    this.handlerMs = timing ? [] : null;
    this.isOurShutdown = isOurShutdown;
    this.name = '';
    this.method = EventMethodType.Update;
    this.description = '';
    this.isUpdate = false;
    this.withRevert = false;
    this.withHealing = true;
    this.reverse = false;
    this.skipHandlers = false;
    this.isHealing = false;
    this.healingAfterErr = null;
    this.isStartupResync = false;
    this.isVerification = false;
    this.before = null;
    this.handlers = NO_HANDLERS;
    this.idx = 0;
    this.t0 = 0;
    this.txn = null;
    this.wasErr = null;
    this.needsHealing = false;
    this.fatal = null;
    this.abort = false;
    this.committed = false;
    this.commitMs = 0;
    this.txnError = null;
    this.recordedTxn = null;
    this.recorded = false;
    this.#records = null;
    this.#okCount = 0;
  }

  /** Drops what the finished event referenced, so a spare instance retains nothing. */
  clear(): void {
    this.reset(NO_EVENT, NO_CONTEXT, false, 0, false);
  }

  /** Records a plain success of `nh` (update or resync, no change description). */
  addOk(nh: NamedHandler): void {
    if (this.#records === null && this.handlers[this.#okCount] === nh) this.#okCount++;
    else this.records.push(nh.ok);
  }

  addRecord(record: HandlerRecord): void {
    this.records.push(Object.freeze(record));
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
