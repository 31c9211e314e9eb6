// What crosses between the pool and `workers/offload-task.ts`: bytes and numbers, and the few keys and values per-key outcomes name.
import type { Value } from '../api/values.js';
import type { PreEncoded } from './pre-encoded.js';
import type { AllocRange, EncodeOutcome } from './shard-work.js';

/** Finds what a sync takes off the dataplane in one shard (`scanGone`, answering a `GoneScan`), before any shard is diffed. */
export interface GoneTask {
  readonly kind: 'gone';
  readonly descriptorsModule: string | undefined;
  readonly desired: Uint8Array;
  readonly applied: Uint8Array;
  /** Also list what the sync keeps, with its dependencies (only needed once something goes). */
  readonly kept: boolean;
  /** Keys with metadata before the sync (a desired one that is not applied is an orphan). */
  readonly known: readonly string[];
  /** Desired values refused for a dependency cycle (`findCycles`). */
  readonly cyclic: readonly string[];
}

export interface DiffTask {
  readonly kind: 'diff';
  readonly descriptorsModule: string | undefined;
  /** Shard bytes (SharedArrayBuffer-backed: nothing is copied). */
  readonly desired: Uint8Array;
  readonly applied: Uint8Array;
  /**
   * Encode each wave's requests now, with this metadata (what is known before the sync) and ids
   * allocated from `alloc`: the wave then only copies frames into a ring. Absent: pack the ops for
   * encode tasks.
   */
  readonly preEncode?: { readonly metadata: ReadonlyArray<readonly [string, number]>; readonly alloc: AllocRange; readonly maxPayload: number };
  /** Keys of every shard the sync takes off the dataplane (`allGone`): what depends on them is re-created. */
  readonly gone: readonly string[];
  /** The gone keys that do not come back: what depends on one is held back. */
  readonly deleted: readonly string[];
  /** Keys with metadata before the sync (a desired one that is not applied is an orphan, deleted first). */
  readonly known: readonly string[];
  /** Orphans' values they were made with, where known (their Drop deletes with it). */
  readonly madeWith: ReadonlyArray<readonly [string, Value]>;
  /** Desired values refused for a dependency cycle (`findCycles`). */
  readonly cyclic: readonly string[];
}

export interface DiffTaskResult {
  /** Per wave: the packed OpSegment (SharedArrayBuffer-backed) or null. */
  readonly waves: Array<Uint8Array | null>;
  /** Per wave, with `preEncode`: its frames (then `waves` holds null there) or null. */
  readonly pre: Array<PreEncoded | null>;
  readonly counts: number[];
  /**
   * Per wave: where its ops sit in the shards when its segment could not be packed (a normalized
   * value msgpack cannot carry; `waves` holds null there): its tasks rebuild the ops (`segmentAt`), as for pre-encoded ones. Else null.
   */
  readonly at: Array<Pick<OpsAt, 'ops' | 'pos'> | null>;
  /** Per wave: its segment has ops of a thread-bound kind (packed, not pre-encoded: the main thread encodes it). */
  readonly mainOnly: boolean[];
  /** Per wave: the keys of its creates that follow a delete of the same key (re-creates). */
  readonly recreated: Array<readonly string[]>;
  readonly failures: Array<readonly [string, string, string]>;
  readonly dropped: string[];
  /** See `DiffOutcome.unlinked`. */
  readonly unlinked: ReadonlyArray<readonly [string, Value]>;
  /** See `DiffOutcome.orphans`. */
  readonly orphans: ReadonlyArray<readonly [string, Value]>;
  readonly compared: number;
}

/** A diff's ops by position in its shards (`OpSegment.pos`), rebuilt in the worker. */
export interface OpsAt {
  readonly desired: Uint8Array;
  readonly applied: Uint8Array;
  readonly ops: Uint8Array;
  readonly pos: Int32Array;
}

export interface EncodeTask {
  readonly kind: 'encode';
  readonly descriptorsModule: string | undefined;
  /** The ops: a packed OpSegment, or `at` (empty then). */
  readonly segment: Uint8Array;
  readonly at?: OpsAt;
  readonly stage: 0 | 1;
  readonly metadata: ReadonlyArray<readonly [string, number]>;
  readonly alloc: AllocRange;
  /** Absent: return the requests packed instead of writing them (the postMessage path). */
  readonly ring?: { readonly ring: SharedArrayBuffer; readonly doorbell: SharedArrayBuffer; readonly channel: number; readonly sequence: number };
  /** Keys whose creates are not sent (their re-create's delete failed). */
  readonly skip?: readonly string[];
  readonly stallTimeout: number;
}

/** What encodeSegment reports, plus the requests when there was no ring to write them into. */
export interface EncodeTaskResult extends EncodeOutcome {
  /** Without a ring: the requests, packed. */
  readonly requests: Uint8Array | null;
  /** The highest id the task allocated (sent in requests, so possibly on the dataplane); -1 for none. */
  readonly allocated: number;
}

/** Copies a diff task's pre-encoded frames into a producer ring. */
export interface CopyTask {
  readonly kind: 'copy';
  readonly frames: Pick<PreEncoded, 'bytes' | 'ends' | 'contextAt'>;
  readonly ring: NonNullable<EncodeTask['ring']>;
  readonly stallTimeout: number;
}

export interface CopyTaskResult {
  readonly frames: number;
}

export type OffloadTask = GoneTask | DiffTask | EncodeTask | CopyTask;

/** Given to every pool thread when it starts (piscina's `workerData`). */
export interface OffloadWorkerData {
  /** Nice increment for this thread alone (0: the process's priority). */
  readonly nice: number;
}
