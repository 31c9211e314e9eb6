// Seeded binary-API messages of every catalog shape, with values of every width and header size
// the record writer and reader take.
import { Mulberry32 } from '../../native-sim/prng.js';
import { DETAILS_FIELDS, REPLY_EXTRA_FIELDS, REQUEST_FIELDS } from '../../src/connector/catalog-structures.js';

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

export function catalogMessages(seed: number, n: number): Array<Record<string, unknown>> {
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
