// snapshot.build: building a StateSnapshot (what a producer does before every pool sync) from 10⁶
// route entries, against the same bucketing and sorting with each entry encoded on its own the
// obvious way (msgpackr `pack` per value, TextEncoder per key, then one copy into shared memory).
// Both must give the same bytes.
import { Packr } from 'msgpackr';
import type { Value } from '../../src/api/values.js';
import { routeKey } from '../../src/descriptors/index.js';
import { StateSnapshot, shardOf } from '../../src/offload/state-snapshot.js';
import { type BenchSuite, type Figure, figure, median } from '../figure.js';

const SHARDS = 8;

function entries(n: number): Array<readonly [string, Value]> {
  const out: Array<readonly [string, Value]> = [];
  for (let i = 0; i < n; i++) {
    const v = { vrfId: 0, dstNetwork: `${10 + (i >>> 16)}.${(i >>> 8) & 255}.${i & 255}.0/24`, nextHopAddr: '192.168.0.1', weight: 1, preference: i % 10 };
    out.push([routeKey(v), v]);
  }
  return out;
}

const packr = new Packr({ useRecords: false, moreTypes: false });
const encoder = new TextEncoder();

/** The baseline: one allocation per key and per value, then a copy into the shard's shared bytes. */
function perEntryShard(bucket: ReadonlyArray<readonly [string, Value]>): Uint8Array {
  const align4 = (x: number): number => (x + 3) & ~3;
  const n = bucket.length;
  const ks: Uint8Array[] = [];
  const vs: Uint8Array[] = [];
  let kLen = 0;
  let vLen = 0;
  for (const [key, value] of bucket) {
    const k = encoder.encode(key);
    const v = packr.pack(value).slice();
    ks.push(k);
    vs.push(v);
    kLen = align4(kLen) + k.length;
    vLen = align4(vLen) + v.length;
  }
  const tables = 16 + 8 * n;
  const valuesAt = tables + align4(kLen);
  const out = new Uint8Array(new SharedArrayBuffer(valuesAt + vLen));
  const view = new DataView(out.buffer);
  view.setUint32(0, 0x32535356, true);
  view.setUint32(4, n, true);
  view.setUint32(8, kLen, true);
  view.setUint32(12, vLen, true);
  let kAt = 0;
  let vAt = 0;
  for (let i = 0; i < n; i++) {
    const k = ks[i] as Uint8Array;
    const v = vs[i] as Uint8Array;
    kAt = align4(kAt);
    vAt = align4(vAt);
    out.set(k, tables + kAt);
    out.set(v, valuesAt + vAt);
    kAt += k.length;
    vAt += v.length;
    view.setUint32(16 + 4 * i, kAt, true);
    view.setUint32(16 + 4 * (n + i), vAt, true);
  }
  return out;
}

function perEntrySnapshot(all: ReadonlyArray<readonly [string, Value]>): Uint8Array[] {
  const buckets: Array<Array<readonly [string, Value]>> = Array.from({ length: SHARDS }, () => []);
  const seen = new Set<string>();
  for (const e of all) {
    if (seen.has(e[0])) throw new Error(`duplicate key ${e[0]}`);
    seen.add(e[0]);
    (buckets[shardOf(e[0], SHARDS)] as Array<readonly [string, Value]>).push(e);
  }
  return buckets.map((b) => perEntryShard(b.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0))));
}

export const suite: BenchSuite = {
  name: 'snapshot',
  async run({ quick }) {
    const n = quick ? 100_000 : 1_000_000;
    const all = entries(n);
    // Verify: both ways give the same shard bytes.
    const ours = StateSnapshot.fromEntries(all, SHARDS).shards;
    const theirs = perEntrySnapshot(all);
    for (let s = 0; s < SHARDS; s++) {
      if (Buffer.compare(Buffer.from(ours[s] as Uint8Array), Buffer.from(theirs[s] as Uint8Array)) !== 0) throw new Error(`snapshot: shard ${s} differs from the per-entry encoding`);
    }
    // Alternating rounds (the machine's speed drifts): medians.
    const built: number[] = [];
    const base: number[] = [];
    for (let r = 0; r < (quick ? 3 : 5); r++) {
      let t0 = performance.now();
      StateSnapshot.fromEntries(all, SHARDS);
      built.push(performance.now() - t0);
      t0 = performance.now();
      perEntrySnapshot(all);
      base.push(performance.now() - t0);
    }
    process.stderr.write(`  ${n} entries: fromEntries ${built.map((x) => x.toFixed(0)).join(' ')} ms; per-entry encoding ${base.map((x) => x.toFixed(0)).join(' ')} ms\n`);
    const id = quick ? '100k' : '1m';
    const out: Record<string, Figure> = {
      [`snapshot.build.${id}`]: figure(median(built), median(base), 'ms', 'for the record: value = StateSnapshot.fromEntries, baseline = per-entry msgpackr + TextEncoder'),
    };
    return out;
  },
};
