import test from 'ava';
import { DETAILS_FIELDS, REQUEST_FIELDS } from '../src/connector/catalog-structures.js';
import { FrameCodec } from '../src/connector/index.js';

const sample: Record<string, unknown> = {
  table: { table_id: 1, is_ip6: false, name: 'red' },
  route: { table_id: 0, prefix: '10.0.0.0/8', paths: [{ sw_if_index: 1, nh: '10.0.0.1', weight: 1, preference: 0 }] },
  neighbor: { sw_if_index: 1, ip_address: '10.0.0.2', mac_address: '02:00:00:00:00:01', flags: 1 },
  locals: [{ addr: '10.1.0.1', port: 80, probability: 1 }],
  sw_if_details: [{ sw_if_index: 3 }],
};

function message(name: string, fields: readonly string[]): Record<string, unknown> {
  const m: Record<string, unknown> = { _msgname: name, context: 0x10001 };
  for (const f of fields) m[f] = sample[f] ?? (f.startsWith('is_') ? true : f.length);
  return m;
}

test('V1: every catalog message, reply and details shape survives encoding by one codec and decoding by a fresh one', (t) => {
  const shapes: Array<[string, readonly string[]]> = [
    ...Object.entries(REQUEST_FIELDS),
    ...Object.entries(DETAILS_FIELDS),
    ...Object.keys(REQUEST_FIELDS).map((n): [string, readonly string[]] => [`${n}_reply`, ['retval']]),
    ['not_in_catalog', ['a', 'b', 'table']],
  ];
  const encoder = new FrameCodec();
  // Twice: the second pass meets an encoder that has already seen every shape.
  for (let pass = 0; pass < 2; pass++) {
    for (const [name, fields] of shapes) {
      const m = message(name, fields);
      t.deepEqual(new FrameCodec().decode(encoder.encode(m)), m, `${name}, pass ${pass}`);
    }
  }
});
