import { Packr } from 'msgpackr';
import { Piscina } from 'piscina';
import type { KeyError } from '../api/errors.js';
import type { Value } from '../api/values.js';
import type { ProducerRing, Reply } from '../connector/index.js';
import { ConnectorClosedError, RingWriter, VppApiError } from '../connector/index.js';
import { VppRetval, retvalOf } from '../binapi/retval.js';
import type { BinapiRequest } from '../scheduler/binapi-client.js';
import { DescriptorError } from '../scheduler/errors.js';
import { YIELD_CHUNK, yieldToLoop } from '../scheduler/loop-yield.js';
import type { OpPool, PoolOp, PoolWaveResult } from '../scheduler/op-pool.js';
import { loadDescriptors } from './descriptors-module.js';
import { OffloadClosedError, OffloadKeyError, WorkerTaskError } from './errors.js';
import { type OffloadOptions, type ResolvedOffloadOptions, resolveOffloadOptions } from './options.js';
import { type PreEncoded, stillValid } from './pre-encoded.js';
import { type ReadBack, readBack } from './read-back.js';
import { type AllocRange, type Gone, type GoneScan, KindTable, NOTHING_GONE, OpCode, type OpSegment, Stage, TaskMetadata, allGone, anyGone, dependenciesOf, diffShard, encodeSegment, findCycles, keysAt, missingOf, ownKindDependencies, packSegment, scanGone, segmentAt, unpackSegment } from './shard-work.js';
import { ShardView, shardEntryCount } from './shard-bytes.js';
import { StateSnapshot, decodeShard, shardOf as shardIndex, toShared } from './state-snapshot.js';
import type { CopyTaskResult, DiffTaskResult, EncodeTask, EncodeTaskResult, OffloadTask, OffloadWorkerData, OpsAt } from './task-protocol.js';

/** What a segment's send reports: its frames and what settling them needs. */
type Outcome = Pick<EncodeTaskResult, 'frameOp' | 'frames' | 'captures' | 'metadata' | 'failures' | 'needsConfigure' | 'allocated'>;

export type SyncMode = 'inline' | 'pool';

export interface SyncOptions {
  /** 'auto' picks by snapshot size against `inlineThreshold`. @default 'auto' */
  readonly mode?: 'auto' | SyncMode;
}

export interface SyncResult {
  readonly mode: SyncMode;
  /** Create, update and delete operations planned. */
  readonly ops: number;
  /** Binary-API requests sent. */
  readonly frames: number;
  /** Keys that failed, each with a typed error (WorkerTaskError, VppApiError, OffloadKeyError...). */
  readonly errors: readonly KeyError[];
  /** The applied state now: the desired one, except failed keys keep what was applied before (or none: docs/hotpath.md). */
  readonly applied: StateSnapshot;
  /**
   * Keys read back from the dataplane because a request of theirs failed (or an earlier read-back
   * did): their applied value is what the dataplane holds (docs/hotpath.md).
   */
  readonly readBack: number;
  /** Milliseconds until every shard's diff was known (the rest of the sync is the waves). */
  readonly diffMs: number;
  /**
   * Segment stages sent: `copied` as the frames their diff task pre-encoded, `encoded` built and
   * encoded during the waves (packed ops, frames that read metadata changed since, configure stages).
   */
  readonly segments: { readonly copied: number; readonly encoded: number };
}

/**
 * One wave's work for one shard: packed in shared memory or encoded already (pool), or as objects
 * (inline).
 */
interface SegmentRef {
  readonly wave: number;
  readonly bytes: Uint8Array | null;
  seg: OpSegment | null;
  /** Frames its diff task encoded (dropped once its Main stage is sent). */
  pre: PreEncoded | null;
  /** Where its ops sit in the shards (their keys; the ops again), and those shards' views on this thread. */
  readonly at: OpsAt | null;
  readonly views: (() => readonly [ShardView, ShardView]) | null;
  /** Its ops (sizes its tasks' id ranges). */
  readonly count: number;
  /** It has ops of a thread-bound kind: encoded and sent from the main thread. */
  readonly mainOnly: boolean;
  /** The keys of its creates that follow a delete of the same key in the sync (their create is not sent if that delete failed). */
  readonly recreated: readonly string[];
}

/**
 * Where one run's encode tasks record what happened: failed keys (first error wins), metadata
 * learnt (captured from replies or allocated), and the metadata the tasks may read.
 */
interface Books {
  readonly failed: Map<string, Error>;
  readonly metadata: Map<string, number>;
  readonly entries: () => ReadonlyArray<readonly [string, number]>;
  /** Keys whose metadata this run set or removed (pre-encoded frames that read one are encoded again). */
  readonly changed: Set<string>;
  /**
   * Failed keys that are off the dataplane all the same: a create failed (after the delete of a
   * re-create), or an invalid value's applied one was deleted with its dependency.
   */
  readonly absent: Set<string>;
  /** Keys whose delete failed: the create of a re-create is not sent (the old value is still there). */
  readonly deleteFailed: Set<string>;
  /** Deletes whose applied value loses a link with a key the sync takes off (`DiffOutcome.unlinked`). */
  readonly unlinked: Map<string, Value>;
  /**
   * Orphans deleted by this sync, with the value they are deleted with: those of desired keys get a
   * Drop (`DiffOutcome.orphans`), the others a Delete. One that fails leaves the object.
   */
  readonly orphans: Map<string, Value>;
  /** Keys whose requests went out and failed: what the dataplane holds for them is read back. */
  readonly uncertain: Set<string>;
  /** A request got no reply (the dataplane stalled, the connector closed): the read-back waits for the next sync. */
  unanswered: boolean;
  /** Updates that failed after their requests went out: some of them may have been applied. */
  readonly partial: Map<string, { readonly ref: SegmentRef; readonly i: number }>;
  /** Keys of a shard whose diff failed (kept as applied) that the dataplane drops with a gone key of another shard, with those keys. */
  readonly atRisk: Map<string, readonly string[]>;
  /** Drops that failed: they count only if a delete they depend on failed too (`#reconcileDrops`). */
  readonly dropFailed: Map<string, { readonly ref: SegmentRef; readonly i: number; readonly error: (key: string) => Error }>;
  /** The stage the run's segments are in: the Main stages of a wave all end before its Configure stages start. */
  stage: Stage;
  /** Creates whose Configure stage failed: what their Main stage created is deleted again (`#undoCreates`). */
  readonly unconfigured: Set<string>;
  /** Segment stages sent as pre-encoded frames, and built and encoded during the waves. */
  readonly segments: { copied: number; encoded: number };
  /** The error of an op whose requests could not be built. */
  keyError(key: string, op: OpCode, code: string, message: string): Error;
  /** A task failed after it may have sent requests with ids of its range: which ids is unknown. */
  idsUnknown: boolean;
}

/** A producer ring lent to one encode task at a time (SPSC: one writer at once). */
interface Lease {
  ring: ProducerRing;
  sequence: number;
  /** Replies counted in arrival order: the sim answers a ring in request order. */
  replies: number;
  /** Frames the running task wrote, once it finished (-1 before). */
  expect: number;
  /** Replies worth keeping (errors, and replies with fields beyond retval), by frame index. */
  readonly kept: Map<number, Reply>;
  wake: (() => void) | null;
  off: () => void;
}

const requestUnpackr = new Packr({ useRecords: true, moreTypes: false });
/**
 * Allocated ids of one task come from their own range, so parallel tasks never collide: at least
 * this many, and at least as many as the task has entries (one id per create per prefix suffices
 * for every built-in descriptor; a task that needs more fails those keys, never reuses an id).
 */
