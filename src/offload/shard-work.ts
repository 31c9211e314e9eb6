// The work one shard needs, as plain functions: run in a worker, or inline on the main thread.
import { Packr } from 'msgpackr';
import type { Value } from '../api/values.js';
import type { BinapiRequest } from '../scheduler/binapi-client.js';
import type { Descriptor } from '../scheduler/descriptor.js';
import type { MetadataAllocator } from '../scheduler/metadata-store.js';
import { deepEqual } from '../scheduler/value-equality.js';
import { ShardView } from './shard-bytes.js';

export const OpCode = Object.freeze({ Delete: 0, Create: 1, Update: 2 } as const);
export type OpCode = (typeof OpCode)[keyof typeof OpCode];

/** One wave's ops of one shard, columnar (packs and unpacks fast). */
export interface OpSegment {
  readonly op: number[];
  readonly keys: string[];
  /** Delete: the applied value; create/update: the normalized desired value. */
  readonly values: Value[];
  /** Update: the normalized applied value; otherwise null. */
  readonly olds: Array<Value | null>;
  /**
   * Where each op's entries sit in the diffed shards, two per op: the desired entry's index and the
   * applied one's (-1 for none). Set by `diffShard`; not packed.
   */
  readonly pos?: number[];
}

/** [key, error code, message] */
export type KeyFailure = readonly [string, string, string];

/**
 * Kind-level dependencies of the built-in descriptors that `retrieveDependencies` does not state
 * (an interface sits in a VRF table; a DNAT maps to interfaces).
 */
export const BUILTIN_KIND_DEPENDENCIES: Readonly<Record<string, readonly string[]>> = Object.freeze({
  'vpp-interface': ['vpp-vrf-table'],
  'vpp-dnat44': ['vpp-interface'],
});

/**
 * Descriptors by key with their dependency rank: rank r depends only on ranks < r. A value that
 * depends on a value of its own kind (an unnumbered interface) goes to a later sub-wave.
 */
export class KindTable {
  readonly #byPrefix: Descriptor[];
  readonly #rank = new Map<Descriptor, number>();
  readonly maxRank: number;
  /** Key prefixes of the thread-bound kinds. */
  readonly #boundPrefixes: readonly string[];

  constructor(descriptors: readonly Descriptor[], kindDependencies: Readonly<Record<string, readonly string[]>> = BUILTIN_KIND_DEPENDENCIES) {
    this.#boundPrefixes = descriptors.filter((d) => d.threadBound === true).map((d) => d.keyPrefix);
    this.#byPrefix = [...descriptors].sort((a, b) => b.keyPrefix.length - a.keyPrefix.length);
    const byName = new Map(descriptors.map((d) => [d.name, d]));
    const rankOf = (d: Descriptor, path: Set<string>): number => {
      const known = this.#rank.get(d);
      if (known !== undefined) return known;
      if (path.has(d.name)) return 0; // a cycle among kinds: keep them in one wave
      path.add(d.name);
      let r = 0;
      for (const n of [...(d.retrieveDependencies ?? []), ...(kindDependencies[d.name] ?? [])]) {
        const dd = byName.get(n);
        if (dd) r = Math.max(r, rankOf(dd, path) + 1);
      }
      path.delete(d.name);
      this.#rank.set(d, r);
      return r;
    };
    let max = 0;
    for (const d of descriptors) max = Math.max(max, rankOf(d, new Set()));
    this.maxRank = max;
  }

