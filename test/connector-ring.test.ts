import test from 'ava';
import {
  FrameCodec,
  FrameTooLargeError,
  RingLayout,
  RingReader,
  RingWriter,
  catalogStructures,
  createRing,
  ringUsedBytes,
  writeRawFrame,
} from '../src/connector/index.js';

function bytes(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (seed * 31 + i) & 0xff;
  return b;
}

function drainAll(r: RingReader): Uint8Array[] {
  const out: Uint8Array[] = [];
  r.drain((p) => out.push(p.slice()), () => out.push(new Uint8Array(0)));
  return out;
}

test('V1: frames of varying sizes round-trip in order, wrapping around the end of the ring', (t) => {
  const ring = createRing(256);
  const w = new RingWriter(ring);
  const r = new RingReader(ring);
  let written = 0;
  let read = 0;
  for (let round = 0; round < 200; round++) {
    const sizes = [1, 7, 13, 40, 64, 99].map((s) => (s + round) % 120);
    const sent: Uint8Array[] = [];
    for (const s of sizes) {
      const b = bytes(s, written);
      if (!w.write(b)) break;
      sent.push(b);
      written++;
    }
    w.commit();
    const got = drainAll(r);
    read += got.length;
    t.deepEqual(got, sent);
  }
  t.is(read, written);
  t.true(written >= 400, `${written} frames through a 256-byte ring: it wrapped many times`);
  t.is(ringUsedBytes(ring), 0);
});

test('V3: a full ring refuses the frame (nothing overwritten) until the consumer drains', (t) => {
  const ring = createRing(256);
  const w = new RingWriter(ring);
  const r = new RingReader(ring);
  let n = 0;
  while (w.write(bytes(20, n))) n++;
  w.commit();
  t.true(n >= 9 && n <= 10, `${n} frames of 24 bytes in 256`);
  t.false(w.write(bytes(20, 99)));
  const got = drainAll(r);
  t.deepEqual(got, Array.from({ length: n }, (_, i) => bytes(20, i)));
  t.true(w.write(bytes(20, 100)));
});

test('V1 V3: random frames, partial drains, batches and a second writer on the same ring: nothing lost, reordered or refused while there is room', (t) => {
  const ring = createRing(512);
  const writers = [new RingWriter(ring), new RingWriter(ring)];
  const r = new RingReader(ring);
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
    return seed % n;
  };
  const CAP = 512;
  let head = 0;
  const inFlight: Uint8Array[] = [];
  let frames = 0;
  let refusals = 0;
  for (let step = 0; step < 5000; step++) {
    // One writer per batch (SPSC); the other takes over at the next batch.
    const w = writers[rand(2)] as RingWriter;
    const batch = 1 + rand(6);
    for (let i = 0; i < batch; i++) {
      const b = bytes(rand(200), frames);
      // The room a frame needs: its aligned size, plus the bytes it skips when it wraps.
      const total = (RingLayout.FRAME_HEADER_BYTES + b.length + RingLayout.FRAME_ALIGN - 1) & ~(RingLayout.FRAME_ALIGN - 1);
      const toEnd = CAP - head;
      const need = total <= toEnd ? total : toEnd + total;
      const free = w.freeBytes();
      const ok = w.write(b);
      t.is(ok, need <= free, `${need} B needed, ${free} B free`);
      if (!ok) {
        refusals++;
        break;
      }
      head = total <= toEnd ? (head + total) % CAP : total;
      inFlight.push(b);
      frames++;
    }
    w.commit();
    // Drain some, all, or none.
    const take = rand(3) === 0 ? 0 : rand(4) === 0 ? Infinity : 1 + rand(4);
    r.drain((p) => t.deepEqual(p.slice(), inFlight.shift()), () => t.fail('corrupt frame'), take);
  }
  r.drain((p) => t.deepEqual(p.slice(), inFlight.shift()), () => t.fail('corrupt frame'));
  t.is(inFlight.length, 0);
  t.is(ringUsedBytes(ring), 0);
  t.true(frames > 4000 && refusals > 0, `${frames} frames, ${refusals} refusals`);
});

test('V3: a frame larger than half the ring is rejected with FrameTooLargeError', (t) => {
  const ring = createRing(1024);
  const w = new RingWriter(ring);
  const err = t.throws(() => w.write(new Uint8Array(600)), { instanceOf: FrameTooLargeError });
  t.is(err?.code, 'ERR_FRAME_TOO_LARGE');
  t.is(err?.maxBytes, w.maxPayloadBytes);
  t.true(w.write(new Uint8Array(w.maxPayloadBytes)));
});