const ALLOC_RANGE = 4096;
const ALLOC_START = 1 << 16;
/** Ids stay below 2²⁴: VPP's bd_id is 24 bits. */
const ALLOC_END = 1 << 24;
/** Ops per encode task of `executeWave`: small enough that every worker gets a share and replies flow early. */
const WAVE_SEGMENT_OPS = 2048;
const OP_CODE: Readonly<Record<PoolOp['op'], OpCode>> = Object.freeze({ delete: OpCode.Delete, create: OpCode.Create, update: OpCode.Update });
const OP_NAME = ['delete', 'create', 'update', 'drop'] as const;
const NO_KEYS: readonly string[] = [];
const NO_CYCLES: ReadonlySet<string> = new Set();

/** Rejects a wave with a malformed op or a key twice; checked in slices (a resync's wave is big). */
async function checkWave(ops: readonly PoolOp[]): Promise<void> {
  const seen = new Set<string>();
  for (let i = 0; i < ops.length; i++) {
    if (i % YIELD_CHUNK === YIELD_CHUNK - 1) await yieldToLoop();
    const o = ops[i];
    if (typeof o !== 'object' || o === null || typeof o.key !== 'string' || !Object.hasOwn(OP_CODE, o.op)) {
      throw new TypeError(`ops: expected { op: 'create' | 'update' | 'delete', key, value }, received ${JSON.stringify(o)}`);
    }
    if (seen.has(o.key)) throw new TypeError(`ops: key ${o.key} appears twice in one wave`);
    seen.add(o.key);
  }
}

function noRingLeft(): ConnectorClosedError {
  return new ConnectorClosedError('no producer ring left: the connector is closed');
}

function keepReply(r: Reply): boolean {
  if (r['retval'] !== 0) return true;
  let n = 0;
  for (const _ in r) if (++n > 3) return true;
  return false;
}

/** The pool's engine (the facade validates). */
class OffloadEngine {
  readonly o: ResolvedOffloadOptions;
  readonly kinds: KindTable;
  readonly #piscina: Piscina | null;
  readonly #free: Lease[] = [];
  /** The largest frame a producer ring takes (they are all the same size). */
  #maxPayload = Infinity;
  readonly #leaseWaiters: Array<{ resolve: (l: Lease) => void; reject: (err: Error) => void }> = [];
  // Rings alive, free or lent: when the last one is retired without a replacement, waiters fail.
  #leases = 0;
  readonly metadata = new Map<string, number>();
  /** Objects a failed undo left on the dataplane, with the value they were made with (`#undoCreates`). */
  readonly #orphans = new Map<string, Value>();
  /** Keys whose read-back failed: read at the start of the next sync. */
  readonly #unsettled = new Set<string>();
  #allocNext = ALLOC_START;
  /**
   * The highest id a run may have put on the dataplane: each run's ranges start above it (and above
   * the metadata it is given), so a run uses up only the ids it sent, not whole ranges.
   */
  #allocHigh = ALLOC_START - 1;
  #tail: Promise<unknown> = Promise.resolve();
  /** Tasks handed to piscina and not settled (at most `threads`, see `#run`), and the tasks waiting for one to settle. */
  #inFlight = 0;
  readonly #slotWaiters: Array<() => void> = [];
  closed = false;
  #closing: Promise<void> | null = null;

  constructor(o: ResolvedOffloadOptions, kinds: KindTable) {
    this.o = o;
    this.kinds = kinds;
    this.#piscina = o.workers
      ? new Piscina({
          filename: new URL('../../workers/offload-entry.cjs', import.meta.url).href,
          minThreads: o.warm ? o.threads : 0,
          maxThreads: o.threads,
          idleTimeout: 60_000,
          workerData: { nice: o.workerNice } satisfies OffloadWorkerData,
        })
      : null;
  }

  async openRings(): Promise<void> {
    if (!this.#piscina || !this.o.rings) return;
    for (let i = 0; i < this.o.producerRings; i++) {
      this.#free.push(await this.#newLease());
      this.#leases++;
    }
  }

  async #newLease(): Promise<Lease> {
    const ring = await this.o.connector.createProducerRing(this.o.ringBytes === undefined ? undefined : { ringBytes: this.o.ringBytes });
    this.#maxPayload = new RingWriter(ring.ring).maxPayloadBytes;
    const lease: Lease = { ring, sequence: 0, replies: 0, expect: -1, kept: new Map(), wake: null, off: () => {} };
    lease.off = ring.onReply((r) => {
      const i = lease.replies++;
      if (keepReply(r)) lease.kept.set(i, r);
      if (lease.expect >= 0 && lease.replies >= lease.expect) lease.wake?.();
    });
    return lease;
  }

  #acquire(): Promise<Lease> {
    const l = this.#free.pop();
    if (l) return Promise.resolve(l);
    if (this.#leases === 0) return Promise.reject(noRingLeft());
    return new Promise((resolve, reject) => this.#leaseWaiters.push({ resolve, reject }));
  }

  #release(l: Lease): void {
    const w = this.#leaseWaiters.shift();
    if (w) w.resolve(l);
    else this.#free.push(l);
  }

