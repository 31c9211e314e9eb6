import { availableParallelism } from 'node:os';
import type { EventLoop } from '../api/events.js';
import { ControllerClosedError, EventLoopAbortingError, toError } from '../api/errors.js';
import { ResyncStatus } from '../api/enums.js';
import { startNativeSim, type NativeSim, type NativeSimOptions } from '../../native-sim/index.js';
import { VppConnector, type ConnectorOptions } from '../connector/index.js';
import { OffloadPool, envSwitches, type OffloadOptions } from '../offload/index.js';
import { Scheduler, type SchedulerOptions } from '../scheduler/index.js';
import { ResyncOrchestrator, type Registration, type ResyncOrchestratorOptions } from '../resync/index.js';
import { DataplaneRestartedError, DataplaneResync } from './dataplane-resync.js';

export interface DefaultStackOptions {
  /** Options of the simulated VPP thread. */
  readonly sim?: NativeSimOptions;
  readonly connector?: ConnectorOptions;
  readonly scheduler?: Omit<SchedulerOptions, 'connector' | 'pool'>;
  /**
   * The worker pool big transactions are encoded in (threads start on the first big one), or
   * false for none. ENGINE_WORKERS=off also leaves it out.
   * @default {} (an OffloadPool with its defaults over the stack's connector)
   */
  readonly offload?: Omit<OffloadOptions, 'connector'> | false;
  readonly orchestrator?: ResyncOrchestratorOptions;
  /**
   * Where a dataplane restart sends its downstream resync. Without one the scheduler re-aligns the
   * dataplane itself; with one the resync goes through the loop, serialized with other events.
   */
  readonly eventLoop?: EventLoop;
}

/** The embedded default below the controller: native-sim, the connector, the scheduler, the orchestrator. */
export interface DefaultStack {
  readonly sim: NativeSim;
  readonly connector: VppConnector;
  readonly scheduler: Scheduler;
  /** The scheduler's worker pool; null when switched off. */
  readonly pool: OffloadPool | null;
  readonly orchestrator: ResyncOrchestrator;
  /** Routes later dataplane-restart resyncs through this loop. */
  attach(eventLoop: EventLoop): void;
  /** Closes orchestrator, scheduler, pool (waiting for its work in flight), connector and sim, in that order; never rejects; twice is harmless. */
  close(): Promise<void>;
}

function kindOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}

/** The shape of the stack's options, checked before any thread starts; each part validates its own fields. */
function checkStackOptions(options: unknown): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`options must be an object, received ${kindOf(options)}`);
  }
  const o = options as Record<string, unknown>;
  for (const part of ['sim', 'connector', 'scheduler', 'offload', 'orchestrator'] as const) {
    const v = o[part];
    if (v === undefined || (part === 'offload' && v === false)) continue;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      throw new TypeError(`options.${part} must be an object${part === 'offload' ? ' or false' : ''}, received ${kindOf(v)}`);
    }
  }
  const loop = o['eventLoop'];
  if (loop !== undefined && (typeof loop !== 'object' || loop === null || typeof (loop as { pushEvent?: unknown }).pushEvent !== 'function')) {
    throw new TypeError(`options.eventLoop must have a pushEvent() method, received ${kindOf(loop)}`);
  }
}

/**
 * Ops from which the scheduler's plans go through the pool, on a machine with cores for it. The
 * pool hop pays only when the workers have cores of their own beside the main and sim threads: on 2
 * cores the `scheduler-resync` suite measured the pool slower than inline execution at every size
 * (add + remove of 30,000 routes 1.12–1.15×, of 100,000 1.1–1.4×, a 10⁵-key full resync 1.17–1.27×,
 * with the same main-thread delay), so there the default keeps plans inline. 30,000 is the crossover
 * an earlier run measured through the scheduler; it has not been measured on more cores.
 * `offload.inlineThreshold` overrides either.
 */
export const SCHEDULER_POOL_THRESHOLD = 30_000;
/** Cores a machine needs before the scheduler's pool is used by default: main, sim and two workers. */
export const SCHEDULER_POOL_MIN_CORES = 4;

/** The default stack's pool threshold on a machine with `cores` cores (never, below SCHEDULER_POOL_MIN_CORES). */
export function schedulerPoolThreshold(cores: number = availableParallelism()): number {
  return cores >= SCHEDULER_POOL_MIN_CORES ? SCHEDULER_POOL_THRESHOLD : Number.MAX_SAFE_INTEGER;
}

