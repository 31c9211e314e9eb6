// A key-value state cut into shards of bytes in SharedArrayBuffers (importable from workers).
import type { Value } from '../api/values.js';
import { ShardView, checkShardHeader, writeShard } from './shard-bytes.js';
import { isWellFormedKey } from '../scheduler/errors.js';

/** One decoded shard: keys sorted ascending, values at the same index. */
export interface ShardData {
  readonly keys: readonly string[];
  readonly values: readonly Value[];
}

type Entry = readonly [string, Value];

const EMPTY: ShardData = Object.freeze({ keys: [], values: [] });

/** FNV-1a over the key's UTF-16 units: cheap, stable across threads and runs. */
export function shardOf(key: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % shards;
}

/** Keys are stored as UTF-8: one with a lone surrogate would be read back as another (U+FFFD). */
function checkKey(key: unknown): void {
  if (typeof key !== 'string') throw new TypeError(`entries: keys must be strings, received ${typeof key}`);
  if (!isWellFormedKey(key)) throw new TypeError(`entries: key ${JSON.stringify(key)} holds a lone surrogate`);
}

/** Copies bytes into shared memory, so handing them to a worker copies nothing. */
export function toShared(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(new SharedArrayBuffer(Math.max(1, bytes.length)), 0, bytes.length);
  out.set(bytes);
  return out;
}

/** A shard's bytes (in shared memory) from its keys, sorted ascending, and their values. */
export function encodeShard(data: ShardData): Uint8Array {
  return writeShard(data.keys, data.values);
}

/** Every entry of a shard, decoded (O(shard): the diff reads shards through a ShardView instead). */
export function decodeShard(bytes: Uint8Array): ShardData {
  if (bytes.length === 0) return EMPTY;
  const view = new ShardView(bytes);
  const keys: string[] = new Array<string>(view.length);
  const values: Value[] = new Array<Value>(view.length);
  for (let i = 0; i < view.length; i++) {
    keys[i] = view.key(i);
    values[i] = view.value(i);
  }
  return { keys, values };
}

/**
 * Desired or applied state as `shardCount` msgpack shards, keys hashed to shards with `shardOf`
 * (so shard i of two snapshots with the same count covers the same keys).
 */
export class StateSnapshot {
  readonly shards: readonly Uint8Array[];
  readonly size: number;

  constructor(shards: readonly Uint8Array[], size: number) {
    if (!Array.isArray(shards) || shards.length === 0 || !shards.every((s) => s instanceof Uint8Array)) {
      throw new TypeError(`shards: expected a non-empty array of Uint8Array, received ${Array.isArray(shards) ? `an array of ${shards.length}` : typeof shards}`);
    }
    if (!Number.isInteger(size) || size < 0) throw new RangeError(`size: expected an integer >= 0, received ${String(size)}`);
    for (const s of shards) checkShardHeader(s);
    this.shards = shards;
    this.size = size;
  }

  get shardCount(): number {
    return this.shards.length;
  }

  /** Builds a snapshot from entries (O(state): meant for producers, tests and benchmarks). */
  static fromEntries(entries: Iterable<readonly [string, Value]>, shardCount: number): StateSnapshot {
    if (!Number.isInteger(shardCount) || shardCount < 1 || shardCount > 4096) {
      throw new RangeError(`shardCount: expected an integer in 1..4096, received ${String(shardCount)}`);
    }
    const buckets: Entry[][] = Array.from({ length: shardCount }, () => []);
    let size = 0;
    for (const e of entries) {
      const key = e[0];
      checkKey(key);
      (buckets[shardOf(key, shardCount)] as Entry[]).push(e);
      size++;
    }
    const shards = buckets.map((b) => {
      b.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
      // A key twice lands in one bucket, next to itself once sorted (no set of every key needed).
      for (let i = 1; i < b.length; i++) {
        const key = (b[i] as Entry)[0];
        if (key === (b[i - 1] as Entry)[0]) throw new TypeError(`entries: duplicate key ${key}`);
      }
      return encodeShard({ keys: b.map((x) => x[0]), values: b.map((x) => x[1]) });
    });
    return new StateSnapshot(shards, size);
  }

  static empty(shardCount: number): StateSnapshot {
    return StateSnapshot.fromEntries([], shardCount);
  }

  /** One key's value (a binary search in its shard). */
  get(key: string): Value | undefined {
    const bytes = this.shards[shardOf(key, this.shards.length)] as Uint8Array;
    if (bytes.length === 0) return undefined;
    const view = new ShardView(bytes);
    const at = view.lowerBound(key);
    return at < view.length && view.key(at) === key ? view.value(at) : undefined;
  }

  /** This state with `changes` made: each key set to its value, or taken out (undefined). O(shards touched). */
  patched(changes: ReadonlyMap<string, Value | undefined>): StateSnapshot {
    if (changes.size === 0) return this;
    const n = this.shards.length;
    const byShard = new Map<number, Array<readonly [string, Value | undefined]>>();
    for (const change of changes) {
      checkKey(change[0]);
      const s = shardOf(change[0], n);
      let list = byShard.get(s);
      if (!list) byShard.set(s, (list = []));
      list.push(change);
    }
    let size = this.size;
    const shards = this.shards.map((bytes, s) => {
      const list = byShard.get(s);
      if (!list) return bytes;
      const d = decodeShard(bytes);
      const m = new Map<string, Value>();
      for (let i = 0; i < d.keys.length; i++) m.set(d.keys[i] as string, d.values[i] as Value);
      for (const [key, value] of list) {
        const before = m.size;
        if (value === undefined) m.delete(key);
        else m.set(key, value);
        size += m.size - before;
      }
      const keys = [...m.keys()].sort();
      return encodeShard({ keys, values: keys.map((k) => m.get(k) as Value) });
    });
    return new StateSnapshot(shards, size);
  }

  /** Every entry, shard by shard (O(state)). */
  *entries(): IterableIterator<[string, Value]> {
    for (const s of this.shards) {
      const d = decodeShard(s);
      for (let i = 0; i < d.keys.length; i++) yield [d.keys[i] as string, d.values[i] as Value];
    }
  }
}