  /**
   * Retires a ring whose frames may still be answered (its channel goes with it) and lends a new one
   * in its place, also while closing: close() frees the rings only after the work in flight. With the
   * connector gone there is none to make; when the last ring goes, the segments waiting for one fail.
   */
  async #retire(lease: Lease): Promise<void> {
    lease.off();
    void lease.ring.close().catch(() => {});
    let next: Lease | null = null;
    if (this.o.connector.state !== 'closed') {
      try {
        next = await this.#newLease();
      } catch {
        next = null;
      }
    }
    if (next !== null) return this.#release(next);
    if (--this.#leases > 0) return;
    const err = noRingLeft();
    for (const w of this.#leaseWaiters.splice(0)) w.reject(err);
  }

  sync(desired: StateSnapshot, applied: StateSnapshot, mode: SyncMode): Promise<SyncResult> {
    if (this.closed) return Promise.reject(new OffloadClosedError());
    // Accepted before close(): runs to the end; close() waits for it.
    const run = this.#tail.then(() => this.#sync(desired, applied, mode));
    this.#tail = run.catch(() => {});
    return run;
  }

  async #sync(desired: StateSnapshot, given: StateSnapshot, mode: SyncMode): Promise<SyncResult> {
    const started = performance.now();
    // What an earlier sync could not read back is read first: the diff starts from the truth.
    let readBack = 0;
    let applied = given;
    if (this.o.readBack && this.#unsettled.size > 0) {
      const read = await this.#readBack([...this.#unsettled], desired, given);
      if (read) {
        readBack += read.count;
        applied = given.patched(read.changes);
      }
    }
    const pool = mode === 'pool' && this.#piscina !== null;
    const n = desired.shardCount;
    const failed = new Map<string, Error>();
    const books = newBooks(failed, this.metadata, () => [...this.metadata], (key, _op, code, message) => new OffloadKeyError(code, key, message));
    // Shards whose diff failed: nothing of theirs was sent.
    const failedShards = new Set<number>();
    this.#beginIds(this.metadata);
    const byWave: SegmentRef[][] = Array.from({ length: this.kinds.waveCount }, () => []);
    let ops = 0;
    let frames = 0;

    // Orphans no longer desired are deleted for good; the diffs see the others (they have metadata).
    const strays = this.#strayOrphans(desired);
    // What the sync takes off the dataplane, over every shard: each diff re-creates what depends on it.
    // Keys with metadata before the sync: a desired one that is not applied is an orphan; so is an
    // orphan of a kind without metadata (a route whose update failed half way).
    const known = [...this.metadata.keys()];
    for (const key of strays.madeWith.keys()) if (!this.metadata.has(key)) known.push(key);
    const scanned = await this.#goneKeys(desired, applied, pool, known);
    const unscanned = scanned.unscanned;
    const gone: Gone = {
      gone: strays.keys.length === 0 ? scanned.gone.gone : new Set([...scanned.gone.gone, ...strays.keys]),
      deleted: strays.keys.length === 0 ? scanned.gone.deleted : new Set([...scanned.gone.deleted, ...strays.keys]),
      cyclic: scanned.cyclic,
    };

    // Diff: every shard at once (workers), or one after the other (inline).
    if (pool) {
      // With rings, the diff tasks also encode (with the metadata known now): a wave then copies frames.
      const metadata = this.o.rings && this.o.preEncode ? [...this.metadata] : null;
      const results = await Promise.allSettled(
        desired.shards.map((d, s) =>
          unscanned.has(s)
            ? Promise.reject(unscanned.get(s))
            : (this.#run({
                kind: 'diff',
                descriptorsModule: this.o.descriptorsModule,
                desired: d,
                applied: applied.shards[s] as Uint8Array,
                ...(metadata ? { preEncode: { metadata, alloc: this.#allocRange(shardEntryCount(d) + shardEntryCount(applied.shards[s] as Uint8Array)), maxPayload: this.#maxPayload } } : {}),
                gone: [...gone.gone],
                deleted: [...gone.deleted],
                known,
                madeWith: [...strays.madeWith],
                cyclic: [...scanned.cyclic],
              }) as Promise<DiffTaskResult>),
        ),
      );
      results.forEach((r, s) => {
        if (r.status === 'rejected') {
          failedShards.add(s);
          return this.#failShard(desired, applied, s, r.reason, failed, gone, books);
        }
        for (const [key, code, message] of r.value.failures) failed.set(key, new OffloadKeyError(code, key, message));
        for (const key of r.value.dropped) books.absent.add(key);
        for (const [key, value] of r.value.unlinked) books.unlinked.set(key, value);
        for (const [key, value] of r.value.orphans) books.orphans.set(key, value);
        // Views of this shard, made once if a segment's keys are needed here (a view checks every entry).
        let shardViews: readonly [ShardView, ShardView] | null = null;
        const views = (): readonly [ShardView, ShardView] =>
          (shardViews ??= [new ShardView(desired.shards[s] as Uint8Array), new ShardView(applied.shards[s] as Uint8Array)]);
        for (let w = 0; w < r.value.counts.length; w++) {
          const bytes = r.value.waves[w] ?? null;
          const pre = r.value.pre[w] ?? null;
          const where = pre ?? r.value.at[w] ?? null;
          if (bytes === null && where === null) continue;
          ops += r.value.counts[w] as number;
          const at = where ? { desired: desired.shards[s] as Uint8Array, applied: applied.shards[s] as Uint8Array, ops: where.ops, pos: where.pos } : null;
          const mainOnly = r.value.mainOnly[w] === true;
          // Encoded here from its positions (it could not be packed): its ops with their values.
          const seg = mainOnly && bytes === null && at ? segmentAt(...views(), at.ops, at.pos, this.kinds) : null;
          (byWave[w] as SegmentRef[]).push({
            wave: w,
            bytes,
            seg,
            pre,
            at,
            views: at ? views : null,
            count: r.value.counts[w] as number,
            mainOnly,
            recreated: r.value.recreated[w] ?? NO_KEYS,
          });
        }
      });
    } else {
      const knownSet = new Set(known);
      for (let s = 0; s < n; s++) {
        const out = diffShard(new ShardView(desired.shards[s] as Uint8Array), new ShardView(applied.shards[s] as Uint8Array), this.kinds, gone, knownSet, strays.madeWith);
        for (const [key, code, message] of out.failures) failed.set(key, new OffloadKeyError(code, key, message));
        for (const key of out.dropped) books.absent.add(key);
        for (const [key, value] of out.unlinked) books.unlinked.set(key, value);
        for (const [key, value] of out.orphans) books.orphans.set(key, value);
        out.waves.forEach((seg, w) => {
          if (!seg) return;
          ops += seg.keys.length;
          (byWave[w] as SegmentRef[]).push({ wave: w, bytes: null, seg, pre: null, at: null, views: null, count: seg.keys.length, mainOnly: false, recreated: seg.recreated ?? NO_KEYS });
        });
      }
    }

    strays.keys.forEach((key, i) => {
      const d = this.kinds.forKey(key);
      const value = strays.values[i] as Value;
      books.orphans.set(key, value);
      const w = d ? this.kinds.deleteWave(this.kinds.rank(d), this.kinds.late(d, key, value)) : 0;
      const seg: OpSegment = { op: [], keys: [], values: [], olds: [] };
      pushDelete(seg, key, value);
      (byWave[w] as SegmentRef[]).push({ wave: w, bytes: null, seg, pre: null, at: null, views: null, count: 1, mainOnly: true, recreated: NO_KEYS });
      ops++;
    });
    const diffMs = performance.now() - started;

    // Waves in order; the segments of one wave are independent and run in parallel.
    let creating = false;
    for (const wave of byWave) {
      if (wave.length === 0) continue;
      if (!creating && !this.kinds.isDeleteWave((wave[0] as SegmentRef).wave)) {
        creating = true;
        this.#reconcileDrops(books);
      }
      let configure: SegmentRef[] = [];
      const done = await Promise.all(wave.map((ref) => this.#encodeAndSend(ref, Stage.Main, pool, books)));
      done.forEach((r, i) => {
        frames += r.frames;
        if (r.needsConfigure) configure.push(wave[i] as SegmentRef);
      });
      if (configure.length > 0) {
        books.stage = Stage.Configure;
        const more = await Promise.all(configure.map((ref) => this.#encodeAndSend(ref, Stage.Configure, pool, books)));
        books.stage = Stage.Main;
        for (const r of more) frames += r.frames;
        frames += await this.#undoCreates(configure, pool, books);
        configure = [];
      }
    }

    // A sync of deletes only: its failed Drops are weighed here.
    if (!creating) this.#reconcileDrops(books);
    this.#keepOrphans(books);
    this.#settleAtRisk(books, (k) => !failedShards.has(shardIndex(k, n)));
    this.#endIds(books);
    let now = failed.size === 0 ? desired : patchApplied(desired, applied, failed, books);
    // What the sync could not settle by its replies is read back: applied := what the dataplane holds.
    const unsure = new Set([...books.uncertain, ...books.atRisk.keys(), ...this.#orphans.keys()]);
    // A dataplane that did not answer would not answer the dumps either (each would wait for its
    // reply timeout): the next sync reads them first.
    if (this.o.readBack && books.unanswered) for (const key of unsure) this.#unsettled.add(key);
    else if (this.o.readBack && unsure.size > 0) {
      const read = await this.#readBack([...unsure], desired, applied);
      if (read) {
        readBack += read.count;
        now = now.patched(read.changes);
      }
    }
    const errors: KeyError[] = [];
    for (const [key, error] of failed) errors.push({ key, error });
    return {
      mode: pool ? 'pool' : 'inline',
      ops,
      frames,
      errors,
      applied: now,
      readBack,
      diffMs,
      segments: { ...books.segments },
    };
  }

  /** `checked`: the ops' validation, still running; the wave holds its place in the queue meanwhile. */
  executeWave(ops: readonly PoolOp[], metadata: ReadonlyArray<readonly [string, number]>, idsAbove: number, checked: Promise<void>): Promise<PoolWaveResult> {
    if (this.closed) return Promise.reject(new OffloadClosedError());
    const run = this.#tail.then(() => checked).then(() => this.#executeWave(ops, metadata, idsAbove));
    this.#tail = run.catch(() => {});
    return run;
  }

  async #executeWave(ops: readonly PoolOp[], metadata: ReadonlyArray<readonly [string, number]>, idsAbove: number): Promise<PoolWaveResult> {
    const pool = this.#piscina !== null;
    const n = ops.length;
    const parts = pool ? Math.max(this.o.threads, Math.ceil(n / WAVE_SEGMENT_OPS)) : 1;
    const size = Math.max(1, Math.ceil(n / parts));
    const learnt = new Map<string, number>();
    const books = newBooks(
      new Map(),
      learnt,
      () => (learnt.size === 0 ? metadata : [...metadata, ...learnt]),
      // The same error the inline executor gives a descriptor that throws a plain Error.
      (key, op, code, message) =>
        code === 'ERR_DESCRIPTOR' ? new DescriptorError(this.kinds.forKey(key)?.name ?? key, `${OP_NAME[op]} ${key}: ${message}`) : new OffloadKeyError(code, key, message),
    );
    this.#beginIds(metadata, idsAbove);
    const refs: SegmentRef[] = [];
    const running: Array<Promise<{ frames: number; needsConfigure: boolean }>> = [];
    for (let s = 0; s < n; s += size) {
      let seg: OpSegment = { op: [], keys: [], values: [], olds: [] };
      for (let i = s; i < n && i < s + size; i++) {
        const o = ops[i] as PoolOp;
        seg.op.push(OP_CODE[o.op]);
        seg.keys.push(o.key);
        seg.values.push(o.value);
        seg.olds.push(o.old ?? null);
      }
      // Only msgpack bytes in shared memory cross to the worker (no structured clone of values).
      const mainOnly = pool && this.kinds.threadBound(seg);
      let bytes: Uint8Array | null = null;
      if (pool && !mainOnly) ({ seg, bytes } = packable(seg, books));
      // One wave holds a key once: no create follows a delete of its key here.
      const ref: SegmentRef = { wave: this.kinds.waveCount, bytes, seg, pre: null, at: null, views: null, count: seg.keys.length, mainOnly, recreated: NO_KEYS };
      refs.push(ref);
      // A worker encodes this segment while the main thread packs the next one (after a yield).
      const sent = this.#encodeAndSend(ref, Stage.Main, pool, books);
      sent.catch(() => {}); // seen by Promise.all below; not unhandled while we yield
      running.push(sent);
      if (pool && s + size < n) await new Promise((resolve) => setImmediate(resolve));
    }
    const done = await Promise.all(running);
    const configure = refs.filter((_, i) => done[i]?.needsConfigure === true);
    if (configure.length > 0) await Promise.all(configure.map((ref) => this.#encodeAndSend(ref, Stage.Configure, pool, books)));
    this.#endIds(books);
    return { errors: ops.map((o) => books.failed.get(o.key) ?? null), metadata: [...learnt] };
  }

  /**
   * The keys of every shard the sync deletes or re-creates that others may depend on (`scanGone`,
   * one task per shard, then `allGone`). A shard whose scan failed is not diffed (its keys fail and
   * keep what was applied, so it takes nothing off the dataplane).
   */
  async #goneKeys(desired: StateSnapshot, applied: StateSnapshot, pool: boolean, known: readonly string[]): Promise<{ gone: Gone; cyclic: ReadonlySet<string>; unscanned: Map<number, unknown> }> {
    const unscanned = new Map<number, unknown>();
    // No kind others depend on: nothing can go, and no cycle can close.
    if (this.kinds.dependencyPrefixes.length === 0) return { gone: NOTHING_GONE, cyclic: NO_CYCLES, unscanned };
    const knownSet = new Set(known);
    const scan = async (kept: boolean, cyclic: ReadonlySet<string>): Promise<GoneScan[]> => {
      if (!pool) return desired.shards.map((d, s) => scanGone(new ShardView(d), new ShardView(applied.shards[s] as Uint8Array), this.kinds, kept, knownSet, cyclic));
      const results = await Promise.allSettled(
        desired.shards.map((d, s) =>
          unscanned.has(s)
            ? Promise.reject(unscanned.get(s))
            : (this.#run({ kind: 'gone', descriptorsModule: this.o.descriptorsModule, desired: d, applied: applied.shards[s] as Uint8Array, kept, known, cyclic: [...cyclic] }) as Promise<GoneScan>),
        ),
      );
      const scans: GoneScan[] = [];
      results.forEach((r, s) => (r.status === 'fulfilled' ? scans.push(r.value) : unscanned.set(s, r.reason)));
      return scans;
    };
    // What stays is read (every value of those kinds decoded) only once something goes, or a value
    // is refused for a cycle (the scans then see it as invalid).
    const first = await scan(false, NO_CYCLES);
    const cyclic = findCycles(
      first.flatMap((s) => s.late),
      (key) => ownKindDependencies(this.kinds, key, desired.get(key)),
    );
    // A key of a shard whose scan failed is not known to be missing (that shard keeps what was applied).
    const missing = missingOf(first, cyclic, (key) => !unscanned.has(shardIndex(key, desired.shardCount)));
    if (!anyGone(first) && cyclic.size === 0 && missing.size === 0) return { gone: NOTHING_GONE, cyclic, unscanned };
    return { gone: allGone(await scan(true, cyclic), missing), cyclic, unscanned };
  }

  /**
   * Reads `keys` back (read-back.ts) and takes what the dataplane holds as the truth: metadata, and
   * the changes to the applied state (value, or undefined: not there); `count`: keys read. An orphan stays one
   * (the next sync deletes it and makes its key again: a failed update may have left half of it),
   * now with the value it has on the dataplane, or is forgotten if it is not there. Null when a
   * dump failed: the keys are read at the start of the next sync.
   */
  async #readBack(keys: readonly string[], desired: StateSnapshot, applied: StateSnapshot): Promise<{ changes: Map<string, Value | undefined>; count: number } | null> {
    let read: ReadBack;
    try {
      read = await readBack(keys, this.kinds, {
        dump: (name, fields) => this.o.connector.dump(name, fields),
        // What was made (an MTU set once stays on the dataplane), else what was asked for.
        hint: (key) => this.#orphans.get(key) ?? applied.get(key) ?? desired.get(key),
        reserve: (id) => {
          if (id > this.#allocHigh && id < ALLOC_END) this.#allocHigh = id;
        },
      });
    } catch {
      for (const key of keys) this.#unsettled.add(key);
      return null;
    }
    const changes = new Map<string, Value | undefined>();
    for (const key of keys) this.#unsettled.delete(key); // read now, or of a kind that cannot be read
    for (const [key, it] of read) {
      if (it === null) this.metadata.delete(key);
      else if (it.metadata !== undefined) this.metadata.set(key, it.metadata);
      if (!this.#orphans.has(key)) changes.set(key, it?.value);
      else if (it === null) this.#orphans.delete(key);
      else this.#orphans.set(key, it.value);
    }
    return { changes, count: read.size };
  }

  /**
   * Takes the orphans off the books: those whose key is desired are left to the diffs (a desired key
   * with metadata and no applied value gets a Drop before its create), with the value they were made
   * with (`madeWith`); the others are returned, to be deleted for good with that value.
   */
  #strayOrphans(desired: StateSnapshot): { keys: string[]; values: Value[]; madeWith: Map<string, Value> } {
    const keys: string[] = [];
    const values: Value[] = [];
    const madeWith = new Map<string, Value>();
    if (this.#orphans.size === 0) return { keys, values, madeWith };
    const views = new Map<number, ShardView>();
    for (const [key, value] of this.#orphans) {
      const s = shardIndex(key, desired.shardCount);
      let view = views.get(s);
      if (!view) views.set(s, (view = new ShardView(desired.shards[s] as Uint8Array)));
      const at = view.lowerBound(key);
      if (at < view.length && view.key(at) === key) {
        madeWith.set(key, value);
        continue;
      }
      keys.push(key);
      values.push(value);
    }
    this.#orphans.clear();
    return { keys, values, madeWith };
  }

  /**
   * Objects the sync leaves behind keys that are not applied: orphans the next sync deletes first
   * (and creates again if the key is desired). A failed delete of a value whose dependency the sync
   * took off leaves the object without that link (a bridge domain without the interface re-created
   * under it): its applied value is no longer what the dataplane holds, so the key is not applied.
   */
  #keepOrphans(b: Books): void {
    for (const [key, value] of b.unlinked) {
      if (!b.deleteFailed.delete(key)) continue;
      b.absent.add(key);
      this.#orphans.set(key, value);
    }
    // An orphan whose delete failed stays one (deleted for good by the next sync if no longer desired).
    for (const [key, value] of b.orphans) if (b.deleteFailed.has(key)) this.#orphans.set(key, value);
    // An update that failed half way left neither value: the next sync makes the object again
    // (before, the key kept its old value, and every later update met what the half had done).
    for (const [key, { ref, i }] of b.partial) {
      b.absent.add(key);
      this.#orphans.set(key, this.#opsOf(ref).values[i] as Value);
    }
  }

  /**
   * Deletes what the Main stage of creates made when their Configure stage failed (an interface
   * whose VRF table is missing): the key is reported failed and not applied, so the dataplane must
   * not keep it half configured (a later sync would create it again beside it). A value of the same
   * wave linked to one of them (an interface made unnumbered to it: both are late, so one Configure
   * stage set both up) lost that link and fails with it: one just created goes too (and what is
   * linked to it, and so on; later waves cannot build what needs a deleted key); one updated in
   * place stays, with what was made on it, as an orphan the next sync makes again. Built and sent
   * from this thread: they are few.
   */
  async #undoCreates(refs: readonly SegmentRef[], pool: boolean, b: Books): Promise<number> {
    if (b.unconfigured.size === 0) return 0;
    const segs = refs.map((ref) => this.#opsOf(ref));
    let undo: OpSegment = { op: [], keys: [], values: [], olds: [] };
    for (const seg of segs) {
      for (let i = 0; i < seg.keys.length; i++) {
        const key = seg.keys[i] as string;
        if (seg.op[i] === OpCode.Create && b.unconfigured.delete(key)) pushDelete(undo, key, seg.values[i] as Value);
      }
    }
    let frames = 0;
    const undone = new Set<string>();
    while (undo.keys.length > 0) {
      const ref: SegmentRef = { wave: this.kinds.deleteWave(this.kinds.maxRank, true), bytes: null, seg: undo, pre: null, at: null, views: null, count: undo.keys.length, mainOnly: true, recreated: NO_KEYS };
      frames += (await this.#encodeAndSend(ref, Stage.Main, pool, b)).frames;
      // An undo that failed leaves the object, and its metadata naming it: an orphan the next sync
      // deletes first (before creating its key, or for good if it is no longer desired). The key is
      // not applied either way.
      const sent = undo;
      sent.keys.forEach((key, i) => {
        undone.add(key);
        if (b.deleteFailed.delete(key)) this.#orphans.set(key, sent.values[i] as Value);
        else if (b.metadata.delete(key)) b.changed.add(key);
      });
      undo = this.#unlinkFrom(segs, undone, b);
    }
    return frames;
  }

  /**
   * Creates and updates of `segs` that did not fail and depend on an `undone` key fail; the creates
   * are returned, to be deleted, the updated values are orphans.
   */
  #unlinkFrom(segs: readonly OpSegment[], undone: ReadonlySet<string>, b: Books): OpSegment {
    const out: OpSegment = { op: [], keys: [], values: [], olds: [] };
    for (const seg of segs) {
      for (let i = 0; i < seg.keys.length; i++) {
        const key = seg.keys[i] as string;
        const op = seg.op[i];
        if ((op !== OpCode.Create && op !== OpCode.Update) || b.failed.has(key) || undone.has(key)) continue;
        const d = this.kinds.forKey(key);
        const lost = d ? dependenciesOf(d, key, seg.values[i] as Value).find((k) => undone.has(k)) : undefined;
        if (lost === undefined) continue;
        b.failed.set(key, new OffloadKeyError('ERR_DEPENDENCY_DELETED', key, `${key}: not applied: ${lost}, which it is linked to, was deleted again in the same sync (its configure stage failed)`));
        b.absent.add(key);
        if (op === OpCode.Create) pushDelete(out, key, seg.values[i] as Value);
        else this.#orphans.set(key, seg.values[i] as Value);
      }
    }
    return out;
  }

  /**
   * Before the first create: a Drop that failed while a delete its value depends on failed too left
   * the value in place (the dependency stayed, and the value with it): it counts as a failed delete.
   */
  #reconcileDrops(b: Books): void {
    if (b.dropFailed.size > 0 && b.deleteFailed.size > 0) {
      const opsOf = new Map<SegmentRef, OpSegment>();
      for (const [key, { ref, i, error }] of b.dropFailed) {
        let ops = opsOf.get(ref);
        if (ops === undefined) opsOf.set(ref, (ops = this.#opsOf(ref)));
        const d = this.kinds.forKey(key);
        if (!d || !dependenciesOf(d, key, ops.values[i] as Value).some((k) => b.deleteFailed.has(k))) continue;
        if (!b.failed.has(key)) b.failed.set(key, error(key));
        b.deleteFailed.add(key);
      }
    }
  }

  /** A segment's ops with their values (a pre-encoded one's are read from its shards again). */
  #opsOf(ref: SegmentRef): OpSegment {
    if (ref.seg !== null && ref.seg.values.length === ref.seg.keys.length) return ref.seg;
    if (ref.bytes !== null) return unpackSegment(ref.bytes);
    if (ref.at !== null && ref.views !== null) {
      const [desired, applied] = ref.views();
      return segmentAt(desired, applied, ref.at.ops, ref.at.pos, this.kinds);
    }
    return this.#segment(ref);
  }

  /** A diff task failed: every key of the shard fails with WorkerTaskError (failure path: decodes on main). */
  #failShard(desired: StateSnapshot, applied: StateSnapshot, s: number, reason: unknown, failed: Map<string, Error>, gone: Gone, b: Books): void {
    const msg = reason instanceof Error ? reason.message : String(reason);
    for (const snap of [desired, applied]) {
      const shard = decodeShard(snap.shards[s] as Uint8Array);
      shard.keys.forEach((key, i) => {
        if (!failed.has(key)) failed.set(key, new WorkerTaskError(key, msg, { cause: reason }));
        // An applied value the dataplane drops with a key another shard deletes is at risk.
        if (snap !== applied || gone.gone.size === 0) return;
        const d = this.kinds.forKey(key);
        if (d?.droppedWithDependencies !== true) return;
        const deps = dependenciesOf(d, key, shard.values[i] as Value).filter((k) => gone.gone.has(k));
        if (deps.length > 0) b.atRisk.set(key, deps);
      });
    }
  }

  /**
   * A kept value at risk is off the dataplane if a delete it depends on went through: one sent (its
   * shard was diffed) that did not fail.
   */
  #settleAtRisk(b: Books, diffed: (key: string) => boolean): void {
    const through = (k: string): boolean => diffed(k) && !b.deleteFailed.has(k) && !b.dropFailed.has(k);
    for (const [key, deps] of b.atRisk) if (deps.some(through)) b.absent.add(key);
  }

  /** The segment's ops; of a pre-encoded one only the keys and op codes (what reporting per key needs). */
  #segment(ref: SegmentRef): OpSegment {
    if (ref.seg === null && ref.at !== null && ref.views !== null) {
      const [desired, applied] = ref.views();
      ref.seg = keysAt(desired, applied, ref.at.ops, ref.at.pos);
    }
    return (ref.seg ??= unpackSegment(ref.bytes as Uint8Array));
  }

  /** Starts a run's ranges above every id it may meet: what earlier runs sent, `known` metadata and `floor`. */
  #beginIds(known: Iterable<readonly [string, number]>, floor = 0): void {
    let high = Math.max(this.#allocHigh, floor);
    for (const [, v] of known) if (v > high) high = v;
    this.#allocNext = high + 1 < ALLOC_END ? high + 1 : ALLOC_START;
  }

  /** After a run: a failed task may have sent any id of the ranges handed out, so they all count as used. */
  #endIds(b: Books): void {
    if (b.idsUnknown && this.#allocNext - 1 > this.#allocHigh) this.#allocHigh = this.#allocNext - 1;
  }

  /** A fresh id range for a task of `entries` entries (ids start over below 2²⁴ after a very long run). */
  #allocRange(entries: number): AllocRange {
    const size = Math.max(ALLOC_RANGE, entries);
    if (this.#allocNext + size > ALLOC_END) this.#allocNext = ALLOC_START;
    const base = this.#allocNext;
    this.#allocNext += size;
    return { base, size };
  }

  async #encodeAndSend(ref: SegmentRef, stage: Stage, pool: boolean, b: Books): Promise<{ frames: number; needsConfigure: boolean }> {
    const skip = this.#skipped(ref, b);
    // A thread-bound kind's requests come from the main thread's descriptors, whatever the mode.
    if (!pool || ref.mainOnly) {
      b.segments.encoded++;
      const md = new TaskMetadata(b.entries(), this.#allocRange(ref.count));
      const requests: BinapiRequest[] = [];
      const enc = encodeSegment(this.#segment(ref), stage, this.kinds, md, { sendAll: (rs) => void requests.push(...rs) }, skip.length > 0 ? new Set(skip) : undefined);
      const replies = enc.frames > 0 ? await this.#requestBatch(ref, requests, b) : [];
      if (replies === null) return { frames: 0, needsConfigure: false };
      this.#settle(ref, stage, { ...enc, allocated: md.highest }, b, replies, null);
      return { frames: enc.frames, needsConfigure: enc.needsConfigure };
    }
    if (!this.o.rings) {
      b.segments.encoded++;
      let r: EncodeTaskResult;
      try {
        r = (await this.#run(this.#encodeTask(ref, stage, undefined, b, skip))) as EncodeTaskResult;
      } catch (err) {
        this.#failSegment(ref, err, b);
        return { frames: 0, needsConfigure: false };
      }
      const requests = r.requests ? (requestUnpackr.unpack(r.requests) as BinapiRequest[]) : [];
      const replies = requests.length > 0 ? await this.#requestBatch(ref, requests, b) : [];
      if (replies === null) return { frames: 0, needsConfigure: false };
      this.#settle(ref, stage, r, b, replies, null);
      return { frames: r.frames, needsConfigure: r.needsConfigure };
    }
    // Frames encoded before the sync go out as they are, unless metadata they read has changed since
    // (or some of them are creates not to send).
    const pre = stage === Stage.Main && ref.pre !== null && skip.length === 0 && stillValid(ref.pre, b.changed) ? ref.pre : null;
    // Either way the frames are not needed after this stage: let them go.
    if (stage === Stage.Main) ref.pre = null;
    if (pre === null) {
      b.segments.encoded++;
      return this.#sendOnRing(ref, stage, b, async (ring) => (await this.#run(this.#encodeTask(ref, stage, ring, b, skip))) as EncodeTaskResult);
    }
    b.segments.copied++;
    if (pre.frames === 0) {
      // Nothing to send (every op failed to build): settle what pre-encoding found.
      this.#settle(ref, stage, pre, b, [], null);
      return { frames: 0, needsConfigure: pre.needsConfigure };
    }
    // Only the frames cross to the copying worker.
    const frames = { bytes: pre.bytes, ends: pre.ends, contextAt: pre.contextAt };
    return this.#sendOnRing(ref, stage, b, async (ring) => {
      const copied = (await this.#run({ kind: 'copy', frames, ring, stallTimeout: this.o.stallTimeout })) as CopyTaskResult;
      if (copied.frames !== pre.frames) throw new Error(`copied ${copied.frames} of ${pre.frames} pre-encoded frames`);
      return pre;
    });
  }

  /** Lends a ring to `send` (a worker task writing one segment's frames) and settles the replies. */
  async #sendOnRing(ref: SegmentRef, stage: Stage, b: Books, send: (ring: NonNullable<EncodeTask['ring']>) => Promise<Outcome>): Promise<{ frames: number; needsConfigure: boolean }> {
    let lease: Lease;
    try {
      lease = await this.#acquire();
    } catch (err) {
      // Not sent at all: the keys keep what was applied before.
      this.#failKeys(ref, b, (key) => new OffloadKeyError('ERR_CONNECTOR_CLOSED', key, `${key}: not sent: ${(err as Error).message}`));
      return { frames: 0, needsConfigure: false };
    }
    lease.replies = 0;
    lease.expect = -1;
    lease.kept.clear();
    let r: Outcome;
    try {
      r = await send({ ring: lease.ring.ring, doorbell: lease.ring.doorbell, channel: lease.ring.channel, sequence: lease.sequence });
    } catch (err) {
      // Frames it published may still be answered: that ring is retired with its channel, and the
      // shard's keys are reported failed (their dataplane state is unknown until a resync).
      this.#failSegment(ref, err, b);
      await this.#retire(lease);
      return { frames: 0, needsConfigure: false };
    }
    lease.sequence = (lease.sequence + r.frames) & 0xffff;
    const stalled = lease.replies < r.frames && !(await this.#replies(lease, r.frames));
    lease.wake = null;
    lease.expect = -1;
    const kept = new Map(lease.kept);
    if (stalled) {
      // No reply for stallTimeout (sim stalled, connector closed): ops without a reply fail; the
      // ring is retired with its channel so a late reply can never be counted for another task.
      const got = lease.replies;
      const seg = this.#segment(ref);
      for (let f = got; f < r.frames; f++) {
        failSent(b, ref, seg, r.frameOp[f] as number, (key) => new OffloadKeyError('ERR_REPLY_TIMEOUT', key, `${key}: no reply from the dataplane within ${this.o.stallTimeout} ms`));
      }
      await this.#retire(lease);
    } else {
      this.#release(lease);
    }
    this.#settle(ref, stage, r, b, null, kept);
    return { frames: r.frames, needsConfigure: r.needsConfigure };
  }

  /** Resolves true once `frames` replies are in, false when none came for stallTimeout ms. */
  #replies(lease: Lease, frames: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      let seen = lease.replies;
      const timer = setInterval(() => {
        if (lease.replies === seen) {
          clearInterval(timer);
          resolve(false);
        }
        seen = lease.replies;
      }, this.o.stallTimeout);
      lease.wake = () => {
        clearInterval(timer);
        resolve(true);
      };
      lease.expect = frames;
      if (lease.replies >= frames) lease.wake();
    });
  }

  /** The keys of the segment's creates not to send: their re-create's delete failed (the old value is still there). */
  #skipped(ref: SegmentRef, b: Books): readonly string[] {
    if (b.deleteFailed.size === 0 || ref.recreated.length === 0) return NO_KEYS;
    const skip = ref.recreated.filter((key) => b.deleteFailed.has(key));
    return skip.length > 0 ? skip : NO_KEYS;
  }

  #encodeTask(ref: SegmentRef, stage: Stage, ring: EncodeTask['ring'], b: Books, skip: readonly string[]): OffloadTask {
    const segment = ref.bytes ?? new Uint8Array(0);
    return {
      kind: 'encode',
      descriptorsModule: this.o.descriptorsModule,
      segment,
      ...(ref.at && !ref.bytes ? { at: ref.at } : {}),
      stage,
      metadata: b.entries(),
      alloc: this.#allocRange(ref.count),
      ...(ring ? { ring } : {}),
      ...(skip.length > 0 ? { skip } : {}),
      stallTimeout: this.o.stallTimeout,
    };
  }

  /**
   * Sends a segment's requests through the connector; null when the whole batch failed (the
   * connector closed): its keys then fail with that error's code, as keys whose ring was lost do.
   */
  async #requestBatch(ref: SegmentRef, requests: readonly BinapiRequest[], b: Books): Promise<Array<Reply | Error> | null> {
    try {
      return await this.o.connector.requestBatch(requests);
    } catch (err) {
      b.idsUnknown = true;
      b.unanswered = true;
      const e = err instanceof Error ? err : new Error(String(err));
      const code = (e as { code?: unknown }).code;
      this.#failKeys(ref, b, (key) => new OffloadKeyError(typeof code === 'string' ? code : 'ERR_CONNECTOR_CLOSED', key, `${key}: ${e.message}`));
      return null;
    }
  }