/** Starts the simulated VPP, connects to it and builds the scheduler over it. */
export async function startDefaultStack(options: DefaultStackOptions = {}): Promise<DefaultStack> {
  checkStackOptions(options);
  // Built first: its options are checked before any thread starts (it starts nothing itself).
  const orchestrator = new ResyncOrchestrator(options.orchestrator);
  const sim = await startNativeSim(options.sim);
  let connector: VppConnector;
  try {
    connector = await VppConnector.connect(sim, options.connector);
  } catch (err) {
    await sim.close();
    throw err;
  }
  let pool: OffloadPool | null = null;
  const offload = options.offload ?? {};
  if (offload !== false && envSwitches().workers && offload.workers !== false) {
    try {
      // Producer rings need the ring transport; over postMessage the workers hand requests back.
      const rings = (options.connector?.transport ?? 'ring') === 'ring' ? {} : { rings: false };
      pool = await OffloadPool.start({ warm: false, inlineThreshold: schedulerPoolThreshold(), ...rings, ...offload, connector });
    } catch (err) {
      await settle(connector.close());
      await settle(sim.close());
      throw err;
    }
  }
  let scheduler: Scheduler;
  try {
    scheduler = new Scheduler({ ...options.scheduler, connector, ...(pool ? { pool } : {}) });
  } catch (err) {
    await settle(pool?.close() ?? Promise.resolve());
    await settle(connector.close());
    await settle(sim.close());
    throw err;
  }
  let eventLoop = options.eventLoop ?? null;

  // Registration order is resync order: first make sure the dataplane answers, then re-align it.
  serve(orchestrator.register('connector'), async () => {
    await connector.request('control_ping');
  });
  const retry = new ResyncRetry((err) => orchestrator.reportError('scheduler', err));
  serve(orchestrator.register('scheduler'), async () => {
    if (eventLoop === null) {
      const { error } = await scheduler.resyncDownstream();
      if (error) throw error;
    } else {
      const resync = new DataplaneResync();
      eventLoop.pushEvent(resync);
      const err = await resync.settled();
      if (err) throw err;
    }
    retry.succeeded();
  }, (err) => retry.failed(err));

  const stopWatching = connector.onRestart((epoch) => orchestrator.reportError('connector', new DataplaneRestartedError(epoch)));

  let closing: Promise<void> | null = null;
  return {
    sim,
    connector,
    scheduler,
    pool,
    orchestrator,
    attach(loop: EventLoop) {
      eventLoop = loop;
    },
    close() {
      closing ??= (async () => {
        stopWatching();
        retry.stop();
        await settle(orchestrator.close());
        await settle(scheduler.close());
        if (pool) await settle(pool.close());
        await settle(connector.close());
        await settle(sim.close());
      })();
      return closing;
    },
  };
}

/** First and largest wait before a failed restart resync is planned again, ms. */
const RESYNC_RETRY_MIN_MS = 100;
const RESYNC_RETRY_MAX_MS = 10_000;

/**
 * Plans a failed restart resync again, after a wait that doubles while it keeps failing: a resync
 * that cannot succeed (a dataplane refusing a value, a loop that stopped) must not run back to back
 * for ever. A loop that is closed or aborting will never run it: nothing is planned then.
 */
class ResyncRetry {
  #delay = RESYNC_RETRY_MIN_MS;
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;

  constructor(private readonly replan: (err: Error) => void) {}

  failed(err: Error): void {
    if (this.#stopped || this.#timer !== null || err instanceof EventLoopAbortingError || err instanceof ControllerClosedError) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (!this.#stopped) this.replan(err);
    }, this.#delay);
    this.#delay = Math.min(this.#delay * 2, RESYNC_RETRY_MAX_MS);
  }

  succeeded(): void {
    this.#delay = RESYNC_RETRY_MIN_MS;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}

/**
 * Answers a registration's `Started` events with `work`, acking each once its work is done (or
 * failed: a failure plans another resync through `onError`). Every event is taken at once, even
 * while the work of an earlier one still runs (a restart resync waiting in a long queue): one not
 * taken within acceptTimeout is skipped, and a skip is no failure, so nothing would plan that
 * resync again. Their work runs one after the other.
 */
function serve(registration: Registration, work: () => Promise<void>, onError?: (err: Error) => void): void {
  let chain: Promise<void> = Promise.resolve();
  void (async () => {
    for await (const status of registration.statusEvents()) {
      if (status.resyncStatus() !== ResyncStatus.Started) continue;
      chain = chain.then(async () => {
        try {
          await work();
        } catch (err) {
          onError?.(toError(err));
        } finally {
          status.ack();
        }
      });
    }
  })();
}

async function settle(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch {
    // close() never rejects: a part that fails to close is already unusable.
  }
}
