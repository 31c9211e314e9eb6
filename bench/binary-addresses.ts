// The codec suite's what-if: the same binary-API messages with addresses carried as VPP carries
// them (IPv4 as 4 bytes, a prefix as { address, len }, a MAC as 6 bytes) instead of text. Measured
// to see whether it would lift codec.encode (it does not: the writer's byte arrays cost what the
// characters did, and JSON.stringify's arrays of small integers are fast too).
import { catalogShapesFor, catalogStructures } from '../src/connector/catalog-structures.js';
import { RecordWriter } from '../src/connector/record-writer.js';

const IPV4 = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/;
const PREFIX = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

function bytesOf(ip: string): number[] {
  return ip.split('.').map(Number);
}

/** A deep copy of `v` with every address string replaced by its binary form. */
export function withBinaryAddresses(v: unknown): unknown {
  if (typeof v === 'string') {
    const p = PREFIX.exec(v);
    if (p) return { address: bytesOf(p[1] as string), len: Number(p[2]) };
    if (IPV4.test(v)) return bytesOf(v);
    if (MAC.test(v)) return v.split(':').map((x) => parseInt(x, 16));
    return v;
  }
  if (Array.isArray(v)) return v.map(withBinaryAddresses);
  if (typeof v === 'object' && v !== null) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = withBinaryAddresses(x);
    return o;
  }
  return v;
}

/** The catalog's record writer plus the one shape binary prefixes add. */
export function binaryAddressWriter(): RecordWriter {
  return new RecordWriter([...catalogStructures(), ['address', 'len']], catalogShapesFor);
}