  #failSegment(ref: SegmentRef, err: unknown, b: Books): void {
    b.idsUnknown = true;
    const msg = err instanceof Error ? err.message : String(err);
    // The task may have sent any of its requests.
    this.#failKeys(ref, b, (key) => new WorkerTaskError(key, msg, { cause: err }), true);
  }

  /** Fails every key of the segment with `error(key)`; first error wins (a key's earlier stage may have failed already). */
  #failKeys(ref: SegmentRef, b: Books, error: (key: string) => Error, maySent = false): void {
    const seg = this.#segment(ref);
    for (let i = 0; i < seg.keys.length; i++) (maySent ? failSent : failOp)(b, ref, seg, i, error);
  }

  /** Records what one encode + send did: failed ops, captured and allocated metadata. */
  #settle(
    ref: SegmentRef,
    stage: Stage,
    enc: Pick<EncodeTaskResult, 'frameOp' | 'frames' | 'captures' | 'metadata' | 'failures' | 'allocated'>,
    b: Books,
    replies: ReadonlyArray<Reply | Error> | null,
    kept: ReadonlyMap<number, Reply> | null,
  ): void {
    if (enc.allocated > this.#allocHigh) this.#allocHigh = enc.allocated;
    const isDeleteWave = this.kinds.isDeleteWave(ref.wave);
    let hasErrors = enc.failures.length > 0;
    if (replies) {
      for (let f = 0; f < replies.length && !hasErrors; f++) if (replies[f] instanceof Error) hasErrors = true;
    } else if (kept) {
      for (const r of kept.values()) if (r['retval'] !== 0) hasErrors = true;
    }
    const needKeys = hasErrors || enc.captures.length > 0 || enc.metadata.length > 0 || (isDeleteWave && b.metadata.size > 0);
    if (!needKeys) return;
    const seg = this.#segment(ref);
    // First error wins: a Configure stage of a create whose Main stage failed fails too, for that reason.
    for (const [i, code, message] of enc.failures) failOp(b, ref, seg, i, (key) => b.keyError(key, seg.op[i] as OpCode, code, message));
    const errorAt = (f: number): Error | undefined => {
      if (replies) {
        const r = replies[f];
        return r instanceof Error ? r : undefined;
      }
      const r = kept?.get(f);
      if (!r || r['retval'] === 0) return undefined;
      const name = String(r['_msgname']).replace(/_reply$/, '');
      return new VppApiError(name, r['retval'] as number);
    };
    const opFailed = new Set<number>();
    for (let f = 0; f < enc.frames; f++) {
      const e = errorAt(f);
      if (!e) continue;
      const i = enc.frameOp[f] as number;
      if (opFailed.has(i)) continue;
      opFailed.add(i);
      failSent(b, ref, seg, i, () => e);
    }
    const learn = (key: string, v: number): void => {
      b.metadata.set(key, v);
      b.changed.add(key);
    };
    // Ids allocated for a key that failed were never taken on the dataplane.
    for (const [key, v] of enc.metadata) if (!b.failed.has(key)) learn(key, v);
    for (const [f, field] of enc.captures) {
      const i = enc.frameOp[f] as number;
      if (opFailed.has(i)) continue;
      const r = replies ? replies[f] : kept?.get(f);
      const v = r && !(r instanceof Error) ? r[field] : undefined;
      if (typeof v === 'number') learn(seg.keys[i] as string, v);
    }
    if (isDeleteWave && stage === Stage.Main && b.metadata.size > 0) {
      for (let i = 0; i < seg.keys.length; i++) {
        const key = seg.keys[i] as string;
        // A delete answered without error took the object: its metadata goes, also for a key that
        // failed in the diff (held back, invalid) and is off the dataplane now. A key that failed
        // otherwise (its delete timed out or could not be built) keeps the metadata naming its object.
        const op = seg.op[i];
        if ((op === OpCode.Delete || op === OpCode.Drop) && !opFailed.has(i) && (!b.failed.has(key) || b.absent.has(key)) && b.metadata.delete(key)) b.changed.add(key);
      }
    }
  }

  async #run(task: OffloadTask): Promise<unknown> {
    const piscina = this.#piscina as Piscina;
    // At most one task per thread in piscina: each starts as it is handed over, so its taskTimeout
    // counts its running time, not a wait in piscina's queue behind the other shards' tasks.
    if (this.#inFlight < this.o.threads) this.#inFlight++;
    else await new Promise<void>((resolve) => this.#slotWaiters.push(resolve));
    const limit = this.o.taskTimeout;
    try {
      if (limit === 0) return await piscina.run(task);
      // Past the limit piscina terminates the task's thread (and starts another) and rejects.
      return await piscina.run(task, { signal: AbortSignal.timeout(limit) });
    } catch (err) {
      if (err instanceof Error && err.name === 'AbortError') throw new Error(`worker task ran longer than taskTimeout (${limit} ms)`, { cause: err });
      throw err;
    } finally {
      // The slot passes to the next task waiting, in order; none: it is free.
      const next = this.#slotWaiters.shift();
      if (next) next();
      else this.#inFlight--;
    }
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.closed = true;
      await this.#tail;
      if (this.#piscina) await this.#piscina.destroy();
      for (const l of this.#free) {
        l.off();
        await l.ring.close();
      }
      this.#free.length = 0;
    })();
    return this.#closing;
  }
}

