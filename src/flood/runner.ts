// Runs one flood: start the stack, push the generated events with backpressure, heal, check.
import { performance } from 'node:perf_hooks';
import ringBufferTs from 'ring-buffer-ts';
import { EngineError, type Event, type EventHandler, type Value } from '../api/index.js';
import { builtinHandlers } from '../handlers/index.js';
import type { StatusCheck } from '../controller/index.js';
import { CommitCounters } from './commit-counters.js';
import { createFloodStack } from './default-stack.js';
import { compareStates, type Divergence } from './divergence.js';
import { FloodGenerator } from './generator.js';
import { badPodAddresses, builtinModel, compareWithModel, syntheticModel } from './model.js';
import { resolveFloodOptions, type FloodOptions, type ResolvedFloodOptions } from './options.js';
import type { FloodReport } from './report.js';
import type { FloodStack, FloodStackFactory } from './stack.js';
import { syntheticHandlers } from './synthetic-handlers.js';
import { EventTracker } from './tracker.js';

const { RingBuffer } = ringBufferTs;

/** Where a run is, for a progress display. */
export interface FloodProgress {
  readonly phase: 'flood' | 'drain' | 'heal' | 'check';
  readonly done: number;
  readonly pushed: number;
  /** Planned generated events; null when the run is bounded by time only. */
  readonly total: number | null;
  readonly elapsedMs: number;
  /** Events finished per second over the last few seconds. */
  readonly recentEventsPerSec: number;
  readonly inFlight: number;
  readonly errors: number;
}

export interface RunFloodOptions extends FloodOptions {
  /** Builds the stack to flood. @default the embedded stack (native-sim + connector + scheduler) */
  readonly stack?: FloodStackFactory;
  /** Called about four times a second. */
  readonly onProgress?: (progress: FloodProgress) => void;
  /** Ends the flood early when aborted: the run still drains, heals, checks and reports (`interrupted`). */
  readonly signal?: AbortSignal;
}

/**
 * Controller settings for a flood: fast retries and healing so that a run converges quickly. Six
 * retries, not the default three: a healing resync after a restart re-creates every key, and a key
 * failing 1 + 3 times in a row (an ACL op sends several messages) aborted about one run in ten at
 * --faults 0.03 (C14); 20 ms doubling six times is still only 1.3 s.
 */
export const FLOOD_CONTROLLER_CONFIG: Readonly<Record<string, unknown>> = Object.freeze({
  delayRetry: 20,
  maxRetryAttempts: 6,
  enableExpBackoffRetry: true,
  delayAfterErrorHealing: 100,
  recordEventHistory: false,
  enablePeriodicHealing: false,
});

const NO_DIVERGENCE: Divergence = { total: 0, missing: 0, extra: 0, differing: 0, sample: [] };

