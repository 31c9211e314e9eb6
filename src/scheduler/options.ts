import type { CommitOptions } from '../api/scheduler.js';
import type { BinapiClient } from './binapi-client.js';
import type { Descriptor } from './descriptor.js';
import type { OpPool } from './op-pool.js';
import { MAX_TIMER_MS } from '../api/timers.js';

/** The logging calls the scheduler makes (pino-compatible). */
export interface SchedulerLogger {
  debug(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
}

export interface SchedulerOptions {
  /** The dataplane client (a `VppConnector`). */
  readonly connector: BinapiClient;
  /**
   * Descriptors to register; they replace the built-in ones (combine with `builtinDescriptors()`).
   * @default builtinDescriptors()
   */
  readonly descriptors?: readonly Descriptor[];
  /**
   * How many recorded transactions are kept.
   * @default 1000
   */
  readonly historySize?: number;
  /**
   * Where the scheduler logs transactions (debug) and failures (warn).
   * @default a silent logger
   */
  readonly logger?: SchedulerLogger;
  /**
   * A worker pool (an `OffloadPool` over the same connector) that builds, encodes and sends the
   * ops of `pooledKinds` when a plan has at least `pool.inlineThreshold` of them; smaller plans,
   * other kinds, a revert commit's plan and a pool with workers off run inline. The caller owns
   * (and closes) the pool.
   * @default none: every plan runs inline
   */
  readonly pool?: OpPool;
  /**
   * Descriptor names whose ops may go to the pool: leaf kinds (nothing depends on them); ids their
   * creates allocate come from the pool, above every id the scheduler knows. Kinds with a configure
   * stage always run inline.
   * @default DEFAULT_POOLED_KINDS (routes, ARP entries, DNAT44 mappings)
   */
  readonly pooledKinds?: readonly string[];
}

/** The built-in leaf kinds the pool can take. */
export const DEFAULT_POOLED_KINDS: readonly string[] = Object.freeze(['vpp-route', 'vpp-arp', 'vpp-dnat44']);

export interface ResolvedSchedulerOptions {
  readonly connector: BinapiClient;
  readonly descriptors: readonly Descriptor[] | undefined;
  readonly historySize: number;
  readonly logger: SchedulerLogger;
  readonly pool: OpPool | undefined;
  readonly pooledKinds: ReadonlySet<string>;
}

const noop = (): void => {};
const SILENT: SchedulerLogger = Object.freeze({ debug: noop, warn: noop, error: noop });

function received(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `"${v}"`;
  return `${typeof v} ${String(v)}`;
}

/** Validates scheduler options in one place. */
export function resolveSchedulerOptions(options: unknown): ResolvedSchedulerOptions {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`options must be an object, received ${received(options)}`);
  }
  const o = options as Partial<SchedulerOptions>;
  const c = o.connector as Partial<BinapiClient> | undefined;
  if (typeof c !== 'object' || c === null || typeof c.requestBatch !== 'function' || typeof c.dump !== 'function') {
    throw new TypeError(`options.connector must be a binary-API client (request, requestBatch, dump), received ${received(c)}`);
  }
  if (o.descriptors !== undefined && !Array.isArray(o.descriptors)) {
    throw new TypeError(`options.descriptors must be an array of descriptors, received ${received(o.descriptors)}`);
  }
  const historySize = o.historySize ?? 1000;
  if (typeof historySize !== 'number' || !Number.isInteger(historySize)) {
    throw new TypeError(`options.historySize must be an integer, received ${received(historySize)}`);
  }
  if (historySize < 1) throw new RangeError(`options.historySize must be >= 1, received ${historySize}`);
  const logger = o.logger ?? SILENT;
  if (typeof logger !== 'object' || logger === null || typeof logger.warn !== 'function' || typeof logger.debug !== 'function') {
    throw new TypeError(`options.logger must be a pino-compatible logger, received ${received(logger)}`);
  }
  const pool = o.pool as Partial<OpPool> | undefined;
  if (
    pool !== undefined &&
    (typeof pool !== 'object' || pool === null || typeof pool.executeWave !== 'function' || typeof pool.descriptorName !== 'function' || typeof pool.workers !== 'boolean' || typeof pool.inlineThreshold !== 'number')
  ) {
    throw new TypeError(`options.pool must be a worker pool (an OffloadPool: workers, inlineThreshold, descriptorName, executeWave), received ${received(pool)}`);
  }
  const kinds = o.pooledKinds ?? DEFAULT_POOLED_KINDS;
  if (!Array.isArray(kinds) || !kinds.every((k) => typeof k === 'string' && k !== '')) {
    throw new TypeError(`options.pooledKinds must be an array of descriptor names, received ${received(kinds)}`);
  }
  return { connector: c as BinapiClient, descriptors: o.descriptors, historySize, logger, pool: pool as OpPool | undefined, pooledKinds: new Set(kinds) };
}

const RESYNC_KINDS = new Set(['full', 'upstream', 'downstream']);
const COMMIT_OPTION_NAMES: ReadonlySet<string> = new Set<keyof CommitOptions>(['description', 'resync', 'isStartup', 'revert', 'retry']);

/** Validates the options of one commit. */
export function validateCommitOptions(options: unknown): asserts options is CommitOptions {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`commit options must be an object, received ${received(options)}`);
  }
  const o = options as Record<string, unknown>;
  for (const name in o) {
    if (!COMMIT_OPTION_NAMES.has(name)) throw new TypeError(`options.${name} is not a commit option (known: ${[...COMMIT_OPTION_NAMES].join(', ')})`);
  }
  if (o.revert !== undefined && typeof o.revert !== 'boolean') throw new TypeError(`options.revert must be a boolean, received ${received(o.revert)}`);
  if (o.isStartup !== undefined && typeof o.isStartup !== 'boolean') {
    throw new TypeError(`options.isStartup must be a boolean, received ${received(o.isStartup)}`);
  }
  if (o.description !== undefined && typeof o.description !== 'string') {
    throw new TypeError(`options.description must be a string, received ${received(o.description)}`);
  }
  if (o.resync !== undefined && !RESYNC_KINDS.has(o.resync as string)) {
    throw new TypeError(`options.resync must be 'full', 'upstream' or 'downstream', received ${received(o.resync)}`);
  }
  if (o.retry !== undefined) {
    const r = o.retry as Record<string, unknown> | null;
    if (typeof r !== 'object' || r === null) throw new TypeError(`options.retry must be an object, received ${received(r)}`);
    if (typeof r.delay !== 'number' || !Number.isFinite(r.delay)) {
      throw new TypeError(`options.retry.delay must be a number of ms, received ${received(r.delay)}`);
    }
    if (r.delay < 0 || r.delay > MAX_TIMER_MS) throw new RangeError(`options.retry.delay must be between 0 and ${MAX_TIMER_MS} ms, received ${r.delay}`);
    if (typeof r.maxAttempts !== 'number' || !Number.isInteger(r.maxAttempts)) {
      throw new TypeError(`options.retry.maxAttempts must be an integer, received ${received(r.maxAttempts)}`);
    }
    if (r.maxAttempts < 0) throw new RangeError(`options.retry.maxAttempts must be >= 0, received ${r.maxAttempts}`);
    if (typeof r.expBackoff !== 'boolean') {
      throw new TypeError(`options.retry.expBackoff must be a boolean, received ${received(r.expBackoff)}`);
    }
  }
}