/** A run's books, empty; `keyError` names the error of an op whose requests could not be built. */
/**
 * The segment packed for a worker. A value msgpack cannot carry (a user descriptor's validate may
 * pass one through) fails its own op, before anything of the wave is sent; the others go.
 */
function packable(seg: OpSegment, b: Books): { seg: OpSegment; bytes: Uint8Array } {
  try {
    return { seg, bytes: toShared(packSegment(seg)) };
  } catch {
    const kept: OpSegment = { op: [], keys: [], values: [], olds: [] };
    for (let i = 0; i < seg.keys.length; i++) {
      const one: OpSegment = { op: [seg.op[i] as OpCode], keys: [seg.keys[i] as string], values: [seg.values[i] as Value], olds: [seg.olds[i] ?? null] };
      try {
        packSegment(one);
      } catch (err) {
        const key = one.keys[0] as string;
        b.failed.set(key, b.keyError(key, one.op[0] as OpCode, 'ERR_INVALID_VALUE', `${key}: the value cannot cross to a worker thread: ${err instanceof Error ? err.message : String(err)}`));
        if (one.op[0] === OpCode.Create) b.absent.add(key);
        if (one.op[0] === OpCode.Delete) b.deleteFailed.add(key);
        continue;
      }
      for (const f of ['op', 'keys', 'values', 'olds'] as const) (kept[f] as unknown[]).push(one[f][0]);
    }
    return { seg: kept, bytes: toShared(packSegment(kept)) };
  }
}

