import test from 'ava';
import { Mulberry32 } from '../native-sim/prng.js';
import { builtinDescriptors } from '../src/descriptors/index.js';
import { ShardFormatError, StateSnapshot } from '../src/offload/index.js';
import { ShardView } from '../src/offload/shard-bytes.js';
import { KindTable, diffShard } from '../src/offload/shard-work.js';
import { decodeShard, encodeShard } from '../src/offload/state-snapshot.js';
import { route, startOffloadStack } from './helpers/offload-stack.js';

/** Keys mixing ASCII with two-byte, three-byte (incl. U+E000–U+FFFF) and astral characters. */
function randomKey(rnd: Mulberry32): string {
  const alphabet = ['a', 'b', '/', '0', '9', 'é', 'ÿ', '中', '\ue000', '\uffee', '😀', '𝄞'];
  let s = '';
  const n = Math.floor(rnd.next() * 6);
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(rnd.next() * alphabet.length)];
  return s;
}

function sorted(keys: Iterable<string>): string[] {
  return [...new Set(keys)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

test('S1, S4: a shard round-trips keys of any script and values of every kind', (t) => {
  const rnd = new Mulberry32(5);
  const keys = sorted(Array.from({ length: 400 }, () => randomKey(rnd)));
  const values = keys.map((k, i) => ({ k, i, neg: -i - 1, f: i / 7, on: i % 2 === 0, list: [i, 'x', null], nested: { deep: { s: k } } }));
  const bytes = encodeShard({ keys, values });
  t.deepEqual(decodeShard(bytes), { keys, values });
  const view = new ShardView(bytes);
  t.is(view.length, keys.length);
  t.is(view.key(3), keys[3] as string);
  t.deepEqual(view.value(3), values[3]);
});

test('S1, S4: keys compare by bytes exactly as JavaScript orders the strings (seeded, incl. surrogates vs U+E000–U+FFFF)', (t) => {
  const rnd = new Mulberry32(9);
  const a = sorted(Array.from({ length: 300 }, () => randomKey(rnd)));
  const b = sorted(Array.from({ length: 300 }, () => randomKey(rnd)));
  const va = new ShardView(encodeShard({ keys: a, values: a.map(() => ({})) }));
  const vb = new ShardView(encodeShard({ keys: b, values: b.map(() => ({})) }));
  let checked = 0;
  for (let i = 0; i < a.length; i++) {
    for (let j = 0; j < b.length; j += 7) {
      const x = a[i] as string;
      const y = b[j] as string;
      t.is(ShardView.compareKeys(va, i, vb, j), x < y ? -1 : x > y ? 1 : 0, `${JSON.stringify(x)} vs ${JSON.stringify(y)}`);
      checked++;
    }
  }
  t.true(checked > 5_000, `${checked} pairs`);
});

test('S1: equal bytes mean equal values; values equal but written differently still diff to nothing', (t) => {
  const kinds = new KindTable(builtinDescriptors());
  const [key, value] = route(1);
  const reordered = Object.fromEntries(Object.entries(value).reverse());
  const d = new ShardView(encodeShard({ keys: [key], values: [value] }));
  const same = new ShardView(encodeShard({ keys: [key], values: [{ ...value }] }));
  const other = new ShardView(encodeShard({ keys: [key], values: [reordered] }));
  const changed = new ShardView(encodeShard({ keys: [key], values: [{ ...value, preference: 3 }] }));
  t.true(ShardView.sameValue(d, 0, same, 0));
  t.false(ShardView.sameValue(d, 0, other, 0), 'different key order, different bytes');
  t.false(ShardView.sameValue(d, 0, changed, 0));
  const count = (a: ShardView, b: ShardView): number => diffShard(a, b, kinds).waves.reduce((n, w) => n + (w?.keys.length ?? 0), 0);
  t.is(count(d, same), 0);
  t.is(count(d, other), 0, 'deepEqual decides when the bytes differ');
  t.true(count(changed, d) > 0);
});

test('S4: bytes that are not a shard are refused with ShardFormatError (ERR_SHARD_FORMAT), when the snapshot is built or when read', async (t) => {
  const good = encodeShard({ keys: ['a', 'b'], values: [{ v: 1 }, { v: 2 }] });
  const badMagic = good.slice();
  badMagic[0] = 0;
  const truncated = good.slice(0, good.length - 1);
  for (const [what, bytes] of [
    ['bad magic', badMagic],
    ['truncated', truncated],
    ['too short for a header', new Uint8Array(5)],
  ] as const) {
    const err = t.throws(() => new StateSnapshot([bytes], 2), { instanceOf: ShardFormatError }, what);
    t.is(err?.code, 'ERR_SHARD_FORMAT');
  }
  // Offsets past their area pass the header check and are caught by the reader.
  const badOffsets = good.slice();
  new DataView(badOffsets.buffer).setUint32(16, 0xffff, true);
  t.throws(() => new ShardView(badOffsets), { instanceOf: ShardFormatError });
  // A value that is not msgpack: caught when it is read (and a sync over it rejects with the same error).
  const badValue = encodeShard({ keys: ['config/vpp/v2/route/vrf/0/dst/10.0.0.0/24/gw/192.168.0.1'], values: [{}] });
  badValue[badValue.length - 1] = 0xc1; // never used in msgpack
  const view = new ShardView(badValue);
  t.throws(() => view.value(0), { instanceOf: ShardFormatError });
  const s = await startOffloadStack({ inlineThreshold: 0, workers: true });
  t.teardown(() => s.close());
  for (const mode of ['inline', 'pool'] as const) {
    await t.throwsAsync(s.pool.sync(new StateSnapshot([badValue], 1), StateSnapshot.empty(1), { mode }), { instanceOf: ShardFormatError }, mode);
  }
  // The pool goes on working after the refused sync.
  const ok = await s.pool.sync(StateSnapshot.fromEntries([route(2)], 1), StateSnapshot.empty(1), { mode: 'pool' });
  t.is(ok.errors.length, 0);
  t.is(ok.ops, 1);
});
