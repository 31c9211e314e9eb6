import test from 'ava';
import { Mulberry32 } from '../native-sim/prng.js';
import { DETAILS_FIELDS, REPLY_EXTRA_FIELDS, REQUEST_FIELDS, catalogShapesFor, catalogStructures } from '../src/connector/catalog-structures.js';
import { FrameCodec } from '../src/connector/index.js';
import { RecordWriter } from '../src/connector/record-writer.js';

/** Nested shapes by the key they sit under, as the catalog has them. */
const NESTED: Record<string, readonly string[]> = {
  table: ['table_id', 'is_ip6', 'name'],
  route: ['table_id', 'prefix', 'paths'],
  paths: ['sw_if_index', 'nh', 'weight', 'preference'],
  neighbor: ['sw_if_index', 'ip_address', 'mac_address', 'flags'],
  r: ['is_permit', 'src_prefix', 'dst_prefix', 'proto', 'srcport_or_icmptype_first', 'srcport_or_icmptype_last', 'dstport_or_icmpcode_first', 'dstport_or_icmpcode_last'],
  locals: ['addr', 'port', 'probability'],
  sw_if_details: ['sw_if_index'],
};
const ARRAYS = new Set(['paths', 'r', 'locals', 'sw_if_details', 'acls']);

/** Values the writer takes: 32-bit integers of every width, ASCII strings of every header size, booleans, null. */
function cleanScalar(rnd: Mulberry32): unknown {
  const x = rnd.next();
  const bounds = [0x3f, 0xff, 0xffff, 0xffffffff, 0x20, 0x80, 0x8000, 0x80000000];
  if (x < 0.4) {
    const b = bounds[Math.floor(rnd.next() * bounds.length)] as number;
    const v = Math.floor(rnd.next() * (b + 1));
    return x < 0.3 || v === 0 ? v : -Math.min(v, 0x80000000);
  }
  if (x < 0.8) {
    const len = [0, 5, 31, 32, 200, 255][Math.floor(rnd.next() * 6)] as number;
    let s = '';
    for (let i = 0; i < len; i++) s += String.fromCharCode(32 + Math.floor(rnd.next() * 95));
    return s;
  }
  return x < 0.95 ? rnd.next() < 0.5 : null;
}

function field(rnd: Mulberry32, key: string, depth: number): unknown {
  const inner = NESTED[key];
  if (ARRAYS.has(key)) {
    const n = [0, 1, 3, 17][Math.floor(rnd.next() * 4)] as number;
    return Array.from({ length: n }, () => (inner ? object(rnd, inner, depth + 1) : cleanScalar(rnd)));
  }
  return inner ? object(rnd, inner, depth + 1) : cleanScalar(rnd);
}

function object(rnd: Mulberry32, keys: readonly string[], depth: number): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const k of keys) o[k] = field(rnd, k, depth);
  return o;
}

function catalogMessages(seed: number, n: number): Array<Record<string, unknown>> {
  const rnd = new Mulberry32(seed);
  const shapes: Array<[string, readonly string[]]> = [
    ...Object.entries(REQUEST_FIELDS),
    ...Object.entries(DETAILS_FIELDS),
    ...Object.keys(REQUEST_FIELDS).map((name): [string, readonly string[]] => [`${name}_reply`, ['retval']]),
    ...Object.entries(REPLY_EXTRA_FIELDS).map(([name, extra]): [string, readonly string[]] => [`${name}_reply`, ['retval', ...extra]]),
  ];
  return Array.from({ length: n }, () => {
    const [name, fields] = shapes[Math.floor(rnd.next() * shapes.length)] as [string, readonly string[]];
    return { _msgname: name, context: Math.floor(rnd.next() * 0xffffffff), ...object(rnd, fields, 0) };
  });
}

test('V1: the record writer writes catalog messages byte for byte as msgpackr does (seeded, 3,000 messages)', (t) => {
  const writer = new RecordWriter(catalogStructures(), catalogShapesFor);
  const msgpackr = new FrameCodec({ recordWriter: false });
  const decoder = new FrameCodec();
  let nested = 0;
  for (const m of catalogMessages(7, 3000)) {
    const bytes = writer.write(m);
    if (bytes === undefined) return t.fail(`declined ${JSON.stringify(m)}`);
    const expected = msgpackr.encode(m);
    t.is(Buffer.from(bytes).toString('hex'), Buffer.from(expected).toString('hex'), String(m['_msgname']));
    t.deepEqual(decoder.decode(bytes), m);
    if (Object.values(m).some((v) => typeof v === 'object' && v !== null)) nested++;
  }
  t.true(nested > 500, 'nested records were covered');
});