function newBooks(failed: Map<string, Error>, metadata: Map<string, number>, entries: Books['entries'], keyError: Books['keyError']): Books {
  return {
    failed,
    metadata,
    entries,
    changed: new Set(),
    absent: new Set(),
    deleteFailed: new Set(),
    unlinked: new Map(),
    orphans: new Map(),
    uncertain: new Set(),
    unanswered: false,
    partial: new Map(),
    dropFailed: new Map(),
    atRisk: new Map(),
    stage: Stage.Main,
    unconfigured: new Set(),
    segments: { copied: 0, encoded: 0 },
    keyError,
    idsUnknown: false,
  };
}

/**
 * Records op i's key as failed with `error(key)` unless it failed before (first error wins). A
 * failed create leaves its key off the dataplane; after a failed delete no create is sent.
 */
function failOp(b: Books, ref: SegmentRef, seg: OpSegment, i: number, error: (key: string) => Error): void {
  const key = seg.keys[i] as string;
  if ((seg.op[i] === OpCode.Drop || seg.op[i] === OpCode.Delete) && b.orphans.has(key)) return failOrphanDelete(b, key, error(key));
  // The dataplane drops it with its dependency all the same, unless that delete fails too (`#reconcileDrops`).
  if (seg.op[i] === OpCode.Drop) return void b.dropFailed.set(key, { ref, i, error });
  const first = !b.failed.has(key);
  if (first) b.failed.set(key, error(key));
  if (seg.op[i] === OpCode.Delete) b.deleteFailed.add(key);
  if (seg.op[i] !== OpCode.Create) return;
  b.absent.add(key);
  // A configure stage that is the create's first failure follows a main stage that made the object.
  if (first && b.stage === Stage.Configure) b.unconfigured.add(key);
}

