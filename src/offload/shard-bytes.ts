// The byte layout of one state shard, and a view that reads entries without decoding the rest
// (importable from workers).
import type { Value } from '../api/values.js';
import { ShardFormatError } from './errors.js';
import { ByteBuffer, plainPackr } from './plain-msgpack.js';

/**
 * A shard is one buffer:
 *   u32 MAGIC, u32 count, u32 key-bytes length, u32 value-bytes length   (little-endian)
 *   u32 keyEnd[count], u32 valueEnd[count]                               (offsets past each entry)
 *   key bytes (UTF-8, keys sorted ascending), value bytes (msgpack, one plain encoding per value)
 * Each value is encoded on its own, without records, so its bytes depend on the value alone: two
 * entries with equal bytes hold equal values and a diff skips them without decoding anything.
 * Every key and value starts 4-byte aligned (the value area too; the bytes skipped are zero), so
 * two shards' entries compare a 32-bit word at a time: entry i starts at align4(end[i - 1]).
 */
const MAGIC = 0x32535356; // 'VSS2' (VSS1 had no alignment)
const HEADER = 16;

function align4(n: number): number {
  return (n + 3) & ~3;
}

const decoder = new TextDecoder();


/**
 * Builds a shard's bytes from keys in ascending order and their values: keys and values are
 * written straight into two growing buffers (no allocation per entry), then copied once into
 * shared memory.
 */
export function writeShard(keys: readonly string[], values: readonly Value[]): Uint8Array {
  const n = keys.length;
  const ends = new Uint32Array(2 * n);
  const k = new ByteBuffer(48 * n);
  const v = new ByteBuffer(64 * n);
  for (let i = 0; i < n; i++) {
    k.align4();
    k.utf8(keys[i] as string);
    ends[i] = k.pos;
    v.align4();
    v.value(values[i]);
    ends[n + i] = v.pos;
  }
  const kLen = k.pos;
  const vLen = v.pos;
  const tables = HEADER + 8 * n;
  const valuesAt = tables + align4(kLen);
  const out = new Uint8Array(new SharedArrayBuffer(valuesAt + vLen));
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, n, true);
  view.setUint32(8, kLen, true);
  view.setUint32(12, vLen, true);
  // The offset tables are read as a Uint32Array (platform order, little-endian where Node runs).
  new Uint32Array(out.buffer, HEADER, 2 * n).set(ends);
  out.set(k.bytes.subarray(0, kLen), tables);
  out.set(v.bytes.subarray(0, vLen), valuesAt);
  return out;
}

/** Entries of a shard, from its header (O(1); the empty shard has none). */
export function shardEntryCount(bytes: Uint8Array): number {
  return bytes.length < HEADER ? 0 : new DataView(bytes.buffer, bytes.byteOffset, HEADER).getUint32(4, true);
}

