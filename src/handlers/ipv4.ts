// IPv4 arithmetic for pod addressing: addresses as unsigned 32-bit integers.

export interface Ipv4Subnet {
  /** Network address as an unsigned 32-bit integer. */
  readonly network: number;
  readonly prefixLength: number;
  /** Number of addresses in the subnet. */
  readonly size: number;
}

const OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** Parses a dotted quad; undefined when malformed. */
export function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!OCTET.test(p)) return undefined;
    n = n * 256 + Number(p);
  }
  return n;
}

export function formatIpv4(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** Parses `a.b.c.d/len`; undefined when malformed or when host bits are set. */
export function parseIpv4Subnet(text: string): Ipv4Subnet | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const addr = parseIpv4(text.slice(0, slash));
  const lenText = text.slice(slash + 1);
  if (addr === undefined || !/^\d{1,2}$/.test(lenText)) return undefined;
  const prefixLength = Number(lenText);
  if (prefixLength > 32) return undefined;
  const size = 2 ** (32 - prefixLength);
  if (addr % size !== 0) return undefined;
  return { network: addr, prefixLength, size };
}

/** Whether `ip` (dotted quad) lies inside the subnet. */
export function subnetContains(subnet: Ipv4Subnet, ip: string): boolean {
  const n = parseIpv4(ip);
  return n !== undefined && n >= subnet.network && n < subnet.network + subnet.size;
}

/** A locally administered MAC derived from a 32-bit hash: stable for a given pod. */
export function macFromHash(hash: number): string {
  const b = [0x02, 0xfe, (hash >>> 24) & 255, (hash >>> 16) & 255, (hash >>> 8) & 255, hash & 255];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/** FNV-1a, 32 bits: short stable names for interfaces derived from pod ids. */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** An IPv4 prefix: the network as an unsigned 32-bit integer, host bits clear. */
export interface Ipv4Prefix {
  readonly network: number;
  readonly prefixLength: number;
}

/** Parses `a.b.c.d/len` as Kubernetes accepts it (host bits allowed, and cleared); undefined when malformed. */
export function parseIpv4Cidr(text: string): Ipv4Prefix | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const addr = parseIpv4(text.slice(0, slash));
  const lenText = text.slice(slash + 1);
  if (addr === undefined || !/^(3[0-2]|[12]?\d)$/.test(lenText)) return undefined;
  const prefixLength = Number(lenText);
  const size = 2 ** (32 - prefixLength);
  return { network: addr - (addr % size), prefixLength };
}

export function formatIpv4Prefix(p: Ipv4Prefix): string {
  return `${formatIpv4(p.network)}/${p.prefixLength}`;
}

function contains(outer: Ipv4Prefix, inner: Ipv4Prefix): boolean {
  const size = 2 ** (32 - outer.prefixLength);
  return outer.prefixLength <= inner.prefixLength && inner.network - (inner.network % size) === outer.network;
}

/** `base` less every prefix of `except`, as the fewest prefixes, in address order. */
export function subtractPrefixes(base: Ipv4Prefix, except: readonly Ipv4Prefix[]): Ipv4Prefix[] {
  if (except.some((e) => contains(e, base))) return [];
  const out: Ipv4Prefix[] = [];
  splitAround(base, except.filter((e) => contains(base, e)), out);
  return out;
}

/**
 * Appends `p` less `inside` (prefixes within `p`): halves `p` and recurses only into halves that hold
 * an exception, so each exception costs one walk of at most 32 levels (a policy may list thousands).
 */
function splitAround(p: Ipv4Prefix, inside: readonly Ipv4Prefix[], out: Ipv4Prefix[]): void {
  if (inside.length === 0) {
    out.push(p);
    return;
  }
  if (inside.some((e) => e.prefixLength === p.prefixLength)) return; // p itself is excepted
  const len = p.prefixLength + 1;
  const lower = { network: p.network, prefixLength: len };
  const upper = { network: p.network + 2 ** (32 - len), prefixLength: len };
  const lowerInside: Ipv4Prefix[] = [];
  const upperInside: Ipv4Prefix[] = [];
  for (const e of inside) (contains(lower, e) ? lowerInside : upperInside).push(e);
  splitAround(lower, lowerInside, out);
  splitAround(upper, upperInside, out);
}
