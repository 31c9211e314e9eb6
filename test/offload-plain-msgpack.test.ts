// The shard value writer: byte for byte what msgpackr (useRecords: false) writes, at every boundary
// of every type it writes itself, and for what it leaves to msgpackr.
import test from 'ava';
import { Packr } from 'msgpackr';
import { Mulberry32 } from '../native-sim/prng.js';
import { ByteBuffer } from '../src/offload/plain-msgpack.js';
import { StateSnapshot } from '../src/offload/index.js';
import { ShardView, writeShard } from '../src/offload/shard-bytes.js';

const packr = new Packr({ useRecords: false, moreTypes: false });

/** `writeValues` is explicit: the suite also runs with ENGINE_RECORD_WRITER=off in the environment. */
function written(v: unknown, writeValues = true): Uint8Array {
  const b = new ByteBuffer(0, writeValues);
  b.value(v);
  return b.bytes.slice(0, b.pos);
}

function keys(n: number): Record<string, number> {
  return Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));
}

class Custom {
  a = 1;
}

const CASES: Array<[string, unknown]> = [
  ['uint boundaries', [0, 0x1f, 0x20, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0xffffffff]],
  ['int boundaries', [-1, -0x20, -0x21, -0x80, -0x81, -0x8000, -0x8001, -0x80000000]],
  ['other numbers', [0x100000000, -0x80000001, 0.5, -2.25, 1e300, Number.NaN, Number.POSITIVE_INFINITY, -0, Number.MAX_SAFE_INTEGER]],
  ['strings at length boundaries', ['', 'a'.repeat(31), 'a'.repeat(32), 'a'.repeat(255), 'a'.repeat(256)]],
  ['non-ASCII strings', ['é', '中文', '😀', `${'a'.repeat(40)}é`]],
  ['arrays at length boundaries', [[], Array(15).fill(1), Array(16).fill(2), Array(0x10000).fill(0)]],
  ['objects at size boundaries', [{}, keys(15), keys(16), keys(300)]],
  ['nested plain values', { a: [1, { b: null, c: true, d: false }], e: { f: 'g' }, h: [[[]]] }],
  ['a null-prototype object', Object.assign(Object.create(null) as object, { x: 1, y: 'z' })],
  ['undefined inside', { a: undefined, b: [undefined] }],
  ['a class instance and a Date', [new Custom(), new Date(0)]],
  ['a sparse array', [1, , 3]], // eslint-disable-line no-sparse-arrays
];

for (const [name, value] of CASES) {
  test(`S1: shard values are msgpackr's bytes exactly — ${name}`, (t) => {
    t.deepEqual(Buffer.from(written(value)), Buffer.from(packr.pack(value)));
  });
}

test('S1: shard values are msgpackr\'s bytes exactly — seeded random route-like values', (t) => {
  const rnd = new Mulberry32(7);
  for (let i = 0; i < 2000; i++) {
    const pick = (): unknown => {
      const r = rnd.next();
      if (r < 0.3) return Math.floor((rnd.next() - 0.3) * 2 ** (1 + Math.floor(rnd.next() * 40)));
      if (r < 0.4) return rnd.next() * 1000;
      if (r < 0.7) return `10.${Math.floor(rnd.next() * 256)}.0.0/${Math.floor(rnd.next() * 33)}`;
      if (r < 0.8) return rnd.next() < 0.5;
      if (r < 0.85) return null;
      return [pick(), pick()];
    };
    const v = { vrfId: pick(), dstNetwork: pick(), nextHopAddr: pick(), weight: pick(), preference: pick() };
    t.deepEqual(Buffer.from(written(v)), Buffer.from(packr.pack(v)), JSON.stringify(v));
  }
});

test('S1: the off switch (writeValues false, the default under ENGINE_RECORD_WRITER=off) gives the same bytes as the writer', (t) => {
  for (const [, value] of CASES) t.deepEqual(Buffer.from(written(value, false)), Buffer.from(written(value, true)));
});

test('S1, S4: a shard written through the buffers reads back every key and value (any script, any value)', (t) => {
  const ks = ['a', 'b/é', 'c/中', 'd/😀', 'e'.repeat(300)];
  const vs: unknown[] = [{ x: 1.5 }, 'text', [1, 2, 3], null, { deep: { er: [true, -7] } }];
  const view = new ShardView(writeShard(ks, vs as never[]));
  t.is(view.length, ks.length);
  ks.forEach((k, i) => {
    t.is(view.key(i), k);
    t.deepEqual(view.value(i), vs[i]);
  });
});

test('S4: a key given twice is refused, also when the two entries are far apart', (t) => {
  const entries: Array<[string, { i: number }]> = Array.from({ length: 1000 }, (_, i) => [`k/${i}`, { i }]);
  entries.push(['k/3', { i: 99 }]);
  t.throws(() => StateSnapshot.fromEntries(entries, 4), { instanceOf: TypeError, message: 'entries: duplicate key k/3' });
  t.notThrows(() => StateSnapshot.fromEntries(entries.slice(0, 1000), 4));
});
