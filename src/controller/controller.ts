import type { Event, EventLoop } from '../api/events.js';
import type { EventHandler } from '../api/handlers.js';
import type { ConfigRetriever } from '../api/transactions.js';
import type { Value } from '../api/values.js';
import { resolveControllerConfig, type ControllerConfig } from './config.js';
import { ControllerEngine } from './engine.js';
import { bestEffortLogger } from '../api/best-effort-logger.js';
import { silentLogger, type ControllerLogger } from './logger.js';
import { startDefaultStack } from '../engine/default-stack.js';
import type {
  ControllerOptions,
  EventHistoryQuery,
  EventRecord,
  ExternalConfigSource,
  HealthState,
  OwnedScheduler,
  ProcessedEventInfo,
  StatusCheck,
} from './types.js';

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v;
}

function hasMethods(v: unknown, names: readonly string[]): boolean {
  if ((typeof v !== 'object' && typeof v !== 'function') || v === null) return false;
  const o = v as Record<string, unknown>;
  return names.every((n) => typeof o[n] === 'function');
}

const OPTION_NAMES: ReadonlySet<string> = new Set<keyof ControllerOptions>(['handlers', 'scheduler', 'createScheduler', 'extSources', 'config', 'statusCheck', 'logger', 'now']);

function validateOptions(options: unknown): {
  handlers: Array<{ handler: EventHandler; name: string }>;
  extSources: ExternalConfigSource[];
  config: ControllerConfig;
  logger: ControllerLogger;
} {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`options must be an object with at least { handlers }, received ${describe(options)}`);
  }
  const o = options as Partial<Record<keyof ControllerOptions, unknown>>;
  // A misspelt or misplaced option (`stack` belongs to Engine.start) would otherwise be ignored.
  for (const key of Object.keys(o)) {
    if (!OPTION_NAMES.has(key)) throw new TypeError(`options.${key} is not a controller option (known: ${[...OPTION_NAMES].join(', ')})`);
  }
  if (!Array.isArray(o.handlers)) throw new TypeError(`options.handlers must be an array of EventHandler, received ${describe(o.handlers)}`);
  const handlers = o.handlers.map((h: unknown, i: number) => {
    if (!hasMethods(h, ['handlesEvent', 'resync', 'update', 'revert'])) {
      throw new TypeError(`options.handlers[${i}] must implement EventHandler (handlesEvent, resync, update, revert), received ${describe(h)}`);
    }
    return { handler: h as EventHandler, name: String(h) };
  });
  if (o.scheduler !== undefined && !hasMethods(o.scheduler, ['commit', 'getRecordedTransaction'])) {
    throw new TypeError(`options.scheduler must implement KVScheduler (commit, getRecordedTransaction), received ${describe(o.scheduler)}`);
  }
  if (o.createScheduler !== undefined && typeof o.createScheduler !== 'function') {
    throw new TypeError(`options.createScheduler must be a function, received ${describe(o.createScheduler)}`);
  }
  let extSources: ExternalConfigSource[] = [];
  if (o.extSources !== undefined) {
    if (!Array.isArray(o.extSources)) throw new TypeError(`options.extSources must be an array, received ${describe(o.extSources)}`);
    const seen = new Set<string>(['db']);
    extSources = o.extSources.map((s: unknown, i: number) => {
      if (!hasMethods(s, ['getConfigSnapshot'])) {
        throw new TypeError(`options.extSources[${i}] must have getConfigSnapshot(), received ${describe(s)}`);
      }
      const name = String(s);
      if (seen.has(name)) throw new TypeError(`options.extSources[${i}] has the name "${name}", which is already taken`);
      seen.add(name);
      return s as ExternalConfigSource;
    });
  }
  if (o.statusCheck !== undefined && !hasMethods(o.statusCheck, ['reportStateChange'])) {
    throw new TypeError(`options.statusCheck must have reportStateChange(), received ${describe(o.statusCheck)}`);
  }
  if (o.logger !== undefined && !hasMethods(o.logger, ['debug', 'info', 'warn', 'error'])) {
    throw new TypeError(`options.logger must be pino-compatible (debug, info, warn, error), received ${describe(o.logger)}`);
  }
  if (o.now !== undefined && typeof o.now !== 'function') {
    throw new TypeError(`options.now must be a function returning epoch ms, received ${describe(o.now)}`);
  }
  return {
    handlers,
    extSources,
    config: resolveControllerConfig(o.config),
    logger: o.logger === undefined ? silentLogger : bestEffortLogger(o.logger as ControllerLogger, ['debug', 'info', 'warn', 'error']),
  };
}

/**
 * The event loop (SPEC C1–C19): events are processed one at a time, each turned by the handlers into
 * a transaction that is merged with external configuration and committed to the scheduler.
 */
export class Controller implements EventLoop, ConfigRetriever {
  readonly #engine: ControllerEngine;

  constructor(options: ControllerOptions) {
    const v = validateOptions(options);
    this.#engine = new ControllerEngine({
      handlers: v.handlers,
      scheduler: options.scheduler ?? null,
      createScheduler:
        (options.createScheduler as (() => Promise<OwnedScheduler>) | undefined) ??
        // No scheduler given: build the embedded default stack, its restart resyncs routed through this loop.
        (options.scheduler === undefined ? () => startDefaultStack({ eventLoop: this }) : null),
      extSources: v.extSources,
      config: v.config,
      statusCheck: (options.statusCheck as StatusCheck | undefined) ?? null,
      logger: v.logger,
      now: options.now ?? Date.now,
    });
  }

  /** Starts processing (events pushed before are queued); builds the scheduler stack if none was given. */
  start(): Promise<void> {
    return this.#engine.start();
  }

  /** Queues an event; never runs a handler synchronously. Throws ControllerClosedError, EventQueueFullError, DeadlockError, InvalidEventError. */
  pushEvent(event: Event): void {
    this.#engine.pushEvent(event);
  }

  /** The value in the transaction being built, else the last committed internal value; a deep copy. */
  getConfig(key: string): Value | undefined {
    return this.#engine.getConfig(key);
  }

  getEventHistory(query?: EventHistoryQuery): EventRecord[] {
    return this.#engine.getEventHistory(query);
  }

  /** Trims history records older than `eventHistoryAgeLimit` (also done every minute); returns how many. */
  trimEventHistory(): number {
    return this.#engine.trimEventHistory();
  }

  /** Called after each processed event; returns an unsubscribe function. Handler times are measured only while a listener is attached. */
  onEvent(listener: (info: ProcessedEventInfo) => void): () => void {
    if (typeof listener !== 'function') throw new TypeError(`listener must be a function, received ${describe(listener)}`);
    return this.#engine.onEvent(listener);
  }

  /**
   * Pushes Shutdown, waits for it, stops timers and the owned scheduler stack. Never rejects;
   * idempotent. Called from a handler (of the event being processed) it resolves once the Shutdown
   * is queued, as waiting for the loop to end there could never end; the loop closes after that event.
   */
  close(): Promise<void> {
    return this.#engine.close();
  }

  get resyncCount(): number {
    return this.#engine.resyncCount;
  }
  /** Events waiting: the queue, the follow-up queue and events held until the startup resync. */
  get queueDepth(): number {
    return this.#engine.queueDepth;
  }
  get isAborting(): boolean {
    return this.#engine.isAborting;
  }
  get healthState(): HealthState {
    return this.#engine.healthState;
  }
}