/** failOp for an op whose requests went out (a reply said no, or none came): an update may be half done. */
function failSent(b: Books, ref: SegmentRef, seg: OpSegment, i: number, error: (key: string) => Error): void {
  const key = seg.keys[i] as string;
  const err = error(key);
  failOp(b, ref, seg, i, () => err);
  b.uncertain.add(key);
  if ((err as { code?: unknown }).code === 'ERR_REPLY_TIMEOUT') b.unanswered = true;
  if (seg.op[i] === OpCode.Update) b.partial.set(seg.keys[i] as string, { ref, i });
}

function pushDelete(seg: OpSegment, key: string, value: Value): void {
  seg.op.push(OpCode.Delete);
  seg.keys.push(key);
  seg.values.push(value);
  seg.olds.push(null);
}

/** Retvals by which a delete says its object is not there (any more). */
const GONE: ReadonlySet<number> = new Set([VppRetval.INVALID_SW_IF_INDEX, VppRetval.NO_SUCH_ENTRY]);

/**
 * An orphan's delete failed. If the dataplane says the object is not there (a delete of several
 * requests whose last went through before), it is gone all the same: its metadata goes, a create
 * follows. Else it may still be there: the key fails, its create is not sent, and it stays an
 * orphan for the next sync (before, the create went on, and a create undone again took the
 * metadata naming the old object with it: the object was never deleted).
 */
