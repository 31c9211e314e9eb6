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
  ExternalConfigResync,
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
import { CommitTimeoutError, HandlerTimeoutError, HealingFailedError, InvalidEventError, StartupResyncDeadlineError } from './errors.js';
import { EventHistory } from './event-history.js';
import { EventQueue } from './event-queue.js';
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
// Events processed back to back before the loop yields a macrotask to timers and I/O.
const EVENTS_PER_TURN = 512;
const METHOD_NAMES = ['FullResync', 'DownstreamResync', 'UpstreamResync', 'Update'] as const;

/** The ALS store of one event in flight: pushes seeing it while `active` are follow-ups. */
interface EventContext {
  readonly seqNum: number;
  active: boolean;
  finished: boolean;
}

interface QueueEntry {
  readonly event: Event;
  /** seqNum of the event being processed when this was pushed; null = pushed from outside. */
  readonly followUpTo: number | null;
}

interface NamedHandler {
  readonly handler: EventHandler;
  readonly name: string;
}

type Processing = Generator<PromiseLike<unknown>, void, unknown>;

export interface EngineInit {
  readonly handlers: readonly NamedHandler[];
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

/** The event loop itself; the `Controller` facade validates options and delegates here. */
export class ControllerEngine {
  readonly #handlers: readonly NamedHandler[];
  readonly #reversed: readonly NamedHandler[];
  readonly #extSources: readonly ExternalConfigSource[];
  readonly #cfg: ControllerConfig;
  readonly #statusCheck: StatusCheck | null;
  readonly #log: ControllerLogger;
  readonly #now: () => number;
  readonly #createScheduler: (() => Promise<OwnedScheduler>) | null;
  #scheduler: KVScheduler | null;
  #owned: OwnedScheduler | null = null;

  readonly #als = new AsyncLocalStorage<EventContext>();
  readonly #queue = new EventQueue<QueueEntry>();
  readonly #followUps = new EventQueue<QueueEntry>();
  // Events popped before the first DBResync was processed (SPEC C4), in arrival order.
  readonly #held = new EventQueue<QueueEntry>();
  readonly #history: EventHistory;
  readonly #listeners = new Set<(info: ProcessedEventInfo) => void>();

  #startPromise: Promise<void> | null = null;
  #closePromise: Promise<void> | null = null;
  #started = false;
  #closing = false;
  #loopEnded = false;
  #aborting = false;
  #startupDone = false;
  #shutdownEvent: Shutdown | null = null;

  #busy = false;
  #drainScheduled = false;
  #sinceYield = 0;
  #seqNum = 0;
  #resyncCount = 0;

  // The event being processed, and the generator that processes it (suspended on a thenable).
  #gen: Processing | null = null;
  #entry: QueueEntry | null = null;
  #ctx: EventContext | null = null;
  #txn: EventTransaction | null = null;

  #kubeState: KubeStateData = newKubeStateData();
  // Insertion order is merge order: `db` first, then extSources, then sources first seen in events.
  readonly #extConfig = new Map<string, Map<string, Value>>();
  #internal = new Map<string, Value>();

  #healingScheduled = false;
  #healingTimer: NodeJS.Timeout | null = null;
  #periodicTimer: NodeJS.Timeout | null = null;
  #deadlineTimer: NodeJS.Timeout | null = null;
  #trimTimer: NodeJS.Timeout | null = null;

