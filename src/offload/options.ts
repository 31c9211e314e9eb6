import type { VppConnector } from '../connector/index.js';

/**
 * The crossover measured by `bench/suites/resync.ts` (`resync.crossover`, 2 cores): since the diff
 * compares unchanged entries as bytes, the pool is slower at 3,000 keys and wins from 10,000 on in
 * every run (0.72–0.74 at 10,000; before, it won or lost there and the default was 30,000).
 */
export const DEFAULT_INLINE_THRESHOLD = 10_000;

/** Producer rings per worker thread by default (measured with two pools side by side, alternating syncs: BENCHMARKS.md). */
export const RINGS_PER_THREAD = 4;

export interface OffloadOptions {
  /** The connector whose producer rings the workers write into. */
  readonly connector: VppConnector;
  /**
   * Use the worker pool at all; false runs every sync inline on the main thread.
   * @default true, unless the environment variable ENGINE_WORKERS is 'off'
   */
  readonly workers?: boolean;
  /**
   * Worker threads. More than the cores left beside main and native-sim does not help.
   * @default 2
   */
  readonly threads?: number;
  /**
   * Producer rings lent to encode tasks. A ring stays lent until every reply to its segment is in,
   * so with more rings than threads a worker encodes the next segment while native-sim still
   * answers the last one (with one ring per thread the workers idled through every reply tail).
   * @default RINGS_PER_THREAD × threads
   */
  readonly producerRings?: number;
  /**
   * Snapshots with fewer keys than this are synced inline (the pool hop costs more than it saves).
   * @default DEFAULT_INLINE_THRESHOLD (measured)
   */
  readonly inlineThreshold?: number;
  /**
   * Workers write frames straight into producer rings; false: workers return the planned requests
   * (msgpack bytes) and the main thread sends them through the connector.
   * @default true, unless ENGINE_WORKERS is 'off' or ENGINE_RINGS is 'off'
   */
  readonly rings?: boolean;
  /**
   * With rings, a sync's diff tasks also encode the requests of the ops they find (with the metadata
   * known when the sync starts), so a wave only copies frames into a ring; ops whose requests read
   * metadata that an earlier wave changed are encoded again. false: diff tasks hand the ops over and
   * each wave encodes them.
   * @default true, unless the environment variable ENGINE_PREENCODE is 'off'
   */
  readonly preEncode?: boolean;
  /**
   * A module (file: URL) exporting `descriptors(): Descriptor[]`, imported by main and every worker.
   * @default the built-in descriptors
   */
  readonly descriptorsModule?: string;
  /**
   * Milliseconds a worker waits for room in its ring before it fails its task.
   * @default 10000
   */
  readonly stallTimeout?: number;
  /**
   * Data bytes of each producer ring.
   * @default the connector's ring size
   */
  readonly ringBytes?: number;
  /**
   * Start every worker thread up front; false starts them on the first pooled task (a stack that
   * never sees a big transaction never pays for them).
   * @default true
   */
  readonly warm?: boolean;
  /**
   * How much lower the pool's threads run than the process (a Unix nice increment, 0..19, applied
   * to each worker thread alone): the main thread's event loop and the sim keep their core while a
   * big resync keeps the workers busy. 0 runs them at the process's own priority.
   * @default 10
   */
  readonly workerNice?: number;
  /**
   * Milliseconds one worker task (a shard's diff, a segment's encode) may run: a task still running
   * then (a descriptor stuck in a loop) has its thread terminated and fails its keys with
   * WorkerTaskError, like a worker that died. 0: no limit.
   * @default 120000
   */
  readonly taskTimeout?: number;
  /**
   * After a sync in which requests failed, read the kinds of the keys concerned back from the
   * dataplane (their descriptors' `retrieve`, as the scheduler does): the applied state the sync
   * reports holds what the dataplane holds for them. false: it holds what the replies tell (failed
   * keys keep their old value or none; objects left behind are orphans the next sync deletes).
   * @default true
   */
  readonly readBack?: boolean;
}