function isQueueFull(err: unknown): boolean {
  return err instanceof EngineError && err.code === 'ERR_EVENT_QUEUE_FULL';
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

function errorSummary(err: Error | null): FloodReport['aborted'] {
  if (err === null) return null;
  const code = (err as { code?: unknown }).code;
  return { code: typeof code === 'string' ? code : err.name, message: err.message };
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs a flood and returns its report (it never throws for a failed run: `ok` says). */
export async function runFlood(options: RunFloodOptions = {}): Promise<FloodReport> {
  if (typeof options !== 'object' || options === null) throw new TypeError(`options must be an object, received ${options === null ? 'null' : typeof options}`);
  const { stack: stackFactory, onProgress, signal, ...floodOptions } = options;
  const o = resolveFloodOptions(floodOptions);
  const factory = stackFactory ?? createFloodStack;
  if (typeof factory !== 'function') throw new TypeError(`stack must be a function, received ${typeof factory}`);
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    throw new TypeError(`onProgress must be a function, received ${typeof onProgress}`);
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeError(`signal must be an AbortSignal, received ${typeof signal}`);
  const counters = new CommitCounters();
  // The first error the controller reports (SPEC C9/C14: what aborted the loop, or a missed startup resync).
  let fatal: Error | null = null;
  const statusCheck: StatusCheck = {
    reportStateChange(_name, state, err) {
      if (state === 'error' && fatal === null) fatal = err ?? new Error('the controller reported an error');
    },
  };
  const handlers: EventHandler[] = o.handlers === null ? [...builtinHandlers()] : syntheticHandlers(o.handlers, o.keysPerEvent);
  const stack = await factory({
    handlers,
    queueSize: o.queueSize,
    seed: o.seed,
    dataplane: o.dataplane,
    controllerConfig: { ...FLOOD_CONTROLLER_CONFIG, eventQueueSize: o.queueSize, delayAfterErrorHealing: o.healingDelayMs },
    wrapScheduler: (s) => counters.wrap(s),
    statusCheck,
  });
  let report: FloodReport;
  try {
    report = await new FloodRun(o, stack, counters, onProgress, () => fatal, signal).run();
  } catch (err) {
    await closeWithin(stack, o.stallTimeoutMs);
    throw err;
  }
  const closeError = await closeWithin(stack, o.stallTimeoutMs);
  return closeError === null ? report : { ...report, stack: { ...report.stack, closeError } };
}

/**
 * Closes the stack, but never waits longer than the stall timeout: after a stall the controller's
 * Shutdown would queue behind the stuck event for ever, and the report must still come out.
 * Resolves with what went wrong, or null.
 */
async function closeWithin(stack: FloodStack, ms: number): Promise<string | null> {
  try {
    await withTimeout(stack.close(), ms, 'closing the flood stack');
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

class FloodRun {
  readonly #o: ResolvedFloodOptions;
  readonly #stack: FloodStack;
  readonly #counters: CommitCounters;
  readonly #onProgress: ((p: FloodProgress) => void) | undefined;
  readonly #tracker = new EventTracker();
  readonly #generator: FloodGenerator;
  readonly #fatal: () => Error | null;
  readonly #signal: AbortSignal | undefined;
  #seq = 0;
  #queueFullWaits = 0;
  #stalled = false;
  #restarts = 0;
  readonly #restartErrors: string[] = [];
  #phase: FloodProgress['phase'] = 'flood';
  #start = performance.now();
  /** (time, done) samples for the recent throughput. */
  readonly #window = new RingBuffer<[number, number]>(16);

  constructor(
    o: ResolvedFloodOptions,
    stack: FloodStack,
    counters: CommitCounters,
    onProgress: ((p: FloodProgress) => void) | undefined,
    fatal: () => Error | null,
    signal: AbortSignal | undefined,
  ) {
    this.#o = o;
    this.#fatal = fatal;
    this.#signal = signal;
    this.#stack = stack;
    this.#counters = counters;
    this.#onProgress = onProgress;
    this.#generator = new FloodGenerator({ seed: o.seed, synthetic: o.handlers !== null, maxPods: o.pods }, this.#tracker);
  }

  async run(): Promise<FloodReport> {
    const o = this.#o;
    const ticker = setInterval(() => this.#tick(), 250);
    ticker.unref();
    try {
      await this.#stack.controller.start();
      this.#start = performance.now();
      await this.#push(this.#generator.resync(this.#seq));
      if (o.faults > 0) await this.#stack.setFaults(o.faults, o.seed);
      await this.#flood();
      this.#phase = 'drain';
      if (!this.#stalled && !(await this.#tracker.idle(o.stallTimeoutMs))) this.#stalled = true;
      const floodMs = performance.now() - this.#start;
      const events = this.#tracker.pushed;
      // The final heal's operations fall outside floodMs: the rate counts the flood's own.
      const kvOps = this.#counters.kvOps;
      this.#phase = 'heal';
      const stats: Record<string, unknown> = {};
      try {
        if (o.faults > 0) await this.#stack.setFaults(0, o.seed);
        if (!this.#stalled) {
          const heal = this.#generator.resync(this.#seq);
          await this.#push(heal);
          if (!(await this.#tracker.idle(o.stallTimeoutMs))) this.#stalled = true;
        }
      } catch (err) {
        stats['healError'] = String(err);
      }
      this.#phase = 'check';
      this.#tick();
      return await this.#report(events, floodMs, kvOps, stats);
    } finally {
      clearInterval(ticker);
    }
  }

  async #flood(): Promise<void> {
    const o = this.#o;
    const deadline = this.#start + o.durationMs;
    const bounded = o.events < 1e9;
    // Spread over whichever bound ends the run first (events or duration), several per event when
    // there are more restarts than events: every restart asked for is done.
    const restartDue = (i: number, now: number): boolean => {
      if (this.#restarts >= o.restarts) return false;
      const share = (this.#restarts + 1) / (o.restarts + 1);
      return (bounded && i >= Math.floor(o.events * share)) || now - this.#start >= o.durationMs * share;
    };
    for (let i = 0; i < o.events; i++) {
      let now = performance.now();
      if (now >= deadline || this.#stalled || this.#interrupted) break;
      while (restartDue(i, now)) {
        await this.#restart();
        now = performance.now();
      }
      if (Number.isFinite(o.rate)) {
        const due = this.#start + (i * 1000) / o.rate;
        if (due >= deadline) {
          // The event due at or after the deadline is not generated: the run ends at --duration.
          await sleep(deadline - now, this.#signal);
          break;
        }
        if (due - now >= 1) await sleep(due - now, this.#signal);
        if (this.#interrupted) break;
      }
      const event = o.resyncEvery > 0 && i > 0 && i % o.resyncEvery === 0 ? this.#generator.resync(this.#seq) : this.#generator.next(this.#seq);
      const accepted = this.#tryPush(event);
      if (!accepted) await this.#push(event);
    }
    // Restarts whose time came while the flood waited for room in the queue, past the deadline.
    while (this.#restarts < o.restarts && !this.#stalled && !this.#interrupted) await this.#restart();
  }

  get #interrupted(): boolean {
    return this.#signal?.aborted === true;
  }

  async #restart(): Promise<void> {
    this.#restarts++;
    try {
      await this.#stack.restart();
    } catch (err) {
      // The run goes on (and the final heal shows what it cost); the report says what failed.
      this.#restartErrors.push(String(err));
    }
  }

  /** Pushes at once; false when the queue is full (the event was not accepted). */
  #tryPush(event: Event): boolean {
    const seq = this.#seq;
    this.#tracker.begin(seq);
    try {
      this.#stack.controller.pushEvent(event);
    } catch (err) {
      this.#tracker.cancel(seq);
      if (isQueueFull(err)) return false;
      throw err;
    }
    this.#tracker.accepted();
    this.#seq++;
    return true;
  }

  /** Pushes, waiting for room while the queue is full: an event is never dropped. */
  async #push(event: Event): Promise<void> {
    const half = Math.floor(this.#o.queueSize / 2);
    const since = performance.now();
    while (!this.#tryPush(event)) {
      this.#queueFullWaits++;
      const inFlight = this.#tracker.inFlight;
      if (inFlight === 0) {
        // Full of events that are not ours (healing resyncs): none of ours will wake us, so poll,
        // but give up as a stall once none has finished for the stall timeout (the loop may be stuck).
        if (performance.now() - Math.max(this.#tracker.lastDoneAt, since) >= this.#o.stallTimeoutMs) {
          this.#stalled = true;
          return;
        }
        await sleep(1);
        continue;
      }
      if (!(await this.#tracker.waitInFlight(Math.min(inFlight - 1, half), this.#o.stallTimeoutMs))) {
        this.#stalled = true;
        return;
      }
    }
  }

  #tick(): void {
    const now = performance.now();
    this.#window.add([now, this.#tracker.done]);
    if (this.#onProgress === undefined) return;
    const first = this.#window.getFirst() as [number, number];
    const span = now - first[0];
    this.#onProgress({
      phase: this.#phase,
      done: this.#tracker.done,
      pushed: this.#tracker.pushed,
      total: this.#o.events < 1e9 ? this.#o.events : null,
      elapsedMs: now - this.#start,
      recentEventsPerSec: span > 0 ? ((this.#tracker.done - first[1]) * 1000) / span : 0,
      inFlight: this.#tracker.inFlight,
      errors: this.#tracker.errors,
    });
  }

  async #report(events: number, floodMs: number, kvOps: number, stats: Record<string, unknown>): Promise<FloodReport> {
    const o = this.#o;
    const t = this.#tracker;
    let divergence: Divergence = NO_DIVERGENCE;
    let modelDivergence: Divergence = NO_DIVERGENCE;
    let desired = new Map<string, Value>();
    let dataplane = new Map<string, Value>();
    let checked = false;
    try {
      desired = await withTimeout(this.#stack.dump('nb'), o.stallTimeoutMs, "dump('nb')");
      dataplane = await withTimeout(this.#stack.dump('sb'), o.stallTimeoutMs, "dump('sb')");
      divergence = compareStates(desired, dataplane);
      if (o.handlers === null) {
        const model = builtinModel(this.#generator.kubeState, this.#generator.externalConfig);
        const d = compareWithModel(model, desired, true);
        const bad = badPodAddresses(desired);
        modelDivergence = bad === 0 ? d : { ...d, total: d.total + bad, sample: [`${bad} pod interface(s) with a duplicate or foreign address`, ...d.sample] };
      } else {
        const updates = this.#generator.counts.get('synthetic') ?? 0;
        modelDivergence = compareWithModel(syntheticModel(o.handlers, o.keysPerEvent, updates), desired, false);
      }
      checked = true;
    } catch (err) {
      stats['checkError'] = String(err);
    }
    if (this.#restartErrors.length > 0) stats['restartErrors'] = this.#restartErrors;
    try {
      Object.assign(stats, await withTimeout(this.#stack.stats(), 5000, 'stats'));
    } catch (err) {
      stats['statsError'] = String(err);
    }
    const seconds = floodMs / 1000;
    const unfinished = t.inFlight;
    const div = checked ? divergence.total : -1;
    const aborted = errorSummary(this.#fatal());
    const modelDiv = checked ? modelDivergence.total : -1;
    return {
      mode: o.handlers === null ? 'builtin' : 'synthetic',
      seed: o.seed,
      events,
      durationMs: Math.round(floodMs),
      eventsPerSec: Math.round(events / seconds),
      kvOps,
      kvOpsPerSec: Math.round(kvOps / seconds),
      latencyUs: t.latency(),
      errors: t.errors,
      errorsByCode: Object.fromEntries(t.errorsByCode),
      healingResyncs: this.#counters.healingResyncs,
      resyncs: this.#counters.resyncs,
      restarts: this.#restarts,
      faults: o.faults,
      queueFullWaits: this.#queueFullWaits,
      divergence: div,
      divergenceDetail: divergence,
      modelDivergence: modelDiv,
      modelDivergenceDetail: modelDivergence,
      unfinished,
      duplicateDone: t.duplicateDone,
      stalled: this.#stalled,
      interrupted: this.#interrupted,
      aborted,
      keys: { desired: desired.size, dataplane: dataplane.size },
      generated: Object.fromEntries(this.#generator.counts),
      stack: stats,
      ok: div === 0 && unfinished === 0 && modelDiv === 0 && t.duplicateDone === 0 && aborted === null && !this.#stalled,
    };
  }
}