test('V1: values outside the writer fall back to msgpackr and still round-trip', (t) => {
  const writer = new RecordWriter(catalogStructures(), catalogShapesFor);
  const codec = new FrameCodec();
  const base = () => ({ _msgname: 'ip_route_add_del', context: 1, is_add: true, is_multipath: false, route: { table_id: 0, prefix: '10.0.0.0/8', paths: [] as unknown[] } });
  const cases: Array<[string, Record<string, unknown>]> = [
    ['a float', { ...base(), is_add: 1.5 }],
    ['an integer beyond 32 bits', { ...base(), context: 2 ** 40 }],
    ['undefined', { ...base(), is_add: undefined }],
    ['a non-ASCII string', { ...base(), route: { table_id: 0, prefix: 'réseau', paths: [] } }],
    ['a 300-character string', { ...base(), route: { table_id: 0, prefix: 'x'.repeat(300), paths: [] } }],
    ['an extra key', { ...base(), extra: 1 }],
    ['a missing key', { _msgname: 'ip_route_add_del', context: 1, route: base().route }],
    ['keys out of order', { _msgname: 'ip_route_add_del', context: 1, route: base().route, is_add: true }],
    ['a nested object of no listed shape', { ...base(), route: { table_id: 0, paths: [], prefix: '10.0.0.0/8' } }],
    ['a Date', { ...base(), route: { table_id: 0, prefix: '10.0.0.0/8', paths: [new Date(0)] } }],
    ['a Map', { ...base(), route: new Map([['a', 1]]) }],
    ['a name that is not a string', { _msgname: 7, context: 1 }],
    ['an unknown message', { _msgname: 'no_such', context: 1, a: 1 }],
  ];
  for (const [what, m] of cases) {
    t.is(writer.write(m), undefined, `declines ${what}`);
    t.deepEqual(codec.decode(codec.encode(m)), m, `round-trips ${what}`);
  }
  // A decline leaves nothing behind: the next message is written cleanly.
  const ok = base();
  t.deepEqual(codec.decode(writer.write(ok) as Uint8Array), ok);
});

test('V1: bytes handed out stay valid while the writer moves on to new chunks', (t) => {
  const writer = new RecordWriter(catalogStructures(), catalogShapesFor);
  const messages = catalogMessages(11, 4000);
  const views = messages.map((m) => writer.write(m) as Uint8Array);
  const total = views.reduce((a, v) => a + v.length, 0);
  t.true(total > 4 * 64 * 1024, `spans several chunks (${total} B)`);
  const decoder = new FrameCodec();
  messages.forEach((m, i) => t.deepEqual(decoder.decode(views[i] as Uint8Array), m));
});

test('V1: the off switch (option and ENGINE_RECORD_WRITER=off) sends everything through msgpackr, with the same bytes', (t) => {
  const messages = catalogMessages(3, 200);
  // `on` is explicit: the suite also runs with ENGINE_RECORD_WRITER=off in the environment.
  const on = new FrameCodec({ recordWriter: true });
  const off = new FrameCodec({ recordWriter: false });
  const saved = process.env['ENGINE_RECORD_WRITER'];
  process.env['ENGINE_RECORD_WRITER'] = 'off';
  const envOff = new FrameCodec();
  if (saved === undefined) delete process.env['ENGINE_RECORD_WRITER'];
  else process.env['ENGINE_RECORD_WRITER'] = saved;
  for (const m of messages) {
    const a = Buffer.from(on.encode(m)).toString('hex');
    t.is(Buffer.from(off.encode(m)).toString('hex'), a);
    t.is(Buffer.from(envOff.encode(m)).toString('hex'), a);
  }
  // The switch is real: msgpackr's own buffer is a Node Buffer, the writer's views are plain Uint8Arrays.
  t.false(Buffer.isBuffer(on.encode(messages[0])));
  t.true(Buffer.isBuffer(off.encode(messages[0])));
  t.true(Buffer.isBuffer(envOff.encode(messages[0])));
});
