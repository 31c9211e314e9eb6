import { isIP } from 'node:net';
import { InvalidValueError } from '../scheduler/errors.js';
import { parseIPv4, parsePrefixLength } from './ipv4-text.js';

/** The longest name a VPP tag holds. */
export const MAX_NAME_BYTES = 63;

/** Field readers that throw `InvalidValueError` naming the key and field. */
export class FieldReader {
  readonly key: string;
  readonly #v: Readonly<Record<string, unknown>>;
  readonly #where: string;

  constructor(key: string, value: unknown, where = '') {
    this.key = key;
    this.#where = where;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new InvalidValueError(key, `${where || 'value'} must be an object, received ${describe(value)}`);
    }
    this.#v = value as Readonly<Record<string, unknown>>;
  }

  fail(field: string, expected: string, got: unknown): never {
    throw new InvalidValueError(this.key, `${this.#where}${field} must be ${expected}, received ${describe(got)}`);
  }

  has(field: string): boolean {
    return this.#v[field] !== undefined && this.#v[field] !== null;
  }

  raw(field: string): unknown {
    return this.#v[field];
  }

  string(field: string, dflt?: string): string {
    const v = this.#v[field] ?? dflt;
    if (typeof v !== 'string') this.fail(field, 'a string', v);
    return v;
  }

  name(field: string, dflt?: string): string {
    const v = this.string(field, dflt);
    if (v === '' || v.includes('/')) this.fail(field, 'a non-empty name without "/"', v);
    // Names travel as VPP tags: 64 bytes with the terminating NUL.
    return this.#fits(field, 'name', v);
  }

  /** Free text the dataplane keeps in a 64-byte field (NUL included). */
  text(field: string): string {
    return this.#fits(field, 'text', this.string(field));
  }

  #fits(field: string, what: string, v: string): string {
    const bytes = Buffer.byteLength(v);
    if (bytes > MAX_NAME_BYTES) this.fail(field, `a ${what} of at most ${MAX_NAME_BYTES} bytes`, `a ${what} of ${bytes} bytes`);
    return v;
  }

  bool(field: string, dflt: boolean): boolean {
    const v = this.#v[field] ?? dflt;
    if (typeof v !== 'boolean') this.fail(field, 'a boolean', v);
    return v;
  }

  uint(field: string, dflt?: number, max = 0xffffffff): number {
    const v = this.#v[field] ?? dflt;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) this.fail(field, `an integer in 0..${max}`, v);
    return v;
  }

  optUint(field: string, max = 0xffffffff): number | undefined {
    return this.has(field) ? this.uint(field, undefined, max) : undefined;
  }

  oneOf<T extends string>(field: string, allowed: readonly T[], dflt?: T): T {
    const v = this.#v[field] ?? dflt;
    if (typeof v !== 'string' || !allowed.includes(v as T)) this.fail(field, `one of ${allowed.join(', ')}`, v);
    return v as T;
  }

  ip(field: string): string {
    const v = this.string(field);
    if (parseIPv4(v) >= 0) return v;
    if (isIP(v) === 0) this.fail(field, 'an IP address', v);
    return canonicalIp(v);
  }

  ipv4(field: string): string {
    const v = this.string(field);
    if (parseIPv4(v) < 0) this.fail(field, 'an IPv4 address', v);
    return v;
  }

  mac(field: string): string {
    const v = this.string(field);
    if (!MAC.test(v)) this.fail(field, 'a MAC address like aa:bb:cc:dd:ee:ff', v);
    return v.toLowerCase();
  }

  cidr(field: string, v: unknown = this.#v[field]): string {
    if (typeof v !== 'string' || !isCidr(v)) this.fail(field, 'a CIDR like 10.0.0.1/24', v);
    const slash = v.indexOf('/');
    // "/024": the dataplane gives the length back as "/24", and the value would never match it.
    if (paddedLength(v, slash)) this.fail(field, 'a CIDR like 10.0.0.1/24 (no leading zero in the prefix length)', v);
    return canonicalCidr(v);
  }

  array(field: string): readonly unknown[] {
    const v = this.#v[field] ?? [];
    if (!Array.isArray(v)) this.fail(field, 'an array', v);
    return v;
  }

  object(field: string): FieldReader | undefined {
    const v = this.#v[field];
    if (v === undefined || v === null) return undefined;
    return new FieldReader(this.key, v, `${this.#where}${field}.`);
  }
}

