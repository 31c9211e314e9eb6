// The seam between the scheduler and a worker pool that builds, encodes and sends a wave's requests.
import type { Value } from '../api/values.js';
import type { PlannedOpKind } from './planner.js';

/** One op of a wave handed to a pool; no op of a wave needs another op of the same wave. */
export interface PoolOp {
  readonly op: PlannedOpKind;
  readonly key: string;
  /** Create/update: the normalized desired value; delete: the applied value. */
  readonly value: Value;
  /** Update: the applied value before. */
  readonly old?: Value;
}

export interface PoolWaveResult {
  /** Per op, in the order given: null = applied, else its typed error. */
  readonly errors: ReadonlyArray<Error | null>;
  /** Metadata the wave's creates captured from their replies (or allocated). */
  readonly metadata: ReadonlyArray<readonly [string, number]>;
}

/** What the scheduler needs from a worker pool (`OffloadPool` implements it). */
export interface OpPool {
  /** False: workers are switched off, every plan runs inline. */
  readonly workers: boolean;
  /** A plan with fewer ops the pool can take than this runs inline. */
  readonly inlineThreshold: number;
  /** Name of the descriptor the pool's workers would use for `key` (they load their own copy). */
  descriptorName(key: string): string | undefined;
  /**
   * Builds, encodes and sends the requests of independent ops in worker threads and maps the
   * replies back. `metadata`: what the ops' descriptors may read (their dependencies' metadata);
   * `idsAbove`: ids the ops' creates allocate must be above it (ids already in use on the dataplane).
   */
  executeWave(ops: readonly PoolOp[], metadata: ReadonlyArray<readonly [string, number]>, idsAbove?: number): Promise<PoolWaveResult>;
}