  forKey(key: string): Descriptor | undefined {
    for (const d of this.#byPrefix) if (key.startsWith(d.keyPrefix)) return d;
    return undefined;
  }

  rank(d: Descriptor): number {
    return this.#rank.get(d) ?? 0;
  }

  /** Whether some op of the segment is of a thread-bound kind (its requests are built on the main thread). */
  threadBound(seg: Pick<OpSegment, 'keys'>): boolean {
    const prefixes = this.#boundPrefixes;
    if (prefixes.length === 0) return false;
    // One prefix test per key and bound kind (a resync's segment holds 10⁵ routes); the descriptor
    // lookup only for a key that has such a prefix (a longer prefix may belong to another kind).
    for (const key of seg.keys) {
      for (const p of prefixes) if (key.startsWith(p) && this.forKey(key)?.threadBound === true) return true;
    }
    return false;
  }

  get waveCount(): number {
    return 4 * (this.maxRank + 1);
  }

  /** Deletes first, dependents (high rank, late) before their dependencies; then creates/updates by rank. */
  deleteWave(rank: number, late: boolean): number {
    return 2 * (this.maxRank - rank) + (late ? 0 : 1);
  }

  applyWave(rank: number, late: boolean): number {
    return 2 * (this.maxRank + 1) + 2 * rank + (late ? 1 : 0);
  }

  /** Whether a wave holds deletes. */
  isDeleteWave(wave: number): boolean {
    return wave < 2 * (this.maxRank + 1);
  }

  /** The value depends on another value of its own kind. */
  late(d: Descriptor, key: string, value: Value): boolean {
    let deps: readonly string[];
    try {
      deps = d.dependencies(key, value);
    } catch {
      return false;
    }
    for (const k of deps) if (this.forKey(k) === d) return true;
    return false;
  }
}

function newSegment(): OpSegment {
  return { op: [], keys: [], values: [], olds: [], pos: [] };
}

function push(seg: OpSegment, op: OpCode, key: string, value: Value, old: Value | null, d: number, a: number): void {
  seg.op.push(op);
  seg.keys.push(key);
  seg.values.push(value);
  seg.olds.push(old);
  seg.pos?.push(d, a);
}

export interface DiffOutcome {
  /** Indexed by wave; undefined where the shard has nothing to do. */
  readonly waves: Array<OpSegment | undefined>;
  readonly failures: KeyFailure[];
  readonly compared: number;
}

function failure(key: string, err: unknown, fallbackCode: string): KeyFailure {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : fallbackCode;
  return [key, code, typeof e?.message === 'string' ? e.message : String(err)];
}

/**
 * Merges the sorted keys of desired and applied: creates what is only desired, deletes what is
 * only applied, updates (or re-creates) what differs. Entries whose value bytes are equal are
 * skipped without decoding anything; desired values are validated only when they differ from the
 * applied ones.
 */
export function diffShard(desired: ShardView, applied: ShardView, kinds: KindTable): DiffOutcome {
  const waves: Array<OpSegment | undefined> = new Array<OpSegment | undefined>(kinds.waveCount);
  const failures: KeyFailure[] = [];
  const seg = (w: number): OpSegment => (waves[w] ??= newSegment());
  const dn = desired.length;
  const an = applied.length;
  let i = 0;
  let j = 0;
  let compared = 0;
  while (i < dn || j < an) {
    compared++;
    const order = i >= dn ? 1 : j >= an ? -1 : ShardView.compareKeys(desired, i, applied, j);
    const di = i;
    const aj = j;
    if (order < 0) {
      const key = desired.key(i);
      const v = validDesired(kinds, key, desired.value(i++), failures);
      if (!v) continue;
      push(seg(kinds.applyWave(kinds.rank(v.d), kinds.late(v.d, key, v.norm))), OpCode.Create, key, v.norm, null, di, -1);
    } else if (order > 0) {
      const key = applied.key(j);
      const d = kinds.forKey(key);
      if (!d) {
        j++;
        continue; // never applied by us
      }
      const old = validOr(d, key, applied.value(j++));
      push(seg(kinds.deleteWave(kinds.rank(d), kinds.late(d, key, old))), OpCode.Delete, key, old, null, -1, aj);
    } else {
      if (ShardView.sameValue(desired, i, applied, j)) {
        i++;
        j++;
        continue;
      }
      const key = desired.key(i);
      const want = desired.value(i++);
      const had = applied.value(j++);
      if (deepEqual(want, had)) continue;
      const v = validDesired(kinds, key, want, failures);
      if (!v) continue;
      const { d, norm } = v;
      const old = validOr(d, key, had);
      if (d.equivalent ? d.equivalent(key, old, norm) : deepEqual(old, norm)) continue;
      const rank = kinds.rank(d);
      const late = kinds.late(d, key, norm);
      if (!d.update || (d.needsRecreate?.(key, old, norm) ?? false)) {
        push(seg(kinds.deleteWave(rank, kinds.late(d, key, old))), OpCode.Delete, key, old, null, -1, aj);
        push(seg(kinds.applyWave(rank, late)), OpCode.Create, key, norm, null, di, -1);
      } else {
        push(seg(kinds.applyWave(rank, late)), OpCode.Update, key, norm, old, di, aj);
      }
    }
  }
  return { waves, failures, compared };
}

/** A desired value's descriptor and normalized form, or null with the key's failure recorded. */
function validDesired(kinds: KindTable, key: string, want: Value, failures: KeyFailure[]): { d: Descriptor; norm: Value } | null {
  const d = kinds.forKey(key);
  if (!d) {
    failures.push([key, 'ERR_UNIMPLEMENTED_KEY', `${key}: no descriptor handles this key`]);
    return null;
  }
  try {
    return { d, norm: d.validate(key, want) };
  } catch (err) {
    failures.push(failure(key, err, 'ERR_INVALID_VALUE'));
    return null;
  }
}

/** Applied values were valid when applied; normalizing again keeps descriptors on their own form. */
function validOr(d: Descriptor, key: string, v: Value): Value {
  try {
    return d.validate(key, v);
  } catch {
    return v;
  }
}

/** Where encoded requests go: a ring (worker) or a batch for the connector (inline). */
export interface RequestSink {
  send(req: BinapiRequest): void;
}

export const Stage = Object.freeze({ Main: 0, Configure: 1 } as const);
export type Stage = (typeof Stage)[keyof typeof Stage];

export interface EncodeOutcome {
  /** Op index of every request sent, in send order. */
  readonly frameOp: Int32Array;
  readonly frames: number;
  /** [op index, reply field] of creates whose first reply carries the key's metadata. */
  readonly captures: Array<readonly [number, string]>;
  /** [key, metadata] known up front (allocated ids). */
  readonly metadata: Array<readonly [string, number]>;
  /** [op index, code, message] of ops whose requests could not be built. */
  readonly failures: Array<readonly [number, string, string]>;
  /** Some create has configure requests: run this segment again in the Configure stage. */
  readonly needsConfigure: boolean;
}

/** Builds each op's requests (descriptors) and hands them to `sink` in op order. */
export function encodeSegment(seg: OpSegment, stage: Stage, kinds: KindTable, md: MetadataAllocator, sink: RequestSink): EncodeOutcome {
  let frameOp = new Int32Array(Math.max(16, seg.keys.length));
  let frames = 0;
  const captures: Array<readonly [number, string]> = [];
  const metadata: Array<readonly [string, number]> = [];
  const failures: Array<readonly [number, string, string]> = [];
  let needsConfigure = false;
  for (let i = 0; i < seg.keys.length; i++) {
    const key = seg.keys[i] as string;
    const op = seg.op[i] as OpCode;
    const d = kinds.forKey(key);
    if (!d) {
      failures.push([i, 'ERR_UNIMPLEMENTED_KEY', `${key}: no descriptor handles this key`]);
      continue;
    }
    let reqs: readonly BinapiRequest[];
    try {
      if (stage === Stage.Configure) {
        if (op !== OpCode.Create || !d.configure) continue;
        reqs = d.configure(key, seg.values[i] as Value, md);
      } else if (op === OpCode.Delete) {
        reqs = d.delete(key, seg.values[i] as Value, md);
      } else if (op === OpCode.Update) {
        reqs = (d.update as NonNullable<Descriptor['update']>)(key, seg.olds[i] as Value, seg.values[i] as Value, md);
      } else {
        const p = d.create(key, seg.values[i] as Value, md);
        if (p.metadata !== undefined) metadata.push([key, p.metadata]);
        if (p.capture !== undefined && p.requests.length > 0) captures.push([frames, p.capture]);
        if (d.configure) needsConfigure = true;
        reqs = p.requests;
      }
    } catch (err) {
      const f = failure(key, err, 'ERR_DESCRIPTOR');
      failures.push([i, f[1], f[2]]);
      continue;
    }
    for (const r of reqs) {
      if (frames === frameOp.length) {
        const grown = new Int32Array(frameOp.length * 2);
        grown.set(frameOp);
        frameOp = grown;
      }
      frameOp[frames++] = i;
      sink.send(r);
    }
  }
  // captures hold frame indices; the caller maps them to ops through frameOp.
  return { frameOp: frameOp.subarray(0, frames), frames, captures, metadata, failures, needsConfigure };
}

const segmentPackr = new Packr({ useRecords: true, moreTypes: false });

export function packSegment(seg: OpSegment): Uint8Array {
  return segmentPackr.pack({ op: seg.op, keys: seg.keys, values: seg.values, olds: seg.olds });
}

/**
 * The ops `diffShard` planned, rebuilt from their positions in the same two shards: keys and the
 * values normalized as the diff normalized them (they validated then; validation is pure).
 */
export function segmentAt(desired: ShardView, applied: ShardView, ops: Uint8Array, pos: Int32Array, kinds: KindTable): OpSegment {
  const seg = newSegment();
  for (let k = 0; k < ops.length; k++) {
    const op = ops[k] as OpCode;
    const d = pos[2 * k] as number;
    const a = pos[2 * k + 1] as number;
    const key = d >= 0 ? desired.key(d) : applied.key(a);
    const desc = kinds.forKey(key);
    const norm = (v: Value): Value => (desc ? validOr(desc, key, v) : v);
    const value = op === OpCode.Delete ? norm(applied.value(a)) : norm(desired.value(d));
    push(seg, op, key, value, op === OpCode.Update ? norm(applied.value(a)) : null, d, a);
  }
  return seg;
}

/** Only the keys and op codes of `segmentAt` (what the main thread needs to report per key). */
export function keysAt(desired: ShardView, applied: ShardView, ops: Uint8Array, pos: Int32Array): OpSegment {
  const keys: string[] = [];
  for (let k = 0; k < ops.length; k++) {
    const d = pos[2 * k] as number;
    keys.push(d >= 0 ? desired.key(d) : applied.key(pos[2 * k + 1] as number));
  }
  return { op: Array.from(ops), keys, values: [], olds: [] };
}

export function unpackSegment(bytes: Uint8Array): OpSegment {
  return new Packr({ useRecords: true, moreTypes: false }).unpack(bytes) as OpSegment;
}

/** The ids one task may hand out, for every prefix: `[base, base + size)`; tasks' ranges never overlap. */
export interface AllocRange {
  readonly base: number;
  readonly size: number;
}

/** A metadata store for one task: known entries, and ids allocated from a range of its own. */
export class TaskMetadata implements MetadataAllocator {
  readonly #byKey: Map<string, number>;
  readonly #next = new Map<string, number>();
  readonly #range: AllocRange;
  /** The highest id handed out so far, -1 for none (the pool's next ranges start above it). */
  highest = -1;

  constructor(entries: ReadonlyArray<readonly [string, number]>, range: AllocRange) {
    this.#byKey = new Map(entries);
    this.#range = range;
  }

  get(key: string): number | undefined {
    return this.#byKey.get(key);
  }

  keyOf(keyPrefix: string, index: number): string | undefined {
    for (const [k, v] of this.#byKey) if (v === index && k.startsWith(keyPrefix)) return k;
    return undefined;
  }

  /** Throws (the key's create fails) rather than hand out an id of another task's range. */
  allocate(keyPrefix: string): number {
    const { base, size } = this.#range;
    const n = this.#next.get(keyPrefix) ?? base;
    if (n >= base + size) throw new RangeError(`${keyPrefix}: more than ${size} ids allocated by one task`);
    this.#next.set(keyPrefix, n + 1);
    if (n > this.highest) this.highest = n;
    return n;
  }

  set(key: string, v: number): void {
    this.#byKey.set(key, v);
  }
}