const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

/** The dataplane's textual form of an address: IPv6 compressed and lower-case. */
export function canonicalIp(ip: string): string {
  if (parseIPv4(ip) >= 0 || isIP(ip) !== 6) return ip;
  // The WHATWG URL parser prints IPv6 hosts in their canonical compressed form.
  return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
}

/** Whether the prefix length after `slash` has a leading zero ("/024"; "/0" is fine). */
function paddedLength(cidr: string, slash: number): boolean {
  return cidr.length - slash > 2 && cidr.charCodeAt(slash + 1) === 48;
}

/** A CIDR with its address in canonical form (IPv4 text, which validation accepts only canonical, as given). */
export function canonicalCidr(cidr: string): string {
  const slash = cidr.indexOf('/');
  if (slash < 0 || parseIPv4(cidr, 0, slash) >= 0) return cidr;
  const ip = cidr.slice(0, slash);
  const canonical = canonicalIp(ip);
  // Keep the caller's string when it is canonical already: no copies per stored value.
  return canonical === ip ? cidr : `${canonical}${cidr.slice(slash)}`;
}

export function isCidr(v: string): boolean {
  const slash = v.indexOf('/');
  if (slash < 0) return false;
  if (parseIPv4(v, 0, slash) >= 0) {
    const len = parsePrefixLength(v, slash + 1);
    return len >= 0 && len <= 32;
  }
  const ip = v.slice(0, slash);
  const lenText = v.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lenText)) return false;
  const fam = isIP(ip);
  const len = Number(lenText);
  return (fam === 4 && len <= 32) || (fam === 6 && len <= 128);
}

export function isIPv6(addr: string): boolean {
  const slash = addr.indexOf('/');
  const end = slash < 0 ? addr.length : slash;
  if (parseIPv4(addr, 0, end) >= 0) return false;
  return isIP(addr.slice(0, end)) === 6;
}

/** `ipv4Network` of a CIDR that is not an IPv4 one. */
export const NOT_IPV4_CIDR = -2;
/** `ipv4Network` of an IPv4 CIDR with host bits set. */
export const IPV4_HOST_BITS = -1;

/**
 * One pass over an IPv4 CIDR (the form `isCidr` accepts): its address when the host bits are zero,
 * IPV4_HOST_BITS when they are not, NOT_IPV4_CIDR for anything else (IPv6, malformed).
 */
export function ipv4Network(cidr: string): number {
  const slash = cidr.indexOf('/');
  const addr = slash < 0 || paddedLength(cidr, slash) ? -1 : parseIPv4(cidr, 0, slash);
  if (addr < 0) return NOT_IPV4_CIDR;
  const len = parsePrefixLength(cidr, slash + 1);
  if (len < 0 || len > 32) return NOT_IPV4_CIDR;
  return len === 32 || addr % 2 ** (32 - len) === 0 ? addr : IPV4_HOST_BITS;
}

/** For IPv4 CIDRs: whether the host bits are zero (a network address). IPv6 is not checked. */
export function isNetworkAddress(cidr: string): boolean {
  const slash = cidr.indexOf('/');
  const fast = slash < 0 ? -1 : parseIPv4(cidr, 0, slash);
  if (fast >= 0) {
    const len = parsePrefixLength(cidr, slash + 1);
    if (len >= 0 && len <= 32) return len === 32 || fast % 2 ** (32 - len) === 0;
  }
  const [ip, lenText] = cidr.split('/');
  if (isIP(ip ?? '') !== 4) return true;
  const len = Number(lenText);
  const parts = (ip as string).split('.').map(Number);
  const n = (((parts[0] ?? 0) << 24) | ((parts[1] ?? 0) << 16) | ((parts[2] ?? 0) << 8) | (parts[3] ?? 0)) >>> 0;
  const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  return ((n & ~mask) >>> 0) === 0;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `"${v}"`;
  return `${typeof v} ${String(v)}`;
}

/** Sorted copy without duplicates. */
export function sortedUnique(items: readonly string[]): string[] {
  return [...new Set(items)].sort();
}