  constructor(init: EngineInit) {
    this.#handlers = init.handlers;
    this.#reversed = [...init.handlers].reverse();
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
      return;
    }
    if (this.#queue.length + this.#held.length >= capacity) throw new EventQueueFullError(capacity);
    this.#queue.push({ event, followUpTo: null });
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
    if (this.#startPromise !== null) await this.#startPromise.catch(() => undefined);
    if (this.#started && !this.#loopEnded) {
      const shutdown = new Shutdown();
      this.#shutdownEvent = shutdown;
      // Capacity is not checked: close() must always be able to end the loop.
      this.#queue.push({ event: shutdown, followUpTo: null });
      if (!this.#busy) this.#scheduleDrain();
      try {
        await shutdown.wait();
      } catch (err) {
        this.#log.warn({ err }, `controller shutdown event failed: ${toError(err).message}`);
      }
    }
    this.#clearTimers();
    const closed = new ControllerClosedError('controller closed before the event was processed');
    for (const q of [this.#followUps, this.#held, this.#queue]) {
      for (const entry of q.drain()) this.#callDone(entry.event, closed);
    }
    if (this.#owned !== null) {
      try {
        await this.#owned.close();
      } catch (err) {
        this.#log.error({ err }, `closing the scheduler stack failed: ${toError(err).message}`);
      }
    }
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
    const err = new StartupResyncDeadlineError(this.#cfg.startupResyncDeadline);
    this.#log.error({ err }, err.message);
    this.#enterAborting(err);
    if (!this.#busy) this.#scheduleDrain();
  }

  #enterAborting(err: Error): void {
    this.#aborting = true;
    if (this.#healingTimer !== null) clearTimeout(this.#healingTimer);
    if (this.#periodicTimer !== null) clearInterval(this.#periodicTimer);
    this.#healingTimer = this.#periodicTimer = null;
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
    this.#pump();
  };

  /** Processes queued events back to back until the queue is empty or one suspends on a thenable. */
  #pump(): void {
    while (!this.#busy && !this.#loopEnded && this.#started) {
      if (++this.#sinceYield > EVENTS_PER_TURN) {
        this.#scheduleDrain();
        return;
      }
      const entry = this.#nextEntry();
      if (entry === undefined) return;
      const ctx: EventContext = { seqNum: ++this.#seqNum, active: true, finished: false };
      this.#busy = true;
      this.#entry = entry;
      this.#ctx = ctx;
      // One store per event (not a busy flag): async continuations of this event keep it.
      this.#als.enterWith(ctx);
      this.#gen = this.#process(entry, ctx);
      this.#step(undefined, false);
    }
  }

  #nextEntry(): QueueEntry | undefined {
    const followUp = this.#followUps.shift();
    if (followUp !== undefined) return followUp;
    if (this.#startupDone || this.#aborting) return this.#held.shift() ?? this.#queue.shift();
    // Startup gate: hold everything but the first DBResync (and our own Shutdown).
    for (;;) {
      const entry = this.#queue.shift();
      if (entry === undefined) return undefined;
      if (entry.event instanceof DBResync || entry.event === this.#shutdownEvent) return entry;
      this.#held.push(entry);
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
      const ctx = this.#ctx as EventContext;
      ctx.active = false;
      this.#gen = null;
      this.#entry = null;
      this.#ctx = null;
      this.#txn = null;
      this.#busy = false;
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
    const entry = this.#entry;
    const ctx = this.#ctx;
    this.#log.error({ err }, `event processing failed unexpectedly: ${err.message}`);
    if (entry !== null && ctx !== null && !ctx.finished) {
      ctx.finished = true;
      this.#callDone(entry.event, err);
    }
  }

  #callDone(event: Event, err: Error | null): void {
    try {
      event.done(err);
    } catch (e) {
      this.#log.error({ err: e }, `done() of event "${safeName(event)}" threw: ${toError(e).message}`);
    }
  }

  #guard(p: PromiseLike<unknown>, timeoutMs: number, makeError: () => Error): PromiseLike<unknown> {
    if (timeoutMs === 0) return p;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(makeError()), timeoutMs);
      p.then(
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

  *#process(entry: QueueEntry, ctx: EventContext): Processing {
    const event = entry.event;
    const timing = this.#listeners.size > 0;
    const perfStart = timing ? performance.now() : 0;
    const processingStart = this.#now();
    const isFollowUp = entry.followUpTo !== null;
    const isOurShutdown = event === this.#shutdownEvent;

    let name: string;
    let method: EventMethodType;
    let description: string;
    try {
      name = String(event.getName());
      method = event.method();
      if (method !== 0 && method !== 1 && method !== 2 && method !== 3) {
        throw new TypeError(`method() returned ${String(method)}, expected an EventMethodType`);
      }
      description = this.#cfg.recordEventHistory ? String(event.toString()) : name;
    } catch (err) {
      const e = new InvalidEventError(`event "${safeName(event)}" is not a valid Event: ${toError(err).message}`, { cause: err });
      this.#finishBare(event, ctx, entry, safeName(event), EventMethodType.Update, processingStart, perfStart, e, timing);
      return;
    }

    if (this.#aborting) {
      if (isOurShutdown) this.#loopEnded = true;
      this.#finishBare(event, ctx, entry, name, method, processingStart, perfStart, new EventLoopAbortingError(), timing);
      return;
    }

    const isUpdate = method === EventMethodType.Update;
    let txnType: UpdateTransactionType = UpdateTransactionType.BestEffort;
    let direction: UpdateDirectionType = UpdateDirectionType.Forward;
    if (isUpdate) {
      let invalid: Error | null = null;
      if (!isUpdateEvent(event)) {
        invalid = new InvalidEventError(`update event "${name}" does not implement UpdateEvent (transactionType(), direction())`);
      } else {
        try {
          txnType = event.transactionType();
          direction = event.direction();
        } catch (err) {
          invalid = new InvalidEventError(`update event "${name}" threw from transactionType()/direction()`, { cause: err });
        }
      }
      if (invalid !== null) {
        this.#finishBare(event, ctx, entry, name, method, processingStart, perfStart, invalid, timing);
        return;
      }
    }

    // Closing before the startup resync: held events cannot run any more; handlers never saw a resync.
    let skipHandlers = false;
    if (isOurShutdown && !this.#startupDone) {
      skipHandlers = true;
      const closed = new ControllerClosedError('controller closed before the startup resync');
      for (const held of this.#held.drain()) this.#callDone(held.event, closed);
    }

    // 1. Update the controller's view of the state.
    let isHealing = false;
    let healingAfterErr: Error | null = null;
    let isStartupResync = false;
    if (!isUpdate) {
      this.#resyncCount++;
      if (event instanceof DBResync) {
        isStartupResync = !this.#startupDone;
        this.#applyDBResync(event);
        for (const src of this.#extSources) {
          const sourceName = String(src);
          try {
            let snapshot: unknown = src.getConfigSnapshot();
            if (isThenable(snapshot)) snapshot = yield snapshot;
            if (!(snapshot instanceof Map)) throw new TypeError('getConfigSnapshot() must return a Map');
            this.#extConfig.set(sourceName, new Map(snapshot as KeyValuePairs));
          } catch (err) {
            this.#log.warn({ err, source: sourceName }, `failed to load external config from source ${sourceName}; keeping the previous snapshot`);
          }
        }
      } else if (event instanceof ExternalConfigResync) {
        this.#extConfig.set(String(event.source), new Map(event.externalConfig));
      } else if (event instanceof HealingResync) {
        isHealing = true;
        if (event.type !== HealingResyncType.Periodic) {
          healingAfterErr = event.error ?? new Error('unknown error');
          this.#healingScheduled = false;
        }
      }
    } else if (event instanceof KubeStateChange) {
      let kvs = this.#kubeState.get(event.resource);
      if (kvs === undefined) {
        kvs = new Map();
        this.#kubeState.set(event.resource, kvs);
      }
      if (event.newValue === null) kvs.delete(event.key);
      else kvs.set(event.key, event.newValue);
    } else if (event instanceof ExternalConfigChange) {
      const source = String(event.source);
      let snapshot = this.#extConfig.get(source);
      if (snapshot === undefined) {
        snapshot = new Map();
        this.#extConfig.set(source, snapshot);
      }
      for (const [key, value] of event.updatedKVs) {
        if (value === null) snapshot.delete(key);
        else snapshot.set(key, value);
      }
    }

    // 2. Which handlers, in which order.
    const records: HandlerRecord[] = [];
    const handlerMs: Array<{ handler: string; ms: number }> = [];
    let wasErr: Error | null = null;
    let needsHealing = false;
    let fatal: FatalError | null = null;
    let abort = false;
    const withRevert = isUpdate && txnType === UpdateTransactionType.RevertOnFailure;
    const withHealing = !(isUpdate && txnType === UpdateTransactionType.BestEffortIgnoreErrors);

    const handlers: NamedHandler[] = [];
    if (!skipHandlers && method !== EventMethodType.DownstreamResync) {
      const ordered = isUpdate && direction === UpdateDirectionType.Reverse ? this.#reversed : this.#handlers;
      for (const nh of ordered) {
        try {
          if (nh.handler.handlesEvent(event)) handlers.push(nh);
        } catch (err) {
          const e = toError(err);
          records.push({ handler: nh.name, revert: false, change: '', error: e });
          wasErr = e;
          if (withHealing) needsHealing = true;
        }
      }
    }
    if (levelEnabled(this.#log, 'debug')) this.#logStart(ctx.seqNum, name, description, method, isFollowUp, entry, handlers);

    const isVerification = event instanceof VerificationResync;
    const before = isVerification ? handlers.map((nh) => nh.handler.describeInternalData?.()) : null;

    // 3. Build the transaction.
    const txn = new EventTransaction(isUpdate);
    this.#txn = txn;
    let idx = 0;
    for (; idx < handlers.length; idx++) {
      const nh = handlers[idx] as NamedHandler;
      let change = '';
      let err: Error | null = null;
      const t0 = timing ? performance.now() : 0;
      try {
        let r: unknown = isUpdate
          ? nh.handler.update(event, txn)
          : nh.handler.resync(event, this.#kubeState, this.#resyncCount, txn);
        if (isThenable(r)) {
          const stage = isUpdate ? 'update' : 'resync';
          r = yield this.#guard(r, this.#cfg.handlerTimeout, () => new HandlerTimeoutError(nh.name, stage, this.#cfg.handlerTimeout));
        }
        if (isUpdate && typeof r === 'string') change = r;
      } catch (e) {
        err = toError(e);
      }
      if (timing) handlerMs.push({ handler: nh.name, ms: performance.now() - t0 });
      records.push({ handler: nh.name, revert: false, change, error: err });
      if (err !== null) {
        wasErr = err;
        if (err instanceof FatalError) {
          fatal = err;
          break;
        }
        if (err instanceof AbortEventError) {
          abort = true;
          needsHealing = true;
          break;
        }
        if (!withRevert && withHealing) needsHealing = true;
        if (withRevert) break;
      }
    }

    // 4. Merge with external config and commit.
    let txnError: Error | null = null;
    let recordedTxn: RecordedTxn | null = null;
    let commitMs: number | null = null;
    if (fatal === null && !abort && !(withRevert && wasErr !== null)) {
      const toCommit = this.#merge(event, isUpdate, method, txn);
      if (!isUpdate || toCommit.size > 0) {
        const options = this.#commitOptions(name, method, isUpdate, withRevert, isStartupResync, records);
        const c0 = timing ? performance.now() : 0;
        let result: CommitResult | null = null;
        try {
          const scheduler = this.#scheduler as KVScheduler;
          let r: unknown = scheduler.commit(toCommit, options);
          if (isThenable(r)) {
            r = yield this.#guard(r, this.#cfg.commitTimeout, () => new CommitTimeoutError(this.#cfg.commitTimeout));
          }
          if (typeof r !== 'object' || r === null || typeof (r as CommitResult).seqNum !== 'number') {
            throw new TypeError('scheduler.commit() must resolve to { seqNum, error }');
          }
          result = r as CommitResult;
          if (result.error !== null && result.error !== undefined) txnError = toError(result.error);
        } catch (e) {
          txnError = toError(e);
        }
        if (timing) commitMs = performance.now() - c0;
        if (result !== null) {
          try {
            recordedTxn = (this.#scheduler as KVScheduler).getRecordedTransaction(result.seqNum) ?? null;
          } catch (e) {
            this.#log.warn({ err: e }, 'scheduler.getRecordedTransaction() threw');
          }
        }
        if (txnError !== null) {
          wasErr = txnError;
          if (!withRevert && withHealing && !this.#onlyExternalFailed(txnError, txn)) needsHealing = true;
        }
        // 5. Internal config: the handlers' own values.
        if (isUpdate) {
          if (txnError === null || !withRevert) {
            for (const [key, value] of txn.values) {
              if (value === null) this.#internal.delete(key);
              else this.#internal.set(key, value);
            }
          }
        } else if (method !== EventMethodType.DownstreamResync) {
          const internal = new Map<string, Value>();
          for (const [key, value] of txn.values) if (value !== null) internal.set(key, value);
          this.#internal = internal;
        }
      }
    }

    // 6. RevertOnFailure: undo the handlers that ran, newest first.
    if (wasErr !== null && withRevert && fatal === null) {
      for (idx = idx - 1; idx >= 0; idx--) {
        const nh = handlers[idx] as NamedHandler;
        let err: Error | null = null;
        try {
          const r: unknown = nh.handler.revert(event);
          if (isThenable(r)) {
            yield this.#guard(r, this.#cfg.handlerTimeout, () => new HandlerTimeoutError(nh.name, 'revert', this.#cfg.handlerTimeout));
          }
        } catch (e) {
          err = toError(e);
        }
        records.push({ handler: nh.name, revert: true, change: '', error: err });
        if (err !== null) {
          wasErr = err;
          needsHealing = true;
          if (err instanceof FatalError) {
            fatal = err;
            break;
          }
        }
      }
    }

    if (isVerification) this.#verify(handlers, before as Array<string | undefined>, recordedTxn);

    // 7. Finish: history, hooks, done.
    if (isOurShutdown) this.#loopEnded = true;
    if (isStartupResync) {
      this.#startupDone = true;
      if (this.#deadlineTimer !== null) clearTimeout(this.#deadlineTimer);
      this.#deadlineTimer = null;
    }
    let fatalCause: Error | null = fatal;
    if (fatalCause === null && needsHealing && isHealing && healingAfterErr !== null && wasErr !== null) {
      fatalCause = new HealingFailedError(healingAfterErr, wasErr);
    }
    const processingEnd = this.#now();
    if (this.#cfg.recordEventHistory) {
      this.#history.add({
        seqNum: ctx.seqNum,
        processingStart,
        processingEnd,
        isFollowUp,
        followUpTo: entry.followUpTo,
        name,
        description,
        method,
        handlers: records,
        txnError,
        txn: recordedTxn,
      });
    }
    if (levelEnabled(this.#log, wasErr === null ? 'info' : 'warn')) {
      this.#logEnd(ctx.seqNum, name, processingEnd - processingStart, records, recordedTxn, txnError, wasErr);
    }
    if (fatalCause !== null) {
      this.#log.error({ err: fatalCause }, `fatal error, the event loop is aborting: ${fatalCause.message}`);
      this.#enterAborting(fatalCause);
    } else if (isStartupResync) {
      this.#reportState('ok', null);
      this.#startPeriodicHealing();
    }
    // Verification follows the event directly (a follow-up ahead of anything done() pushes).
    if (
      this.#cfg.enableVerification &&
      !needsHealing &&
      fatalCause === null &&
      !isVerification &&
      !isOurShutdown &&
      !this.#closing
    ) {
      if (this.#followUps.length < this.#cfg.eventQueueSize) {
        this.#followUps.push({ event: new VerificationResync(), followUpTo: ctx.seqNum });
      } else {
        this.#log.warn({}, 'follow-up queue full: verification resync skipped');
      }
    }
    if (timing) {
      this.#emit({
        seqNum: ctx.seqNum,
        name,
        method,
        isFollowUp,
        result: wasErr === null ? 'ok' : 'error',
        error: wasErr,
        durationMs: performance.now() - perfStart,
        handlerMs,
        commitMs,
        healing: isHealing,
      });
    }
    ctx.finished = true;
    this.#callDone(event, wasErr);
    if (needsHealing && fatalCause === null) this.#scheduleHealing(wasErr);
  }

  /** Finishes an event that never reached the handlers (invalid, or the loop is aborting). */
  #finishBare(
    event: Event,
    ctx: EventContext,
    entry: QueueEntry,
    name: string,
    method: EventMethodType,
    processingStart: number,
    perfStart: number,
    err: Error,
    timing: boolean,
  ): void {
    if (this.#cfg.recordEventHistory) {
      this.#history.add({
        seqNum: ctx.seqNum,
        processingStart,
        processingEnd: this.#now(),
        isFollowUp: entry.followUpTo !== null,
        followUpTo: entry.followUpTo,
        name,
        description: name,
        method,
        handlers: [],
        txnError: null,
        txn: null,
      });
    }
    if (levelEnabled(this.#log, 'warn')) this.#log.warn({ err, seqNum: ctx.seqNum }, `*** Event #${ctx.seqNum} ${name} not processed: ${err.message}`);
    if (timing) {
      this.#emit({
        seqNum: ctx.seqNum,
        name,
        method,
        isFollowUp: entry.followUpTo !== null,
        result: 'error',
        error: err,
        durationMs: performance.now() - perfStart,
        handlerMs: [],
        commitMs: null,
        healing: false,
      });
    }
    ctx.finished = true;
    this.#callDone(event, err);
  }

  #applyDBResync(event: DBResync): void {
    const kube: KubeStateData = new Map();
    for (const [resource, kvs] of event.kubeState) kube.set(resource, new Map(kvs));
    this.#kubeState = kube;
    this.#extConfig.set(DB_SOURCE, new Map(event.externalConfig));
  }

  #firstExternal(key: string): Value | undefined {
    for (const snapshot of this.#extConfig.values()) {
      const v = snapshot.get(key);
      if (v !== undefined) return v;
    }
    return undefined;
  }

  #hasExternal(): boolean {
    for (const snapshot of this.#extConfig.values()) if (snapshot.size > 0) return true;
    return false;
  }

  /** SPEC C10: the change set to commit, internal values merged with the first external source having each key. */
  #merge(event: Event, isUpdate: boolean, method: EventMethodType, txn: EventTransaction): Map<string, Value | null> {
    if (isUpdate) {
      const isExtChange = event instanceof ExternalConfigChange;
      if (!isExtChange && !this.#hasExternal()) return txn.values;
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
    for (const r of records) if (r.change !== '') description += `\n* ${r.handler}: ${r.change}`;
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

  /** SPEC C11: failures of keys that came purely from external config need no healing. */
  #onlyExternalFailed(err: Error, txn: EventTransaction): boolean {
    if (!(err instanceof TransactionError) || err.txnInitError !== null || err.kvErrors.length === 0) return false;
    for (const kv of err.kvErrors) {
      if (txn.has(kv.key) || this.#internal.has(kv.key)) return false;
    }
    return true;
  }

  #verify(handlers: readonly NamedHandler[], before: ReadonlyArray<string | undefined>, recordedTxn: RecordedTxn | null): void {
    handlers.forEach((nh, i) => {
      let after: string | undefined;
      try {
        after = nh.handler.describeInternalData?.();
      } catch (err) {
        this.#log.error({ err, handler: nh.name }, `verification: describeInternalData() of ${nh.name} threw`);
        return;
      }
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
          this.pushEvent(new HealingResync(HealingResyncType.AfterError, err));
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

  #logStart(
    seqNum: number,
    name: string,
    description: string,
    method: EventMethodType,
    isFollowUp: boolean,
    entry: QueueEntry,
    handlers: readonly NamedHandler[],
  ): void {
    const names = handlers.map((h) => h.name);
    const followUp = isFollowUp ? `, follow-up to #${String(entry.followUpTo)}` : '';
    this.#log.debug(
      { seqNum, event: name, description, method: METHOD_NAMES[method], handlers: names, isFollowUp, followUpTo: entry.followUpTo },
      `*** Processing event #${seqNum}: ${description} [${METHOD_NAMES[method]}${followUp}] handlers: ${names.length > 0 ? names.join(', ') : '(none)'}`,
    );
  }

  #logEnd(
    seqNum: number,
    name: string,
    durationMs: number,
    records: readonly HandlerRecord[],
    recordedTxn: RecordedTxn | null,
    txnError: Error | null,
    err: Error | null,
  ): void {
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
