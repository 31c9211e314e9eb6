// What crosses between the pool and `workers/offload-task.ts`: bytes and numbers only.
import type { EncodeOutcome } from './shard-work.js';

export interface DiffTask {
  readonly kind: 'diff';
  readonly descriptorsModule: string | undefined;
  /** Shard bytes (SharedArrayBuffer-backed: nothing is copied). */
  readonly desired: Uint8Array;
  readonly applied: Uint8Array;
}

export interface DiffTaskResult {
  /** Per wave: the packed OpSegment (SharedArrayBuffer-backed) or null. */
  readonly waves: Array<Uint8Array | null>;
  readonly counts: number[];
  readonly failures: Array<readonly [string, string, string]>;
  readonly compared: number;
}

export interface EncodeTask {
  readonly kind: 'encode';
  readonly descriptorsModule: string | undefined;
  readonly segment: Uint8Array;
  readonly stage: 0 | 1;
  readonly metadata: ReadonlyArray<readonly [string, number]>;
  readonly allocBase: number;
  /** Absent: return the requests packed instead of writing them (the postMessage path). */
  readonly ring?: { readonly ring: SharedArrayBuffer; readonly doorbell: SharedArrayBuffer; readonly channel: number; readonly sequence: number };
  readonly stallTimeout: number;
}

/** What encodeSegment reports, plus the requests when there was no ring to write them into. */
export interface EncodeTaskResult extends EncodeOutcome {
  /** Without a ring: the requests, packed. */
  readonly requests: Uint8Array | null;
}

export type OffloadTask = DiffTask | EncodeTask;

/** Given to every pool thread when it starts (piscina's `workerData`). */
export interface OffloadWorkerData {
  /** Nice increment for this thread alone (0: the process's priority). */
  readonly nice: number;
}
