import test from 'ava';
import { catalogShapesFor, catalogStructures } from '../src/connector/catalog-structures.js';
import { FrameCodec, requestMessage } from '../src/connector/index.js';
import { RecordWriter } from '../src/connector/record-writer.js';
import { catalogMessages } from './helpers/catalog-messages.js';

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

test('V1: a request written straight from its fields has the bytes of the message requestMessage builds (seeded, 3,000 requests)', (t) => {
  const codec = new FrameCodec({ recordWriter: true });
  const msgpackr = new FrameCodec({ recordWriter: false });
  const writer = new RecordWriter(catalogStructures(), catalogShapesFor);
  let straight = 0;
  for (const m of catalogMessages(17, 3000)) {
    const { _msgname: name, context, ...fields } = m as { _msgname: string; context: number };
    const expected = Buffer.from(msgpackr.encode(requestMessage(name, context, fields))).toString('hex');
    t.is(Buffer.from(codec.encodeRequest(name, context, fields)).toString('hex'), expected, name);
    if (writer.writeRequest(name, context, fields) !== undefined) straight++;
  }
  // Replies and details are not requests: only request names are written straight.
  t.true(straight > 1000, `${straight} written straight from their fields`);
});

test('V1: requests the straight path declines are built and encoded the general way, with the same bytes', (t) => {
  const codec = new FrameCodec({ recordWriter: true });
  const msgpackr = new FrameCodec({ recordWriter: false });
  const writer = new RecordWriter(catalogStructures(), catalogShapesFor);
  const inherited = Object.create({ flags: 1 }) as Record<string, unknown>;
  inherited['sw_if_index'] = 4;
  const cases: Array<[string, string, Record<string, unknown> | undefined]> = [
    ['fields out of catalog order', 'sw_interface_set_flags', { flags: 1, sw_if_index: 3 }],
    ['an undefined field', 'sw_interface_set_flags', { sw_if_index: 3, flags: undefined }],
    ['an extra field', 'sw_interface_set_flags', { sw_if_index: 3, flags: 1, extra: 'x' }],
    ['a missing field', 'sw_interface_set_flags', { sw_if_index: 3 }],
    ['a float', 'sw_interface_set_flags', { sw_if_index: 3, flags: 0.5 }],
    ['an unknown request', 'no_such_request', { a: 1 }],
  ];
  for (const [what, name, fields] of cases) {
    t.is(writer.writeRequest(name, 9, fields), undefined, `declines ${what}`);
    t.is(Buffer.from(codec.encodeRequest(name, 9, fields)).toString('hex'), Buffer.from(msgpackr.encode(requestMessage(name, 9, fields))).toString('hex'), what);
  }
  // An inherited enumerable field counts as requestMessage counts it (for...in): the same bytes.
  t.is(Buffer.from(codec.encodeRequest('sw_interface_set_flags', 9, inherited)).toString('hex'), Buffer.from(msgpackr.encode(requestMessage('sw_interface_set_flags', 9, inherited))).toString('hex'));
  // No fields at all: the control_ping that ends a dump.
  const ping = writer.writeRequest('control_ping', 9, undefined);
  t.not(ping, undefined);
  t.is(Buffer.from(ping as Uint8Array).toString('hex'), Buffer.from(msgpackr.encode({ _msgname: 'control_ping', context: 9 })).toString('hex'));
});
