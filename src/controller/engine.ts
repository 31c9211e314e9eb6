import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import {
  EventMethodType,
  HealingResyncType,
  UpdateDirectionType,
  UpdateTransactionType,
} from '../api/enums.js';
import {
  AbortEventError,
  ControllerClosedError,
  DeadlockError,
  EventLoopAbortingError,
  EventQueueFullError,
  FatalError,
  TransactionError,
  toError,
} from '../api/errors.js';
import {
  DBResync,
  ExternalConfigChange,
  HealingResync,
  KubeStateChange,
  Shutdown,
  VerificationResync,
  isUpdateEvent,
  type Event,
} from '../api/events.js';
import type { EventHandler } from '../api/handlers.js';
import type { CommitOptions, CommitResult, KVScheduler, RecordedTxn } from '../api/scheduler.js';
import type { KeyValuePairs, KubeStateData, Value } from '../api/values.js';
import { newKubeStateData } from '../api/values.js';
import type { ControllerConfig } from './config.js';
import { CommitTimeoutError, HandlerTimeoutError, HealingFailedError, InvalidCommitResultError, InvalidEventError, StartupResyncDeadlineError } from './errors.js';
import { EventHistory } from './event-history.js';
import { EventQueue } from './event-queue.js';
import { EventRun, NOT_DESCRIBED, type EventContext, type NamedHandler } from './event-run.js';
import { readPayload, type Payload } from './event-payload.js';
import { EventTransaction } from './event-transaction.js';
import { levelEnabled, type ControllerLogger } from './logger.js';
import { mergeValues } from './merge-values.js';
import type {
  EventHistoryQuery,
  EventRecord,
  ExternalConfigSource,
  HandlerRecord,
  HealthState,
  OwnedScheduler,
  ProcessedEventInfo,
  StatusCheck,
} from './types.js';

/** The name the controller reports its state under to the status check. */
export const CONTROLLER_STATUS_NAME = 'controller';
/** The name of the database's external-config source (always merged first). */
export const DB_SOURCE = 'db';

const MINUTE_MS = 60_000;
// Events processed back to back before the loop yields a macrotask to timers and I/O: at most
// this many, and no longer than TURN_MS (the clock is read every 16 events: a read costs ~0.5 µs).
const EVENTS_PER_TURN = 512;
const TURN_MS = 10;
const METHOD_NAMES = ['FullResync', 'DownstreamResync', 'UpstreamResync', 'Update'] as const;

/** A queued follow-up; the main queue holds bare events (pushed from outside: no follow-up). */
interface FollowUp {
  readonly event: Event;
  readonly followUpTo: number;
}

const NO_TIMINGS: ReadonlyArray<{ handler: string; ms: number }> = Object.freeze([]);
const NO_RECORDS: readonly HandlerRecord[] = Object.freeze([]);

type Processing = Generator<PromiseLike<unknown>, void, unknown>;

// Where the processing generator enters an event the direct path could not finish synchronously.
const STAGE_SOURCES = 0;
const STAGE_HANDLERS = 1;
const STAGE_REVERT = 2;
type Stage = typeof STAGE_SOURCES | typeof STAGE_HANDLERS | typeof STAGE_REVERT;