export interface ResolvedOffloadOptions {
  readonly connector: VppConnector;
  readonly workers: boolean;
  readonly threads: number;
  readonly producerRings: number;
  readonly inlineThreshold: number;
  readonly rings: boolean;
  readonly preEncode: boolean;
  readonly descriptorsModule: string | undefined;
  readonly stallTimeout: number;
  readonly ringBytes: number | undefined;
  readonly warm: boolean;
  readonly workerNice: number;
  readonly taskTimeout: number;
  readonly readBack: boolean;
}

function received(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return `"${v}"`;
  if (typeof v === 'object') return Array.isArray(v) ? 'an array' : 'an object';
  return `${typeof v} ${String(v)}`;
}

function int(o: Record<string, unknown>, name: string, def: number, min: number, max: number): number {
  const v = o[name];
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`options.${name} must be an integer, received ${received(v)}`);
  if (v < min || v > max) throw new RangeError(`options.${name} must be in ${min}..${max}, received ${v}`);
  return v;
}

function bool(o: Record<string, unknown>, name: string, def: boolean): boolean {
  const v = o[name];
  if (v === undefined) return def;
  if (typeof v !== 'boolean') throw new TypeError(`options.${name} must be a boolean, received ${received(v)}`);
  return v;
}

/** Whether the environment switched the workers (ENGINE_WORKERS=off) or the rings (ENGINE_RINGS=off) off. */
export function envSwitches(): { readonly workers: boolean; readonly rings: boolean } {
  const workers = process.env['ENGINE_WORKERS'] !== 'off';
  return { workers, rings: workers && process.env['ENGINE_RINGS'] !== 'off' };
}

/** Validates the offload options in one place. */
export function resolveOffloadOptions(options: unknown): ResolvedOffloadOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError(`options must be an object, received ${received(options)}`);
  const o = options as Record<string, unknown>;
  const c = o['connector'] as Partial<VppConnector> | undefined;
  if (typeof c !== 'object' || c === null || typeof c.createProducerRing !== 'function' || typeof c.requestBatch !== 'function') {
    throw new TypeError(`options.connector must be a VppConnector, received ${received(c)}`);
  }
  const mod = o['descriptorsModule'];
  if (mod !== undefined && (typeof mod !== 'string' || !mod.startsWith('file:'))) {
    throw new TypeError(`options.descriptorsModule must be a file: URL string, received ${received(mod)}`);
  }
  const env = envSwitches();
  const ringBytes = o['ringBytes'];
  if (ringBytes !== undefined && (typeof ringBytes !== 'number' || !Number.isInteger(ringBytes))) {
    throw new TypeError(`options.ringBytes must be an integer, received ${received(ringBytes)}`);
  }
  const threads = int(o, 'threads', 2, 1, 64);
  return {
    connector: c as VppConnector,
    workers: bool(o, 'workers', env.workers),
    threads,
    producerRings: int(o, 'producerRings', RINGS_PER_THREAD * threads, 1, 256),
    inlineThreshold: int(o, 'inlineThreshold', DEFAULT_INLINE_THRESHOLD, 0, Number.MAX_SAFE_INTEGER),
    rings: bool(o, 'rings', env.rings),
    preEncode: bool(o, 'preEncode', process.env['ENGINE_PREENCODE'] !== 'off'),
    descriptorsModule: mod as string | undefined,
    stallTimeout: int(o, 'stallTimeout', 10_000, 1, 3_600_000),
    ringBytes: ringBytes as number | undefined,
    warm: bool(o, 'warm', true),
    workerNice: int(o, 'workerNice', 10, 0, 19),
    taskTimeout: int(o, 'taskTimeout', 120_000, 0, 86_400_000),
    readBack: bool(o, 'readBack', true),
  };
}