function failOrphanDelete(b: Books, key: string, err: Error): void {
  const retval = retvalOf(err);
  if (retval !== undefined && GONE.has(retval)) {
    if (b.metadata.delete(key)) b.changed.add(key);
    return;
  }
  if (!b.failed.has(key)) b.failed.set(key, err);
  b.deleteFailed.add(key);
}

/** The applied state after a sync with failures: desired, but failed keys keep their old value (or none, if `absent` and not deleteFailed). */
function patchApplied(desired: StateSnapshot, applied: StateSnapshot, failed: ReadonlyMap<string, Error>, b: Pick<Books, 'absent' | 'deleteFailed'>): StateSnapshot {
  const changes = new Map<string, Value | undefined>();
  // Off the dataplane unless its delete failed (a held-back re-create whose delete failed stays).
  for (const key of failed.keys()) changes.set(key, b.absent.has(key) && !b.deleteFailed.has(key) ? undefined : applied.get(key));
  return desired.patched(changes);
}


/**
 * Syncs a desired state snapshot against an applied one: diff, plan and encode binary-API
 * requests in a piscina pool that writes straight into producer rings of the connector (or inline,
 * below `inlineThreshold` keys or with workers off). Waves keep dependency order: deletes
 * dependents-first, then creates/updates dependencies-first; shards of one wave run in parallel.
 */
export class OffloadPool implements OpPool {
  readonly #e: OffloadEngine;

  private constructor(e: OffloadEngine) {
    this.#e = e;
  }

  static async start(options: OffloadOptions): Promise<OffloadPool> {
    const o = resolveOffloadOptions(options);
    const kinds = new KindTable(await loadDescriptors(o.descriptorsModule));
    const e = new OffloadEngine(o, kinds);
    try {
      await e.openRings();
    } catch (err) {
      await e.close();
      throw err;
    }
    return new OffloadPool(e);
  }

  /** Whether workers are used at all, and whether they write into rings. */
  get workers(): boolean {
    return this.#e.o.workers;
  }

  get rings(): boolean {
    return this.#e.o.workers && this.#e.o.rings;
  }

  get inlineThreshold(): number {
    return this.#e.o.inlineThreshold;
  }

  /** The mode `sync` picks for a snapshot of `keys` keys. */
  modeFor(keys: number): SyncMode {
    return this.#e.o.workers && keys >= this.#e.o.inlineThreshold ? 'pool' : 'inline';
  }

  /** Metadata (sw_if_index, bd_id...) of the keys applied through this pool. */
  get metadata(): ReadonlyMap<string, number> {
    return this.#e.metadata;
  }

  /** Brings the dataplane from `applied` to `desired` (both with the same shard count); one sync at a time. */
  sync(desired: StateSnapshot, applied: StateSnapshot, options: SyncOptions = {}): Promise<SyncResult> {
    if (!(desired instanceof StateSnapshot)) return Promise.reject(new TypeError(`desired: expected a StateSnapshot, received ${typeof desired}`));
    if (!(applied instanceof StateSnapshot)) return Promise.reject(new TypeError(`applied: expected a StateSnapshot, received ${typeof applied}`));
    if (desired.shardCount !== applied.shardCount) {
      return Promise.reject(new RangeError(`applied: expected ${desired.shardCount} shards like desired, received ${applied.shardCount}`));
    }
    if (typeof options !== 'object' || options === null) return Promise.reject(new TypeError(`options: expected an object, received ${String(options)}`));
    const m = options.mode ?? 'auto';
    if (m !== 'auto' && m !== 'inline' && m !== 'pool') return Promise.reject(new TypeError(`options.mode: expected 'auto', 'inline' or 'pool', received ${String(m)}`));
    const mode = m === 'auto' ? this.modeFor(Math.max(desired.size, applied.size)) : m === 'pool' && !this.#e.o.workers ? 'inline' : m;
    return this.#e.sync(desired, applied, mode);
  }

  descriptorName(key: string): string | undefined {
    return this.#e.kinds.forKey(key)?.name;
  }

  /**
   * Builds, encodes and sends the requests of independent ops (one scheduler wave) in the workers
   * (inline with workers off), and maps each op's replies back: null = applied, or its typed error
   * (VppApiError, DescriptorError, WorkerTaskError when its worker threw or died, ERR_REPLY_TIMEOUT).
   * Queued behind the sync or wave in flight. Ids the creates allocate are above `idsAbove` (the
   * caller's ids in use: a pool started over a filled dataplane does not know them).
   */
  executeWave(ops: readonly PoolOp[], metadata: ReadonlyArray<readonly [string, number]> = [], idsAbove = 0): Promise<PoolWaveResult> {
    if (!Array.isArray(ops)) return Promise.reject(new TypeError(`ops: expected an array of ops, received ${typeof ops}`));
    if (!Array.isArray(metadata)) return Promise.reject(new TypeError(`metadata: expected an array of [key, number], received ${typeof metadata}`));
    if (!Number.isSafeInteger(idsAbove) || idsAbove < 0) return Promise.reject(new TypeError(`idsAbove: expected a non-negative integer, received ${String(idsAbove)}`));
    if (ops.length === 0) return Promise.resolve({ errors: [], metadata: [] });
    // Accepted now (a close() right after waits for it), run once the ops are checked.
    const checked = checkWave(ops);
    checked.catch(() => {}); // seen by the wave once its turn comes; not unhandled while it waits
    return this.#e.executeWave(ops, metadata, idsAbove, checked);
  }

  /** Waits for the sync in flight, then stops the workers and retires the rings; twice is harmless. */
  close(): Promise<void> {
    return this.#e.close();
  }
}