export interface EngineInit {
  readonly handlers: ReadonlyArray<{ readonly handler: EventHandler; readonly name: string }>;
  readonly scheduler: KVScheduler | null;
  readonly createScheduler: (() => Promise<OwnedScheduler>) | null;
  readonly extSources: readonly ExternalConfigSource[];
  readonly config: ControllerConfig;
  readonly statusCheck: StatusCheck | null;
  readonly logger: ControllerLogger;
  readonly now: () => number;
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (typeof v === 'object' || typeof v === 'function') && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

function safeName(event: Event): string {
  try {
    return String(event.getName());
  } catch {
    return '<invalid event>';
  }
}

function sameRecords(a: readonly HandlerRecord[], b: readonly HandlerRecord[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The event loop itself; the `Controller` facade validates options and delegates here. */
export class ControllerEngine {
  readonly #handlers: readonly NamedHandler[];
  readonly #reversed: readonly NamedHandler[];
  // What `records` is when every handler ran fine without a change description: shared, so the history retains nothing new.
  readonly #allOk: readonly HandlerRecord[];
  readonly #allOkReversed: readonly HandlerRecord[];
  readonly #extSources: readonly ExternalConfigSource[];
  readonly #cfg: ControllerConfig;
  readonly #statusCheck: StatusCheck | null;
  readonly #log: ControllerLogger;
  readonly #now: () => number;
  readonly #createScheduler: (() => Promise<OwnedScheduler>) | null;
  #scheduler: KVScheduler | null;
  #owned: OwnedScheduler | null = null;

  readonly #als = new AsyncLocalStorage<EventContext>();
  readonly #queue = new EventQueue<Event>();
  readonly #followUps = new EventQueue<FollowUp>();
  // Events popped before the first DBResync was processed (SPEC C4), in arrival order.
  readonly #held = new EventQueue<Event>();
  readonly #history: EventHistory;
  readonly #listeners = new Set<(info: ProcessedEventInfo) => void>();

  #startPromise: Promise<void> | null = null;
  #closePromise: Promise<void> | null = null;
  #started = false;
  #closing = false;
  #loopEnded = false;
  #aborting = false;
  #startupDone = false;
  /** DBResyncs pushed and not finished yet: the startup deadline waits for them, however long they take (SPEC C4). */
  #startupPending = 0;
  /** The deadline passed while a DBResync was on its way: if none of them opens the gate, the loop aborts then. */
  #deadlinePassed = false;
  #shutdownEvent: Shutdown | null = null;

  #busy = false;
  #drainScheduled = false;
  #sinceYield = 0;
  #turnStart = 0;
  #seqNum = 0;
  #resyncCount = 0;

  // The event being processed, and the generator that processes it (suspended on a thenable).
  #gen: Processing | null = null;
  #run: EventRun | null = null;
  // The previous event's state object, cleared, for the next event: one less allocation per event.
  #spareRun: EventRun | null = null;
  #event: Event | null = null;
  #nextFollowUpTo: number | null = null;
  #ctx: EventContext | null = null;
  #txn: EventTransaction | null = null;

  #kubeState: KubeStateData = newKubeStateData();
  // Insertion order is merge order: `db` first, then extSources, then sources first seen in events.
  readonly #extConfig = new Map<string, Map<string, Value>>();
  #internal = new Map<string, Value>();
  // Whether any source has a value: updates skip merging entirely when none does.
  #hasExt = false;

  readonly #optionsCache = new Map<string, CommitOptions>();
  #healingScheduled = false;
  #healingTimer: NodeJS.Timeout | null = null;
  /** The healing resync our timer pushed: processing it (not one pushed by others) re-opens scheduling. */
  #healingEvent: HealingResync | null = null;
  #periodicTimer: NodeJS.Timeout | null = null;
  #deadlineTimer: NodeJS.Timeout | null = null;
  #trimTimer: NodeJS.Timeout | null = null;

  constructor(init: EngineInit) {
    this.#handlers = init.handlers.map(({ handler, name }) => ({
      handler,
      name,
      ok: Object.freeze({ handler: name, revert: false, change: '', error: null }),
      revertOk: Object.freeze({ handler: name, revert: true, change: '', error: null }),
    }));
    this.#reversed = [...this.#handlers].reverse();
    this.#allOk = Object.freeze(this.#handlers.map((h) => h.ok));
    this.#allOkReversed = Object.freeze(this.#reversed.map((h) => h.ok));
    this.#extSources = init.extSources;
    this.#cfg = init.config;
    this.#statusCheck = init.statusCheck;
    this.#log = init.logger;
    this.#now = init.now;
    this.#scheduler = init.scheduler;
    this.#createScheduler = init.createScheduler;
    this.#history = new EventHistory(
      init.config.eventHistoryAgeLimit,
      init.config.permanentlyRecordedInitPeriod,
      init.config.eventHistoryMaxRecords,
    );
    this.#extConfig.set(DB_SOURCE, new Map());
    for (const src of init.extSources) this.#extConfig.set(String(src), new Map());
  }

  // ---------------------------------------------------------------- public surface

  get resyncCount(): number {
    return this.#resyncCount;
  }
  get queueDepth(): number {
    return this.#queue.length + this.#followUps.length + this.#held.length;
  }
  get isAborting(): boolean {
    return this.#aborting;
  }
  get healthState(): HealthState {
    return this.#aborting ? 'error' : 'ok';
  }

  start(): Promise<void> {
    if (this.#closing) return Promise.reject(new ControllerClosedError('controller is closed: it cannot be started'));
    this.#startPromise ??= this.#doStart().catch((err: unknown) => {
      this.#startPromise = null;
      throw err;
    });
    return this.#startPromise;
  }

  pushEvent(event: Event): void {
    if (this.#closing) throw new ControllerClosedError();
    if (
      typeof event !== 'object' ||
      event === null ||
      typeof event.getName !== 'function' ||
      typeof event.method !== 'function' ||
      typeof event.isBlocking !== 'function' ||
      typeof event.done !== 'function'
    ) {
      throw new InvalidEventError('pushEvent() expects an Event: an object with getName(), method(), isBlocking() and done()');
    }
    const capacity = this.#cfg.eventQueueSize;
    const ctx = this.#als.getStore();
    const isDBResync = event instanceof DBResync;
    if (ctx !== undefined && ctx.active) {
      let blocking: boolean;
      try {
        blocking = event.isBlocking();
      } catch (err) {
        throw new InvalidEventError(`isBlocking() of event "${safeName(event)}" threw`, { cause: err });
      }
      if (blocking) throw new DeadlockError(safeName(event));
      if (this.#followUps.length >= capacity) throw new EventQueueFullError(capacity);
      this.#followUps.push({ event, followUpTo: ctx.seqNum });
      if (isDBResync) this.#startupPending++;
      return;
    }
    // Held events count against the capacity, but never against the first DBResync on its way: it
    // is the one event that releases them (they would lock it out, and the loop abort at the deadline).
    const opensGate = isDBResync && !this.#startupDone && this.#startupPending === 0;
    if (!opensGate && this.#queue.length + this.#held.length >= capacity) throw new EventQueueFullError(capacity);
    this.#queue.push(event);
    if (isDBResync) this.#startupPending++;
    if (!this.#busy) this.#scheduleDrain();
  }

  getConfig(key: string): Value | undefined {
    const txn = this.#txn;
    let v: Value | undefined;
    if (txn !== null && txn.has(key)) v = txn.get(key);
    else v = this.#internal.get(key);
    return v === undefined ? undefined : structuredClone(v);
  }

  getEventHistory(query?: EventHistoryQuery): EventRecord[] {
    return this.#history.query(query);
  }

  /** What the minute timer runs: drops records older than `eventHistoryAgeLimit`. */
  trimEventHistory(): number {
    return this.#history.trim(this.#now());
  }

  onEvent(listener: (info: ProcessedEventInfo) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  close(): Promise<void> {
    this.#closePromise ??= this.#doClose();
    // From a handler of the event being processed the loop can only end after that event, which
    // waits for the handler: awaiting the whole close there would never end. The handler gets a
    // promise that resolves now (the Shutdown is queued); the rest completes after its event.
    const ctx = this.#als.getStore();
    if (ctx !== undefined && ctx.active) return Promise.resolve();
    return this.#closePromise;
  }

  // ---------------------------------------------------------------- start / close

  async #doStart(): Promise<void> {
    if (this.#scheduler === null) {
      if (this.#createScheduler === null) {
        throw new TypeError('options.scheduler or options.createScheduler is required (no default scheduler stack is wired in)');
      }
      const owned = await this.#createScheduler();
      if (typeof owned !== 'object' || owned === null || typeof owned.scheduler?.commit !== 'function' || typeof owned.close !== 'function') {
        // What was built is ours to release even though it cannot be used.
        if (typeof (owned as { close?: unknown } | null)?.close === 'function') await Promise.resolve(owned.close()).catch(() => undefined);
        throw new TypeError('options.createScheduler must resolve to { scheduler: KVScheduler, close(): Promise<void> }');
      }
      this.#owned = owned;
      this.#scheduler = owned.scheduler;
    }
    this.#started = true;
    this.#history.setStart(this.#now());
    // Controller timers run outside any event's context, so their pushes are never follow-ups.
    this.#als.exit(() => {
      this.#deadlineTimer = setTimeout(() => this.#onStartupDeadline(), this.#cfg.startupResyncDeadline);
      if (this.#cfg.recordEventHistory) {
        this.#trimTimer = setInterval(() => this.trimEventHistory(), MINUTE_MS);
        // Trimming alone must not keep the process alive.
        this.#trimTimer.unref();
      }
    });
    this.#scheduleDrain();
  }

  async #doClose(): Promise<void> {
    this.#closing = true;
    // Healing and periodic resyncs cannot be pushed any more: their timers would only log that.
    this.#clearHealingTimers();
    if (this.#startPromise !== null) await this.#startPromise.catch(() => undefined);
    if (this.#started && !this.#loopEnded) {
      const shutdown = new Shutdown();
      this.#shutdownEvent = shutdown;
      // Capacity is not checked: close() must always be able to end the loop.
      this.#queue.push(shutdown);
      if (!this.#busy) this.#scheduleDrain();
      try {
        await shutdown.wait();
      } catch (err) {
        this.#log.warn({ err }, `controller shutdown event failed: ${toError(err).message}`);
      }
    }
    this.#clearTimers();
    const closed = new ControllerClosedError('controller closed before the event was processed');
    for (const f of this.#followUps.drain()) this.#callDone(f.event, closed);
    for (const q of [this.#held, this.#queue]) {
      for (const event of q.drain()) this.#callDone(event, closed);
    }
    if (this.#owned !== null) {
      try {
        await this.#owned.close();
      } catch (err) {
        this.#log.error({ err }, `closing the scheduler stack failed: ${toError(err).message}`);
      }
    }
    // Every enabled AsyncLocalStorage costs each promise of the process a store copy: release ours.
    this.#als.disable();
  }

  #clearHealingTimers(): void {
    if (this.#healingTimer !== null) clearTimeout(this.#healingTimer);
    if (this.#periodicTimer !== null) clearInterval(this.#periodicTimer);
    this.#healingTimer = this.#periodicTimer = null;
  }

  #clearTimers(): void {
    for (const t of [this.#healingTimer, this.#periodicTimer, this.#deadlineTimer, this.#trimTimer]) {
      if (t !== null) clearTimeout(t);
    }
    this.#healingTimer = this.#periodicTimer = this.#deadlineTimer = this.#trimTimer = null;
  }

  #onStartupDeadline(): void {
    this.#deadlineTimer = null;
    if (this.#startupDone || this.#aborting) return;
    if (this.#startupPending > 0) {
      this.#deadlinePassed = true;
      return;
    }
    this.#abortStartup();
  }

  #abortStartup(): void {
    const err = new StartupResyncDeadlineError(this.#cfg.startupResyncDeadline);
    this.#log.error({ err }, err.message);
    this.#enterAborting(err);
    if (!this.#busy) this.#scheduleDrain();
  }

  #enterAborting(err: Error): void {
    this.#aborting = true;
    this.#clearHealingTimers();
    this.#reportState('error', err);
  }

  #reportState(state: HealthState, err: Error | null): void {
    if (this.#statusCheck === null) return;
    try {
      this.#statusCheck.reportStateChange(CONTROLLER_STATUS_NAME, state, err);
    } catch (e) {
      this.#log.error({ err: e }, 'status check threw');
    }
  }

  // ---------------------------------------------------------------- the loop

  #scheduleDrain(): void {
    if (this.#drainScheduled || !this.#started || this.#loopEnded) return;
    this.#drainScheduled = true;
    this.#als.exit(() => setImmediate(this.#drain));
  }

  readonly #drain = (): void => {
    this.#drainScheduled = false;
    this.#sinceYield = 0;
    this.#turnStart = performance.now();
    this.#pump();
  };

  /**
   * Processes queued events back to back until the queue is empty or one suspends on a thenable. The
   * common event (sync handlers, a commit promise) runs without a generator: handlers are called
   * directly and the commit is awaited with two callbacks bound once per loop.
   */
  #pump(): void {
    while (!this.#busy && !this.#loopEnded && this.#started) {
      const n = ++this.#sinceYield;
      if (n > EVENTS_PER_TURN || ((n & 15) === 0 && performance.now() - this.#turnStart > TURN_MS)) {
        this.#scheduleDrain();
        return;
      }
      const event = this.#nextEvent();
      if (event === undefined) return;
      const ctx: EventContext = { seqNum: ++this.#seqNum, followUpTo: this.#nextFollowUpTo, active: true, finished: false };
      this.#busy = true;
      this.#event = event;
      this.#ctx = ctx;
      // One store per event (not a busy flag): async continuations of this event keep it.
      this.#als.enterWith(ctx);
      this.#startEvent(event, ctx);
    }
  }

  /** Runs one event as far as it goes synchronously; leaves the loop busy when it suspends. */
  #startEvent(event: Event, ctx: EventContext): void {
    let run: EventRun;
    try {
      const timing = this.#listeners.size > 0;
      const now = this.#now();
      const spare = this.#spareRun;
      if (spare !== null) {
        this.#spareRun = null;
        spare.reset(event, ctx, timing, now, event === this.#shutdownEvent);
        run = spare;
      } else {
        run = new EventRun(event, ctx, timing, now, event === this.#shutdownEvent);
      }
      this.#run = run;
      if (!this.#begin(run)) {
        this.#endEvent();
        return;
      }
      // DBResync reloads every external source, each possibly asynchronously: the general path.
      if (this.#extSources.length > 0 && run.event instanceof DBResync) {
        this.#suspend(this.#process(run, STAGE_SOURCES, null));
        return;
      }
      this.#selectHandlers(run);
      const pending = this.#runHandlers(run);
      if (pending !== null) {
        this.#suspend(this.#process(run, STAGE_HANDLERS, pending));
        return;
      }
      if (this.#commitOrSuspend(run)) return;
      this.#afterCommit(run);
    } catch (err) {
      this.#escaped(toError(err));
      this.#endEvent();
    }
  }

  /** Calls the handlers until one returns a thenable (returned, `run.idx` at it) or the stage ends (null). */
  #runHandlers(run: EventRun): PromiseLike<unknown> | null {
    const n = run.handlers.length;
    for (; run.idx < n; run.idx++) {
      let r: unknown;
      try {
        r = this.#callHandler(run);
        if (isThenable(r)) return r;
      } catch (e) {
        if (this.#handlerEnded(run, undefined, true, e)) break;
        continue;
      }
      if (this.#handlerEnded(run, r, false, undefined)) break;
    }
    return null;
  }

  /** Starts the commit; true when it suspended on the scheduler's thenable (the callbacks go on). */
  #commitOrSuspend(run: EventRun): boolean {
    const commit = this.#startCommit(run);
    if (commit === null) return false;
    const r = commit.result;
    let thenable: PromiseLike<unknown> | null = null;
    try {
      if (isThenable(r)) thenable = r;
    } catch (e) {
      this.#commitEnded(run, undefined, true, e);
      return false;
    }
    if (thenable === null) {
      this.#commitEnded(run, r, false, undefined);
      return false;
    }
    const timeout = this.#cfg.commitTimeout;
    const p = timeout === 0 ? Promise.resolve(thenable) : this.#guard(thenable, timeout, () => new CommitTimeoutError(timeout));
    p.then(this.#onCommitFulfilled, this.#onCommitRejected);
    return true;
  }

  readonly #onCommitFulfilled = (v: unknown): void => this.#commitSettled(v, false, undefined);
  readonly #onCommitRejected = (e: unknown): void => this.#commitSettled(undefined, true, e);

  #commitSettled(v: unknown, failed: boolean, failure: unknown): void {
    const run = this.#run;
    if (run === null || this.#gen !== null) return;
    this.#als.enterWith(run.ctx);
    try {
      this.#commitEnded(run, v, failed, failure);
      if (this.#afterCommit(run)) return;
    } catch (err) {
      this.#escaped(toError(err));
      this.#endEvent();
    }
    this.#pump();
  }

  /** Reverts (the general path) or finishes the event; true when it suspended. */
  #afterCommit(run: EventRun): boolean {
    if (run.wasErr !== null && run.withRevert && run.fatal === null) {
      return this.#suspend(this.#process(run, STAGE_REVERT, null));
    }
    this.#finishRun(run);
    this.#endEvent();
    return false;
  }

  /** Hands the event to the processing generator; true when it suspended (false: it is over). */
  #suspend(gen: Processing): boolean {
    this.#gen = gen;
    return !this.#step(undefined, false);
  }

  #endEvent(): void {
    const ctx = this.#ctx as EventContext;
    ctx.active = false;
    if (this.#event instanceof DBResync) this.#dbResyncEnded();
    this.#gen = null;
    const run = this.#run;
    if (run !== null) {
      run.clear();
      this.#spareRun = run;
    }
    this.#run = null;
    this.#event = null;
    this.#ctx = null;
    this.#txn = null;
    this.#busy = false;
  }

  /** A DBResync that did not open the startup gate (malformed, say) was the last hope of a passed deadline. */
  #dbResyncEnded(): void {
    this.#startupPending--;
    if (this.#startupPending === 0 && this.#deadlinePassed && !this.#startupDone && !this.#aborting) this.#abortStartup();
  }

  /** The next event to process; its follow-up origin goes to `#nextFollowUpTo`. */
  #nextEvent(): Event | undefined {
    const gateOpen = this.#startupDone || this.#aborting;
    for (;;) {
      const followUp = this.#followUps.shift();
      if (followUp === undefined) break;
      // The startup gate holds follow-ups too (pushed from a done() before any DBResync was processed).
      if (!gateOpen && !(followUp.event instanceof DBResync) && followUp.event !== this.#shutdownEvent) {
        this.#held.push(followUp.event);
        continue;
      }
      this.#nextFollowUpTo = followUp.followUpTo;
      return followUp.event;
    }
    this.#nextFollowUpTo = null;
    if (gateOpen) return this.#held.shift() ?? this.#queue.shift();
    // Startup gate: hold everything but the first DBResync (and our own Shutdown).
    for (;;) {
      const event = this.#queue.shift();
      if (event === undefined) return undefined;
      if (event instanceof DBResync || event === this.#shutdownEvent) return event;
      this.#held.push(event);
    }
  }

  /** Advances the processing generator; returns true when the event is over. */
  #step(input: unknown, isError: boolean): boolean {
    const gen = this.#gen as Processing;
    let r: IteratorResult<PromiseLike<unknown>, void>;
    try {
      r = isError ? gen.throw(input) : gen.next(input);
    } catch (err) {
      this.#escaped(toError(err));
      r = { done: true, value: undefined };
    }
    if (r.done === true) {
      this.#endEvent();
      return true;
    }
    Promise.resolve(r.value).then(this.#onFulfilled, this.#onRejected);
    return false;
  }

  readonly #onFulfilled = (v: unknown): void => this.#resume(v, false);
  readonly #onRejected = (e: unknown): void => this.#resume(e, true);

  #resume(v: unknown, isError: boolean): void {
    if (this.#ctx === null) return;
    this.#als.enterWith(this.#ctx);
    if (this.#step(v, isError)) this.#pump();
  }

  /** An exception escaped the processing code itself: finish the event with it, never crash the loop. */
  #escaped(err: Error): void {
    const event = this.#event;
    const ctx = this.#ctx;
    this.#log.error({ err }, `event processing failed unexpectedly: ${err.message}`);
    if (event !== null && ctx !== null && !ctx.finished) {
      const run = this.#run;
      // Every processed event leaves a record (SPEC C16), this one too, unless it already has one.
      if (run !== null && run.event === event && !run.recorded) this.#recordBare(run, run.name !== '' ? run.name : safeName(event), run.method);
      ctx.finished = true;
      this.#callDone(event, err);
    }
  }

  #callDone(event: Event, err: Error | null): void {
    try {
      const r: unknown = event.done(err);
      // done() is typed void, but an async one must not become an unhandled rejection.
      if (isThenable(r)) Promise.resolve(r).catch((e: unknown) => this.#doneThrew(event, e));
    } catch (e) {
      this.#doneThrew(event, e);
    }
  }

  #doneThrew(event: Event, e: unknown): void {
    this.#log.error({ err: e }, `done() of event "${safeName(event)}" threw: ${toError(e).message}`);
  }

  #guard(p: PromiseLike<unknown>, timeoutMs: number, makeError: () => Error): PromiseLike<unknown> {
    if (timeoutMs === 0) return p;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(makeError()), timeoutMs);
      // Promise.resolve: a thenable whose then() throws rejects here, and the timer is cleared.
      Promise.resolve(p).then(
        (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        (e: unknown) => {
          clearTimeout(timer);
          reject(e as Error);
        },
      );
    });
  }

  // ---------------------------------------------------------------- processing of one event

  /**
   * The general path of one event, entered at `stage` where the direct path in `#startEvent` could not
   * go on synchronously: external sources to load, a handler's thenable (`pending`, at `run.idx`), or
   * handlers to revert.
   */
  *#process(run: EventRun, stage: Stage, pending: PromiseLike<unknown> | null): Processing {
    if (stage === STAGE_SOURCES) {
      // DBResync: reload every external source (each may answer asynchronously).
      for (const src of this.#extSources) {
        try {
          let snapshot: unknown = src.getConfigSnapshot();
          // handlerTimeout bounds a source as it bounds a handler: one that never answers is a failed load.
          const timeout = this.#cfg.handlerTimeout;
          if (isThenable(snapshot)) snapshot = yield this.#guard(snapshot, timeout, () => new HandlerTimeoutError(String(src), 'getConfigSnapshot', timeout));
          this.#setSourceSnapshot(src, snapshot);
        } catch (err) {
          this.#sourceFailed(src, err);
        }
      }
      this.#selectHandlers(run);
    }
    const handlers = run.handlers;
    if (stage !== STAGE_REVERT) {
      // Handlers build the transaction; the loop only waits when a handler returns a thenable.
      for (; run.idx < handlers.length; run.idx++) {
        let r: unknown;
        try {
          if (pending !== null) {
            const p = pending;
            pending = null;
            r = yield this.#guardHandler(run, p);
          } else {
            r = this.#callHandler(run);
            if (isThenable(r)) r = yield this.#guardHandler(run, r);
          }
        } catch (e) {
          if (this.#handlerEnded(run, undefined, true, e)) break;
          continue;
        }
        if (this.#handlerEnded(run, r, false, undefined)) break;
      }
      const commit = this.#startCommit(run);
      if (commit !== null) {
        let r: unknown;
        let failed = false;
        let failure: unknown;
        try {
          r = commit.result;
          if (isThenable(r)) r = yield this.#guard(r, this.#cfg.commitTimeout, () => new CommitTimeoutError(this.#cfg.commitTimeout));
        } catch (e) {
          failed = true;
          failure = e;
        }
        this.#commitEnded(run, r, failed, failure);
      }
    }
    // RevertOnFailure: undo the handlers that ran, newest first.
    if (run.wasErr !== null && run.withRevert && run.fatal === null) {
      for (run.idx = run.idx - 1; run.idx >= 0; run.idx--) {
        const nh = handlers[run.idx] as NamedHandler;
        let failed = false;
        let failure: unknown;
        if (run.handlerMs !== null) run.t0 = performance.now();
        try {
          const r: unknown = nh.handler.revert(run.event);
          if (isThenable(r)) {
            yield this.#guard(r, this.#cfg.handlerTimeout, () => new HandlerTimeoutError(nh.name, 'revert', this.#cfg.handlerTimeout));
          }
        } catch (e) {
          failed = true;
          failure = e;
        }
        if (this.#revertEnded(run, nh, failed, failure)) break;
      }
    }
    this.#finishRun(run);
  }

  /** Validation and the controller's own state (SPEC C6, C7); false when the event was finished here. */
  #begin(run: EventRun): boolean {
    const event = run.event;
    try {
      run.name = String(event.getName());
      const method = event.method();
      if (method !== 0 && method !== 1 && method !== 2 && method !== 3) {
        throw new TypeError(`method() returned ${String(method)}, expected an EventMethodType`);
      }
      run.method = method;
      run.description = this.#cfg.recordEventHistory ? String(event.toString()) : run.name;
    } catch (err) {
      const e = new InvalidEventError(`event "${safeName(event)}" is not a valid Event: ${toError(err).message}`, { cause: err });
      this.#finishBare(run, safeName(event), EventMethodType.Update, e);
      return false;
    }
    if (this.#aborting) {
      if (run.isOurShutdown) this.#loopEnded = true;
      this.#finishBare(run, run.name, run.method, new EventLoopAbortingError());
      return false;
    }
    run.isUpdate = run.method === EventMethodType.Update;
    if (run.isUpdate) {
      let invalid: Error | null = null;
      if (!isUpdateEvent(event)) {
        invalid = new InvalidEventError(`update event "${run.name}" does not implement UpdateEvent (transactionType(), direction())`);
      } else {
        try {
          run.withRevert = event.transactionType() === UpdateTransactionType.RevertOnFailure;
          run.withHealing = event.transactionType() !== UpdateTransactionType.BestEffortIgnoreErrors;
          run.reverse = event.direction() === UpdateDirectionType.Reverse;
        } catch (err) {
          invalid = new InvalidEventError(`update event "${run.name}" threw from transactionType()/direction()`, { cause: err });
        }
      }
      if (invalid !== null) {
        this.#finishBare(run, run.name, run.method, invalid);
        return false;
      }
    }
    let payload: Payload;
    try {
      payload = readPayload(event);
    } catch (err) {
      this.#finishBare(run, run.name, run.method, new InvalidEventError(`event "${run.name}" has a malformed payload: ${toError(err).message}`, { cause: err }));
      return false;
    }
    // Closing before the startup resync: held events cannot run any more; handlers never saw a resync.
    if (run.isOurShutdown && !this.#startupDone) {
      run.skipHandlers = true;
      const closed = new ControllerClosedError('controller closed before the startup resync');
      for (const held of this.#held.drain()) this.#callDone(held, closed);
    }
    if (!run.isUpdate) {
      this.#resyncCount++;
      if (payload?.kind === 'db') {
        run.isStartupResync = !this.#startupDone;
        this.#kubeState = payload.kubeState;
        this.#extConfig.set(DB_SOURCE, payload.externalConfig);
      } else if (payload?.kind === 'ext-resync') {
        this.#extConfig.set(payload.source, payload.externalConfig);
      } else if (event instanceof HealingResync) {
        run.isHealing = true;
        if (event.type !== HealingResyncType.Periodic) {
          run.healingAfterErr = event.error ?? new Error('unknown error');
          if (event === this.#healingEvent) {
            this.#healingEvent = null;
            this.#healingScheduled = false;
          }
        }
      }
      this.#refreshHasExternal();
    } else if (event instanceof KubeStateChange) {
      let kvs = this.#kubeState.get(event.resource);
      if (kvs === undefined) {
        kvs = new Map();
        this.#kubeState.set(event.resource, kvs);
      }
      if (event.newValue === null) kvs.delete(event.key);
      else kvs.set(event.key, event.newValue);
    } else if (payload?.kind === 'ext-change') {
      let snapshot = this.#extConfig.get(payload.source);
      if (snapshot === undefined) {
        snapshot = new Map();
        this.#extConfig.set(payload.source, snapshot);
      }
      for (const [key, value] of payload.changes) {
        if (value === null) snapshot.delete(key);
        else snapshot.set(key, value);
      }
      this.#refreshHasExternal();
    }
    return true;
  }

  #setSourceSnapshot(src: ExternalConfigSource, snapshot: unknown): void {
    if (!(snapshot instanceof Map)) throw new TypeError('getConfigSnapshot() must return a Map');
    this.#extConfig.set(String(src), new Map(snapshot as KeyValuePairs));
    this.#refreshHasExternal();
  }

  #sourceFailed(src: ExternalConfigSource, err: unknown): void {
    const sourceName = String(src);
    this.#log.warn({ err, source: sourceName }, `failed to load external config from source ${sourceName}; keeping the previous snapshot`);
  }

  /** SPEC C5: which handlers, in which order; then the start log and the transaction. */
  #selectHandlers(run: EventRun): void {
    if (!run.skipHandlers && run.method !== EventMethodType.DownstreamResync) {
      const ordered = run.reverse ? this.#reversed : this.#handlers;
      // Copied only when some handler declines: the shared list is kept otherwise.
      let picked: NamedHandler[] | null = null;
      for (let i = 0; i < ordered.length; i++) {
        const nh = ordered[i] as NamedHandler;
        let takes = false;
        try {
          takes = Boolean(nh.handler.handlesEvent(run.event));
        } catch (err) {
          // The handler's error, as if its update had thrown (SPEC C8, C9): a FatalError, an
          // AbortEventError or a RevertOnFailure event stops here, before any handler ran.
          if (this.#selectionFailed(run, nh, toError(err))) {
            picked = [];
            break;
          }
        }
        if (takes) picked?.push(nh);
        else picked ??= ordered.slice(0, i);
      }
      run.handlers = picked ?? ordered;
    }
    if (levelEnabled(this.#log, 'debug')) this.#logStart(run);
    if (run.event instanceof VerificationResync) {
      run.isVerification = true;
      run.before = run.handlers.map((nh) => this.#describe(nh, 'before'));
    }
    run.txn = new EventTransaction(run.isUpdate);
    this.#txn = run.txn;
  }

  /** Records a handlesEvent() error; true when the event stops (nothing runs, nothing is committed). */
  #selectionFailed(run: EventRun, nh: NamedHandler, err: Error): boolean {
    run.addRecord({ handler: nh.name, revert: false, change: '', error: err });
    return this.#handlerFailed(run, err);
  }

  /** A handler's error (SPEC C8, C9); true when the update stage stops here. */
  #handlerFailed(run: EventRun, err: Error): boolean {
    run.wasErr = err;
    if (err instanceof FatalError) {
      run.fatal = err;
      return true;
    }
    if (err instanceof AbortEventError) {
      run.abort = true;
      run.needsHealing = true;
      return true;
    }
    if (!run.withRevert && run.withHealing) run.needsHealing = true;
    return run.withRevert;
  }

  /** A handler's describeInternalData() for verification; NOT_DESCRIBED when it throws (logged). */
  #describe(nh: NamedHandler, when: 'before' | 'after'): string | undefined | typeof NOT_DESCRIBED {
    try {
      return nh.handler.describeInternalData?.();
    } catch (err) {
      this.#log.error({ err, handler: nh.name }, `verification: describeInternalData() of ${nh.name} threw (${when} the resync)`);
      return NOT_DESCRIBED;
    }
  }

  #callHandler(run: EventRun): unknown {
    const nh = run.handlers[run.idx] as NamedHandler;
    if (run.handlerMs !== null) run.t0 = performance.now();
    const txn = run.txn as EventTransaction;
    return run.isUpdate ? nh.handler.update(run.event, txn) : nh.handler.resync(run.event, this.#kubeState, this.#resyncCount, txn);
  }

  #guardHandler(run: EventRun, r: PromiseLike<unknown>): PromiseLike<unknown> {
    const name = (run.handlers[run.idx] as NamedHandler).name;
    const stage = run.isUpdate ? 'update' : 'resync';
    return this.#guard(r, this.#cfg.handlerTimeout, () => new HandlerTimeoutError(name, stage, this.#cfg.handlerTimeout));
  }

  /** Records one handler's outcome (SPEC C8, C9); true when the update stage stops here. */
  #handlerEnded(run: EventRun, result: unknown, failed: boolean, failure: unknown): boolean {
    const nh = run.handlers[run.idx] as NamedHandler;
    if (run.handlerMs !== null) run.handlerMs.push({ handler: nh.name, ms: performance.now() - run.t0 });
    const err = failed ? toError(failure) : null;
    const change = run.isUpdate && typeof result === 'string' ? result : '';
    if (err === null && change === '') run.addOk(nh);
    else run.addRecord({ handler: nh.name, revert: false, change, error: err });
    return err !== null && this.#handlerFailed(run, err);
  }

  /** SPEC C10, C11: merges and calls the scheduler; null when nothing is to be committed. */
  #startCommit(run: EventRun): { result: unknown } | null {
    if (run.fatal !== null || run.abort || (run.withRevert && run.wasErr !== null)) return null;
    const txn = run.txn as EventTransaction;
    const values = this.#merge(run.event, run.isUpdate, run.method, txn);
    if (run.isUpdate && values.size === 0) return null;
    const options = this.#commitOptions(run.name, run.method, run.isUpdate, run.withRevert, run.isStartupResync, run.onlyOk ? NO_RECORDS : run.records);
    if (run.handlerMs !== null) run.t0 = performance.now();
    run.committed = true;
    try {
      return { result: (this.#scheduler as KVScheduler).commit(values, options) };
    } catch (e) {
      return { result: Promise.reject(toError(e)) };
    }
  }

  #commitEnded(run: EventRun, r: unknown, failed: boolean, failure: unknown): void {
    let txnError: Error | null = null;
    let result: CommitResult | null = null;
    if (failed) txnError = toError(failure);
    else if (typeof r !== 'object' || r === null || typeof (r as CommitResult).seqNum !== 'number') {
      txnError = new InvalidCommitResultError(r === null ? 'null' : typeof r);
    } else {
      result = r as CommitResult;
      if (result.error !== null && result.error !== undefined) txnError = toError(result.error);
    }
    if (run.handlerMs !== null) run.commitMs = performance.now() - run.t0;
    if (result !== null) {
      try {
        run.recordedTxn = (this.#scheduler as KVScheduler).getRecordedTransaction(result.seqNum) ?? null;
      } catch (e) {
        this.#log.warn({ err: e }, 'scheduler.getRecordedTransaction() threw');
      }
    }
    const txn = run.txn as EventTransaction;
    // A full or upstream resync replaces the internal config with its transaction's values.
    const replacesInternal = !run.isUpdate && run.method !== EventMethodType.DownstreamResync;
    run.txnError = txnError;
    if (txnError !== null) {
      run.wasErr = txnError;
      if (!run.withRevert && run.withHealing && !this.#onlyExternalFailed(txnError, txn, !replacesInternal)) run.needsHealing = true;
    }
    // SPEC C12: the internal config keeps the handlers' own values.
    if (run.isUpdate) {
      if (txnError === null || !run.withRevert) {
        for (const [key, value] of txn.values) {
          if (value === null) this.#internal.delete(key);
          else this.#internal.set(key, value);
        }
      }
    } else if (replacesInternal) {
      const internal = new Map<string, Value>();
      for (const [key, value] of txn.values) if (value !== null) internal.set(key, value);
      this.#internal = internal;
    }
  }

  /** Records one revert; true when a FatalError stops reverting. */
  #revertEnded(run: EventRun, nh: NamedHandler, failed: boolean, failure: unknown): boolean {
    // Reverts are handler time too (the handler_duration metric counts resync, update and revert).
    if (run.handlerMs !== null) run.handlerMs.push({ handler: nh.name, ms: performance.now() - run.t0 });
    const err = failed ? toError(failure) : null;
    run.addRecord(err === null ? nh.revertOk : { handler: nh.name, revert: true, change: '', error: err });
    if (err === null) return false;
    run.wasErr = err;
    run.needsHealing = true;
    if (err instanceof FatalError) {
      run.fatal = err;
      return true;
    }
    return false;
  }

  /** History, logs, hooks, done(), then healing and verification (SPEC C13–C16, C18). */
  #finishRun(run: EventRun): void {
    const ctx = run.ctx;
    if (run.isVerification) this.#verify(run.handlers, run.before ?? [], run.recordedTxn);
    if (run.isOurShutdown) this.#loopEnded = true;
    if (run.isStartupResync) {
      this.#startupDone = true;
      if (this.#deadlineTimer !== null) clearTimeout(this.#deadlineTimer);
      this.#deadlineTimer = null;
    }
    let fatalCause: Error | null = run.fatal;
    if (fatalCause === null && run.needsHealing && run.isHealing && run.healingAfterErr !== null && run.wasErr !== null) {
      fatalCause = new HealingFailedError(run.healingAfterErr, run.wasErr);
    }
    const processingEnd = this.#now();
    if (this.#cfg.recordEventHistory) {
      this.#history.add(
        ctx.seqNum,
        run.processingStart,
        processingEnd,
        ctx.followUpTo,
        run.name,
        run.description,
        run.method,
        this.#shared(run),
        run.txnError,
        run.recordedTxn,
      );
      run.recorded = true;
    }
    if (levelEnabled(this.#log, run.wasErr === null ? 'info' : 'warn')) this.#logEnd(run, processingEnd - run.processingStart);
    if (fatalCause !== null) {
      this.#log.error({ err: fatalCause }, `fatal error, the event loop is aborting: ${fatalCause.message}`);
      this.#enterAborting(fatalCause);
    } else if (run.isStartupResync && !this.#aborting) {
      this.#reportState('ok', null);
      this.#startPeriodicHealing();
    }
    // Verification follows the event directly (a follow-up ahead of anything done() pushes).
    if (this.#cfg.enableVerification && !run.needsHealing && fatalCause === null && !run.isVerification && !run.isOurShutdown && !this.#closing) {
      if (this.#followUps.length < this.#cfg.eventQueueSize) {
        this.#followUps.push({ event: new VerificationResync(), followUpTo: ctx.seqNum });
      } else {
        this.#log.warn({}, 'follow-up queue full: verification resync skipped');
      }
    }
    if (run.handlerMs !== null) {
      this.#emit({
        seqNum: ctx.seqNum,
        name: run.name,
        method: run.method,
        isFollowUp: ctx.followUpTo !== null,
        result: run.wasErr === null ? 'ok' : 'error',
        error: run.wasErr,
        durationMs: performance.now() - run.perfStart,
        handlerMs: run.handlerMs,
        commitMs: run.committed ? run.commitMs : null,
        healing: run.isHealing,
      });
    }
    ctx.finished = true;
    this.#callDone(run.event, run.wasErr);
    if (run.needsHealing && fatalCause === null) this.#scheduleHealing(run.wasErr);
  }

  #shared(run: EventRun): readonly HandlerRecord[] {
    if (run.onlyOk && run.okCount === run.handlers.length) {
      if (run.handlers === this.#handlers) return this.#allOk;
      if (run.handlers === this.#reversed) return this.#allOkReversed;
    }
    const records = run.records;
    const n = records.length;
    if (n === 0) return NO_RECORDS;
    if (sameRecords(records, this.#allOk)) return this.#allOk;
    if (sameRecords(records, this.#allOkReversed)) return this.#allOkReversed;
    // Frozen (the records too, see addRecord): the history hands these out to every query.
    return Object.freeze(records);
  }

  /** Finishes an event that never reached the handlers (invalid, or the loop is aborting). */
  /** The history record of an event that ran no handler: its name and times only. */
  #recordBare(run: EventRun, name: string, method: EventMethodType): void {
    if (!this.#cfg.recordEventHistory) return;
    const ctx = run.ctx;
    this.#history.add(ctx.seqNum, run.processingStart, this.#now(), ctx.followUpTo, name, name, method, NO_RECORDS, null, null);
    run.recorded = true;
  }

  #finishBare(run: EventRun, name: string, method: EventMethodType, err: Error): void {
    const ctx = run.ctx;
    this.#recordBare(run, name, method);
    if (levelEnabled(this.#log, 'warn')) this.#log.warn({ err, seqNum: ctx.seqNum }, `*** Event #${ctx.seqNum} ${name} not processed: ${err.message}`);
    if (run.handlerMs !== null) {
      this.#emit({
        seqNum: ctx.seqNum,
        name,
        method,
        isFollowUp: ctx.followUpTo !== null,
        result: 'error',
        error: err,
        durationMs: performance.now() - run.perfStart,
        handlerMs: NO_TIMINGS,
        commitMs: null,
        healing: false,
      });
    }
    ctx.finished = true;
    this.#callDone(run.event, err);
  }

  #firstExternal(key: string): Value | undefined {
    for (const snapshot of this.#extConfig.values()) {
      const v = snapshot.get(key);
      if (v !== undefined) return v;
    }
    return undefined;
  }

  #refreshHasExternal(): void {
    let has = false;
    for (const snapshot of this.#extConfig.values()) if (snapshot.size > 0) has = true;
    this.#hasExt = has;
  }

  /** SPEC C10: the change set to commit, internal values merged with the first external source having each key. */
  #merge(event: Event, isUpdate: boolean, method: EventMethodType, txn: EventTransaction): Map<string, Value | null> {
    if (isUpdate) {
      const isExtChange = event instanceof ExternalConfigChange;
      if (!isExtChange && !this.#hasExt) return txn.values;
      const merged = new Map<string, Value | null>();
      if (isExtChange) {
        for (const key of event.updatedKVs.keys()) {
          const internal = txn.has(key) ? (txn.values.get(key) ?? null) : (this.#internal.get(key) ?? null);
          merged.set(key, mergeValues(internal, this.#firstExternal(key)));
        }
      }
      for (const [key, value] of txn.values) {
        if (merged.has(key)) continue;
        merged.set(key, mergeValues(value, this.#firstExternal(key)));
      }
      return merged;
    }
    if (method === EventMethodType.DownstreamResync) return new Map();
    const desired = new Map<string, Value | null>(txn.values);
    const taken = new Set<string>();
    for (const snapshot of this.#extConfig.values()) {
      for (const [key, ext] of snapshot) {
        if (taken.has(key)) continue;
        taken.add(key);
        desired.set(key, mergeValues(txn.values.get(key) ?? null, ext));
      }
    }
    return desired;
  }

  #commitOptions(
    name: string,
    method: EventMethodType,
    isUpdate: boolean,
    withRevert: boolean,
    isStartup: boolean,
    records: readonly HandlerRecord[],
  ): CommitOptions {
    let description = name;
    for (let i = 0; i < records.length; i++) {
      const r = records[i] as HandlerRecord;
      if (r.change !== '') description += `\n* ${r.handler}: ${r.change}`;
    }
    // The common update (no change descriptions, no revert) reuses one frozen options object per event name.
    const cacheable = isUpdate && !withRevert && description === name;
    if (cacheable) {
      const cached = this.#optionsCache.get(name);
      if (cached !== undefined) return cached;
    }
    const options = this.#buildOptions(description, method, isUpdate, withRevert, isStartup);
    if (cacheable && this.#optionsCache.size < 64) this.#optionsCache.set(name, Object.freeze(options));
    return options;
  }

  #buildOptions(description: string, method: EventMethodType, isUpdate: boolean, withRevert: boolean, isStartup: boolean): CommitOptions {
    const cfg = this.#cfg;
    const retry = cfg.enableRetry
      ? { delay: cfg.delayRetry, maxAttempts: cfg.maxRetryAttempts, expBackoff: cfg.enableExpBackoffRetry }
      : undefined;
    if (isUpdate) {
      if (retry === undefined) return withRevert ? { description, revert: true } : { description };
      return withRevert ? { description, retry, revert: true } : { description, retry };
    }
    const resync = method === EventMethodType.FullResync ? 'full' : method === EventMethodType.UpstreamResync ? 'upstream' : 'downstream';
    const options: { description: string; resync: 'full' | 'upstream' | 'downstream'; isStartup?: boolean; retry?: typeof retry } = {
      description,
      resync,
    };
    if (isStartup) options.isStartup = true;
    if (retry !== undefined) options.retry = retry;
    return options;
  }

  /**
   * SPEC C11: failures of keys that came purely from external config need no healing. `keepsInternal`:
   * the handlers' earlier values stay desired (an update, a downstream resync); a full or upstream
   * resync replaces them with its transaction's.
   */
  #onlyExternalFailed(err: Error, txn: EventTransaction, keepsInternal: boolean): boolean {
    if (!(err instanceof TransactionError) || err.txnInitError !== null || err.kvErrors.length === 0) return false;
    for (const kv of err.kvErrors) {
      if (txn.has(kv.key) || (keepsInternal && this.#internal.has(kv.key))) return false;
    }
    return true;
  }

  #verify(handlers: readonly NamedHandler[], before: ReadonlyArray<string | undefined | typeof NOT_DESCRIBED>, recordedTxn: RecordedTxn | null): void {
    handlers.forEach((nh, i) => {
      const after = this.#describe(nh, 'after');
      if (after === NOT_DESCRIBED || before[i] === NOT_DESCRIBED) return;
      if (after !== before[i]) {
        this.#log.error(
          { handler: nh.name, before: before[i], after },
          `verification: internal data of handler ${nh.name} changed across a resync`,
        );
      }
    });
    if (recordedTxn !== null && recordedTxn.executed.length > 0) {
      this.#log.error(
        { seqNum: recordedTxn.seqNum, executed: recordedTxn.executed.length },
        `verification: the dataplane was out of sync (${recordedTxn.executed.length} operation(s) executed by the verification resync)`,
      );
    }
  }

  #scheduleHealing(err: Error | null): void {
    if (this.#healingScheduled || this.#closing || this.#aborting) return;
    this.#healingScheduled = true;
    this.#als.exit(() => {
      this.#healingTimer = setTimeout(() => {
        this.#healingTimer = null;
        try {
          const healing = new HealingResync(HealingResyncType.AfterError, err);
          this.pushEvent(healing);
          this.#healingEvent = healing;
        } catch (e) {
          // Not pushed: allow the next failure to schedule healing again.
          this.#healingScheduled = false;
          this.#log.error({ err: e }, `failed to push the healing resync: ${toError(e).message}`);
        }
      }, this.#cfg.delayAfterErrorHealing);
    });
  }

  #startPeriodicHealing(): void {
    if (!this.#cfg.enablePeriodicHealing || this.#periodicTimer !== null || this.#closing) return;
    this.#als.exit(() => {
      this.#periodicTimer = setInterval(() => {
        try {
          this.pushEvent(new HealingResync(HealingResyncType.Periodic));
        } catch (e) {
          this.#log.warn({ err: e }, `failed to push the periodic healing resync: ${toError(e).message}`);
        }
      }, this.#cfg.periodicHealingInterval);
      this.#periodicTimer.unref();
    });
  }

  #emit(info: ProcessedEventInfo): void {
    for (const listener of this.#listeners) {
      try {
        listener(info);
      } catch (err) {
        this.#log.error({ err }, 'onEvent listener threw');
      }
    }
  }

  // ---------------------------------------------------------------- logs (SPEC C18)

  #logStart(run: EventRun): void {
    const { ctx, name, description, method } = run;
    const names = run.handlers.map((h) => h.name);
    const isFollowUp = ctx.followUpTo !== null;
    const followUp = isFollowUp ? `, follow-up to #${String(ctx.followUpTo)}` : '';
    this.#log.debug(
      { seqNum: ctx.seqNum, event: name, description, method: METHOD_NAMES[method], handlers: names, isFollowUp, followUpTo: ctx.followUpTo },
      `*** Processing event #${ctx.seqNum}: ${description} [${METHOD_NAMES[method]}${followUp}] handlers: ${names.length > 0 ? names.join(', ') : '(none)'}`,
    );
  }

  #logEnd(run: EventRun, durationMs: number): void {
    const { records, recordedTxn, txnError, wasErr: err, name } = run;
    const seqNum = run.ctx.seqNum;
    const parts: string[] = [];
    for (const r of records) {
      const what = r.revert ? 'revert' : r.error === null ? (r.change === '' ? 'ok' : `"${r.change}"`) : '';
      parts.push(r.error === null ? `${r.handler}: ${what}` : `${r.handler}${r.revert ? ' (revert)' : ''}: ERROR ${r.error.message}`);
    }
    const txn =
      recordedTxn === null && txnError === null
        ? 'no transaction'
        : `txn${recordedTxn === null ? '' : ` #${recordedTxn.seqNum}`}: ${txnError === null ? 'ok' : `ERROR ${txnError.message}`}`;
    const msg = `*** Finished event #${seqNum}: ${name} in ${durationMs} ms; ${parts.length > 0 ? parts.join('; ') + '; ' : ''}${txn}`;
    const obj = {
      seqNum,
      event: name,
      durationMs,
      handlers: records.map((r) => ({ handler: r.handler, revert: r.revert, change: r.change, error: r.error?.message ?? null })),
      txnSeqNum: recordedTxn?.seqNum ?? null,
      txnError: txnError?.message ?? null,
      ...(err === null ? {} : { err }),
    };
    if (err === null) this.#log.info(obj, msg);
    else this.#log.warn(obj, msg);
  }
}