test('V3: maxPayloadBytes is exact for every capacity: that payload is written (and read back), one byte more is FrameTooLargeError', (t) => {
  for (let cap = 256; cap <= 1100; cap += 4) {
    const ring = createRing(cap);
    const w = new RingWriter(ring);
    const r = new RingReader(ring);
    const max = w.maxPayloadBytes;
    t.throws(() => w.write(new Uint8Array(max + 1)), { instanceOf: FrameTooLargeError }, `capacity ${cap}`);
    // Twice, so the second one meets the end of the ring and wraps.
    for (let i = 0; i < 2; i++) {
      t.true(w.write(bytes(max, i)), `capacity ${cap}`);
      w.commit();
      let got = 0;
      r.drain((p) => void (got = p.length), () => t.fail(`corrupt frame, capacity ${cap}`));
      t.is(got, max, `capacity ${cap}`);
    }
  }
});

test('V1: staged frames stay invisible until one commit publishes the whole batch', (t) => {
  const ring = createRing(4096);
  const w = new RingWriter(ring);
  const r = new RingReader(ring);
  for (let i = 0; i < 10; i++) t.true(w.write(bytes(10, i)));
  t.is(w.staged, 10);
  t.false(r.hasData());
  w.commit();
  t.true(r.hasData());
  const header = new Int32Array(ring, 0, RingLayout.HEADER_SLOTS);
  t.is(Atomics.load(header, RingLayout.RingSlot.FRAMES_WRITTEN), 10);
  t.is(drainAll(r).length, 10);
});

test('V3: waitForSpace resolves once the consumer frees room', async (t) => {
  const ring = createRing(256);
  const w = new RingWriter(ring);
  const r = new RingReader(ring);
  while (w.write(bytes(30, 1)));
  w.commit();
  const waiting = w.waitForSpace();
  setImmediate(() => drainAll(r));
  await waiting;
  t.true(w.write(bytes(30, 2)));
});

test('V6: a frame with an impossible length prefix is reported and the ring recovers', (t) => {
  const ring = createRing(512);
  const r = new RingReader(ring);
  t.true(writeRawFrame(ring, bytes(8, 1), 100_000));
  const corrupt: unknown[] = [];
  const frames: Uint8Array[] = [];
  r.drain((p) => frames.push(p.slice()), (c) => corrupt.push(c));
  t.is(frames.length, 0);
  t.like(corrupt[0], { kind: 'bad-length', length: 100_000 });
  t.true(writeRawFrame(ring, bytes(8, 2)));
  r.drain((p) => frames.push(p.slice()), (c) => corrupt.push(c));
  t.deepEqual(frames, [bytes(8, 2)]);
  t.is(corrupt.length, 1);
});

test('V6: a length prefix near 2^31 or 2^32 (where 32-bit alignment wraps) is reported once; the ring recovers', (t) => {
  for (const declared of [0x7ffffffc, 0x7fffffff, 0x80000000, 0xfffffffb, 0xffffffff]) {
    const ring = createRing(512);
    const r = new RingReader(ring);
    t.true(writeRawFrame(ring, bytes(8, 1), declared));
    const corrupt: unknown[] = [];
    const frames: Uint8Array[] = [];
    t.is(r.drain((p) => frames.push(p.slice()), (c) => corrupt.push(c)), 0, declared.toString(16));
    t.is(frames.length, 0);
    t.like(corrupt[0], { kind: 'bad-length', length: declared });
    t.true(writeRawFrame(ring, bytes(8, 2)));
    r.drain((p) => frames.push(p.slice()), (c) => corrupt.push(c));
    t.deepEqual(frames, [bytes(8, 2)]);
    t.is(corrupt.length, 1);
    t.true(ringUsedBytes(ring) === 0);
  }
});

test('V1: createRing validates its size; RingReader rejects a buffer that is not a ring', (t) => {
  t.throws(() => createRing(10), { instanceOf: RangeError, message: /ringBytes/ });
  t.throws(() => createRing(1.5 as number), { instanceOf: RangeError });
  t.throws(() => new RingReader(new SharedArrayBuffer(1024)), { instanceOf: TypeError });
});

test('V1: independent codecs agree on catalog records and on shapes outside the catalog', (t) => {
  const a = new FrameCodec();
  const b = new FrameCodec();
  const msgs: unknown[] = [
    { _msgname: 'sw_interface_set_flags', context: 65537, sw_if_index: 3, flags: 1 },
    { _msgname: 'ip_route_add_del', context: 2, is_add: true, route: { table_id: 0, prefix: '10.0.0.0/8', paths: [{ sw_if_index: 1, nh: '', weight: 1, preference: 0 }] } },
    { _msgname: 'control_ping_reply', context: 9, retval: 0, vpe_pid: 1, epoch: 5 },
  ];
  // More distinct ad-hoc shapes than msgpackr's single-byte record ids.
  for (let i = 0; i < 150; i++) msgs.push({ _msgname: `custom_${i}`, context: i, [`field_${i}`]: i, nested: { [`k${i % 7}`]: 'v' } });
  for (let pass = 0; pass < 2; pass++) for (const m of msgs) t.deepEqual(b.decode(a.encode(m)), m);
  const flags = a.encode(msgs[0]);
  t.true(flags.length < JSON.stringify(msgs[0]).length / 2, 'a catalog record is compact');
  t.true(catalogStructures().length > 32);
});