/** Checks a shard's header (O(1)): what a snapshot checks when it is built from bytes. */
export function checkShardHeader(bytes: Uint8Array): void {
  if (bytes.length === 0) return;
  if (bytes.length < HEADER) throw new ShardFormatError(`shard: ${bytes.length} bytes is shorter than its header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  if (view.getUint32(0, true) !== MAGIC) throw new ShardFormatError('shard: not a state shard (bad magic)');
  const n = view.getUint32(4, true);
  if (HEADER + 8 * n + align4(view.getUint32(8, true)) + view.getUint32(12, true) !== bytes.length) {
    throw new ShardFormatError(`shard: sizes in the header (${n} entries) do not add up to ${bytes.length} bytes`);
  }
}

/**
 * Reads a shard's entries in place: keys compare and values compare by bytes; only what a caller
 * asks for is decoded.
 */
export class ShardView {
  readonly length: number;
  readonly #bytes: Uint8Array;
  readonly #keyEnd: Uint32Array;
  readonly #valueEnd: Uint32Array;
  readonly #keys: number;
  readonly #values: number;
  /** The same bytes as 32-bit words (entries start aligned): compared a word at a time. */
  readonly #words: Int32Array;

  constructor(bytes: Uint8Array) {
    if (bytes.length === 0) {
      // The empty shard (also what an empty snapshot's shards may be).
      this.length = 0;
      this.#bytes = bytes;
      this.#keyEnd = this.#valueEnd = new Uint32Array(0);
      this.#keys = this.#values = 0;
      this.#words = new Int32Array(0);
      return;
    }
    checkShardHeader(bytes);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    const n = view.getUint32(4, true);
    const kLen = view.getUint32(8, true);
    const vLen = view.getUint32(12, true);
    const tables = HEADER + 8 * n;
    // Offset tables need 4-byte alignment; a shard handed in at an odd offset is copied once.
    const aligned = (bytes.byteOffset & 3) === 0 ? bytes : bytes.slice();
    const ends = new Uint32Array(aligned.buffer, aligned.byteOffset + HEADER, 2 * n);
    for (let i = 0; i < n; i++) {
      const ok = (ends[i] as number) <= kLen && (ends[n + i] as number) <= vLen && (i === 0 || ((ends[i] as number) >= align4(ends[i - 1] as number) && (ends[n + i] as number) >= align4(ends[n + i - 1] as number)));
      if (!ok) throw new ShardFormatError(`shard: entry ${i} has offsets outside its area`);
    }
    if (n > 0 && ((ends[n - 1] as number) !== kLen || (ends[2 * n - 1] as number) !== vLen)) throw new ShardFormatError('shard: entries do not fill their areas');
    this.length = n;
    this.#bytes = aligned;
    this.#keyEnd = ends.subarray(0, n);
    this.#valueEnd = ends.subarray(n);
    this.#keys = tables;
    this.#values = tables + align4(kLen);
    this.#words = new Int32Array(aligned.buffer, aligned.byteOffset, aligned.length >> 2);
  }

  #keyStart(i: number): number {
    return this.#keys + (i === 0 ? 0 : align4(this.#keyEnd[i - 1] as number));
  }

  #valueStart(i: number): number {
    return this.#values + (i === 0 ? 0 : align4(this.#valueEnd[i - 1] as number));
  }

  key(i: number): string {
    return decoder.decode(this.#bytes.subarray(this.#keyStart(i), this.#keys + (this.#keyEnd[i] as number)));
  }

  value(i: number): Value {
    const bytes = this.#bytes.subarray(this.#valueStart(i), this.#values + (this.#valueEnd[i] as number));
    try {
      return plainPackr.unpack(bytes) as Value;
    } catch (err) {
      throw new ShardFormatError(`shard: value ${i} is not msgpack (${(err as Error).message})`);
    }
  }

  /** The first index whose key is not below `prefix` (keys are sorted): where keys with that prefix start. */
  lowerBound(prefix: string): number {
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.key(mid) < prefix) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Orders key i of `a` against key j of `b` as JavaScript's `<` orders the strings: by bytes while
   * they are ASCII (UTF-8 agrees with UTF-16 there), by the decoded strings otherwise.
   */
  static compareKeys(a: ShardView, i: number, b: ShardView, j: number): number {
    const ab = a.#bytes;
    const bb = b.#bytes;
    let p = a.#keyStart(i);
    let q = b.#keyStart(j);
    const pEnd = a.#keys + (a.#keyEnd[i] as number);
    const qEnd = b.#keys + (b.#keyEnd[j] as number);
    // Whole words while both keys have them (both start aligned), then bytes from the first
    // difference on.
    const words = Math.min(pEnd - p, qEnd - q) >> 2;
    const aw = a.#words;
    const bw = b.#words;
    const wp = p >> 2;
    const wq = q >> 2;
    let k = 0;
    while (k < words && aw[wp + k] === bw[wq + k]) k++;
    p += k << 2;
    q += k << 2;
    while (p < pEnd && q < qEnd) {
      const x = ab[p] as number;
      const y = bb[q] as number;
      if (x !== y) {
        if (x < 0x80 && y < 0x80) return x < y ? -1 : 1;
        const s = a.key(i);
        const t = b.key(j);
        return s < t ? -1 : s > t ? 1 : 0;
      }
      p++;
      q++;
    }
    return p < pEnd ? 1 : q < qEnd ? -1 : 0;
  }

  /** Whether value i of `a` and value j of `b` have the same bytes (then they are equal values). */
  static sameValue(a: ShardView, i: number, b: ShardView, j: number): boolean {
    let p = a.#valueStart(i);
    let q = b.#valueStart(j);
    const pEnd = a.#values + (a.#valueEnd[i] as number);
    if (pEnd - p !== b.#values + (b.#valueEnd[j] as number) - q) return false;
    const aw = a.#words;
    const bw = b.#words;
    const words = (pEnd - p) >> 2;
    const wp = p >> 2;
    const wq = q >> 2;
    for (let k = 0; k < words; k++) if (aw[wp + k] !== bw[wq + k]) return false;
    p += words << 2;
    q += words << 2;
    const ab = a.#bytes;
    const bb = b.#bytes;
    while (p < pEnd) if (ab[p++] !== bb[q++]) return false;
    return true;
  }
}
