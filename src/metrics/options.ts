import type { MetricsConnectorSource, MetricsControllerSource, MetricsOrchestratorSource } from './sources.js';

export interface EngineMetricsOptions {
  /** Prefix of every metric name. @default 'vpp_engine_' */
  readonly prefix?: string;
  /** Also collect the process default metrics (CPU, memory, event loop lag, GC) into this registry. @default true */
  readonly defaultMetrics?: boolean;
  /** Histogram buckets for handler and event durations, seconds. @default [0.00001 … 10] */
  readonly durationBuckets?: readonly number[];
  /** Histogram buckets for commit latency, seconds. @default [0.00001 … 10] */
  readonly commitBuckets?: readonly number[];
  /** Attached at construction when given (same as calling `attachController`). */
  readonly controller?: MetricsControllerSource;
  /** Attached at construction when given (same as calling `attachConnector`). */
  readonly connector?: MetricsConnectorSource;
  /** Attached at construction when given (same as calling `attachOrchestrator`). */
  readonly orchestrator?: MetricsOrchestratorSource;
}

export interface ResolvedMetricsOptions {
  readonly prefix: string;
  readonly defaultMetrics: boolean;
  readonly durationBuckets: number[];
  readonly commitBuckets: number[];
}

const DEFAULT_BUCKETS = [0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10];

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : `${typeof value} ${String(value)}`;
}

function buckets(name: string, value: readonly number[] | undefined): number[] {
  if (value === undefined) return [...DEFAULT_BUCKETS];
  if (!Array.isArray(value) || value.length === 0) {
    throw new TypeError(`options.${name} must be a non-empty array of numbers, received ${describe(value)}`);
  }
  let prev = 0;
  for (const b of value as unknown[]) {
    if (typeof b !== 'number' || !Number.isFinite(b) || b <= prev) {
      throw new RangeError(`options.${name} must be positive, finite and strictly increasing, received ${JSON.stringify(value)}`);
    }
    prev = b;
  }
  return [...value];
}

/** Validates the metrics options in one place. */
export function resolveMetricsOptions(options: EngineMetricsOptions | undefined): ResolvedMetricsOptions {
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw new TypeError(`options must be an object, received ${describe(options)}`);
  }
  const prefix = options?.prefix ?? 'vpp_engine_';
  if (typeof prefix !== 'string' || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$|^$/.test(prefix)) {
    throw new TypeError(`options.prefix must be a Prometheus metric name prefix ([a-zA-Z_:][a-zA-Z0-9_:]*), received ${describe(prefix)}`);
  }
  const defaultMetrics = options?.defaultMetrics ?? true;
  if (typeof defaultMetrics !== 'boolean') {
    throw new TypeError(`options.defaultMetrics must be a boolean, received ${describe(defaultMetrics)}`);
  }
  return {
    prefix,
    defaultMetrics,
    durationBuckets: buckets('durationBuckets', options?.durationBuckets),
    commitBuckets: buckets('commitBuckets', options?.commitBuckets),
  };
}
