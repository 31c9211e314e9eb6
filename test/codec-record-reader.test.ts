import test from 'ava';
import { Packr } from 'msgpackr';
import { catalogStructures } from '../src/connector/catalog-structures.js';
import { FrameCodec } from '../src/connector/index.js';
import { RecordReader } from '../src/connector/record-reader.js';
import { catalogMessages } from './helpers/catalog-messages.js';

/** msgpackr alone, as the codec decodes with its reader off; `recordWriter` writes as the engine does. */
const msgpackr = new FrameCodec({ recordReader: false });
const writer = new FrameCodec({ recordWriter: true });

/** What decoding gives: the value (with its key order), or the error's being thrown. */
function outcome(decode: () => unknown): string {
  try {
    return `value ${JSON.stringify(decode())}`;
  } catch {
    return 'throws';
  }
}

test('V1: the record reader reads catalog messages as msgpackr does, key order included (seeded, 3,000 messages)', (t) => {
  const reader = new RecordReader(catalogStructures());
  let nested = 0;
  for (const m of catalogMessages(5, 3000)) {
    const bytes = writer.encode(m);
    const v = reader.read(bytes);
    if (v === undefined) return t.fail(`declined ${JSON.stringify(m)}`);
    t.is(JSON.stringify(v), JSON.stringify(msgpackr.decode(bytes)));
    t.deepEqual(v, m);
    t.is(Object.getPrototypeOf(v), Object.prototype);
    if (Object.values(m).some((x) => typeof x === 'object' && x !== null)) nested++;
  }
  t.true(nested > 500, 'nested records were covered');
});

test('V1: message names that share the interning cache slot each decode as themselves', (t) => {
  const reader = new RecordReader(catalogStructures());
  // Same length, same first and last two bytes: the cache's key cannot tell them apart. msgpackr
  // writes any { _msgname, context } as the shared record, whatever the name.
  const names = Array.from({ length: 200 }, (_, i) => `ab${String(i).padStart(6, '0')}yz`);
  for (let round = 0; round < 2; round++) {
    for (const name of names) {
      const m = { _msgname: name, context: 1 };
      t.deepEqual(reader.read(msgpackr.encode(m)), m);
    }
  }
});

test('V1: frames outside the reader fall back to msgpackr and decode as before', (t) => {
  const codec = new FrameCodec();
  const plain = new Packr({ useRecords: false });
  const route = { table_id: 0, prefix: '10.0.0.0/8', paths: [] as unknown[] };
  const base = { _msgname: 'ip_route_add_del', context: 1, is_add: true, is_multipath: false, route };
  const cases: Array<[string, Uint8Array]> = [
    ['a map (no records)', plain.pack(base)],
    ['a record definition (a shape not shared)', writer.encode({ _msgname: 'no_such', context: 1, a: 1 })],
    ['a non-ASCII string', writer.encode({ ...base, route: { ...route, prefix: 'réseau' } })],
    ['a 300-character string (str16)', writer.encode({ ...base, route: { ...route, prefix: 'x'.repeat(300) } })],
    ['a 64-bit integer', plain.pack(2n ** 40n)],
    ['a float32', Uint8Array.from([0xca, 0x3f, 0xc0, 0x00, 0x00])],
    ['binary', plain.pack(Buffer.from([1, 2, 3]))],
    ['a Date', writer.encode({ ...base, route: { ...route, paths: [new Date(0)] } })],
    ['trailing bytes', Uint8Array.from([...writer.encode(base), 0x01])],
    ['a record id no structure has', Uint8Array.from([0x7f, 0x1f])],
  ];
  for (const [what, bytes] of cases) {
    t.is(new RecordReader(catalogStructures()).read(bytes), undefined, `declines ${what}`);
    t.is(outcome(() => codec.decode(bytes)), outcome(() => msgpackr.decode(bytes)), `decodes ${what} as msgpackr does`);
  }
  // A decline leaves nothing behind: the next frame is read by the reader again.
  t.deepEqual(new RecordReader(catalogStructures()).read(writer.encode(base)), base);
});

test('V6: every truncation of a frame is a decode error (or the same value) as with msgpackr, never a hang', (t) => {
  const codec = new FrameCodec();
  let throwing = 0;
  for (const m of catalogMessages(9, 40)) {
    const bytes = writer.encode(m);
    for (let n = 0; n < bytes.length; n++) {
      const cut = bytes.slice(0, n);
      const got = outcome(() => codec.decode(cut));
      t.is(got, outcome(() => msgpackr.decode(cut)), `${String(m['_msgname'])} cut at ${n}`);
      if (got === 'throws') throwing++;
    }
  }
  t.true(throwing > 100, 'truncations were rejected');
});

test('V1: frames are read from any view (ring slices with an offset into a shared buffer)', (t) => {
  const codec = new FrameCodec();
  const shared = new Uint8Array(new SharedArrayBuffer(1 << 16));
  let at = 3; // an odd offset: multi-byte numbers are read unaligned
  for (const m of catalogMessages(13, 200)) {
    const bytes = writer.encode(m);
    shared.set(bytes, at);
    t.deepEqual(codec.decode(shared.subarray(at, at + bytes.length)), m);
    at = (at + bytes.length + 1) % 40_000;
  }
});

test('V1: the off switch (option and ENGINE_RECORD_READER=off) decodes every frame with msgpackr', (t) => {
  let reads = 0;
  const original = Object.getOwnPropertyDescriptor(RecordReader.prototype, 'read')?.value as RecordReader['read'];
  RecordReader.prototype.read = function (this: RecordReader, bytes: Uint8Array): unknown {
    reads++;
    return original.call(this, bytes);
  };
  try {
    const messages = catalogMessages(3, 100);
    const saved = process.env['ENGINE_RECORD_READER'];
    process.env['ENGINE_RECORD_READER'] = 'off';
    const envOff = new FrameCodec();
    if (saved === undefined) delete process.env['ENGINE_RECORD_READER'];
    else process.env['ENGINE_RECORD_READER'] = saved;
    // `recordReader` is explicit: the suite also runs with ENGINE_RECORD_READER=off in the environment.
    const on = new FrameCodec({ recordReader: true });
    const off = new FrameCodec({ recordReader: false });
    for (const m of messages) {
      const bytes = writer.encode(m);
      t.deepEqual(off.decode(bytes), m);
      t.deepEqual(envOff.decode(bytes), m);
    }
    t.is(reads, 0, 'the reader was never asked');
    for (const m of messages) t.deepEqual(on.decode(writer.encode(m)), m);
    t.is(reads, messages.length);
  } finally {
    RecordReader.prototype.read = original;
  }
});

test('V1: numbers at every width boundary (and float64) read as msgpackr reads them', (t) => {
  const reader = new RecordReader(catalogStructures());
  const values = [0, 0x3f, 0x40, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0xffffffff, -1, -32, -33, -128, -129, -32768, -32769, -(2 ** 31), 1.5, -0.25, 2 ** 40, 1e300, Number.MIN_VALUE, -0];
  for (const v of values) {
    const bytes = msgpackr.encode({ _msgname: 'control_ping', context: v });
    const got = reader.read(bytes) as { context: number } | undefined;
    if (got === undefined) return t.fail(`declined ${v}`);
    t.true(Object.is(got.context, (msgpackr.decode(bytes) as { context: number }).context), `${v}: ${got.context}`);
  }
});
