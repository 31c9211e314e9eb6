import { isIPv4, isIPv6 } from 'node:net';
import { VppRetval } from '../src/binapi/retval.js';
import { parseIPv4, parsePrefixLength } from '../src/descriptors/ipv4-text.js';

/** A request field VPP would reject; carries the retval the reply gets. */
export class FieldError extends Error {
  readonly retval: number;
  constructor(retval: number, message: string) {
    super(message);
    this.retval = retval;
  }
}

export type Fields = Readonly<Record<string, unknown>>;

function invalid(name: string, what: string, got: unknown): FieldError {
  return new FieldError(VppRetval.INVALID_VALUE, `${name}: expected ${what}, got ${typeof got}`);
}

export function u32(f: Fields, name: string, fallback?: number): number {
  const v = f[name];
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) throw invalid(name, 'u32', v);
  return v;
}

export function bool(f: Fields, name: string, fallback?: boolean): boolean {
  const v = f[name];
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v === 'boolean') return v;
  if (v === 0 || v === 1) return v === 1;
  throw invalid(name, 'boolean', v);
}

export function str(f: Fields, name: string, fallback?: string): string {
  const v = f[name];
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== 'string') throw invalid(name, 'string', v);
  return v;
}

export function obj(f: Fields, name: string): Fields {
  const v = f[name];
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid(name, 'object', v);
  return v as Fields;
}

export function arr(f: Fields, name: string, fallback?: readonly unknown[]): readonly unknown[] {
  const v = f[name];
  if (v === undefined && fallback !== undefined) return fallback;
  if (!Array.isArray(v)) throw invalid(name, 'array', v);
  return v;
}

export function asFields(v: unknown, name: string): Fields {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid(name, 'object', v);
  return v as Fields;
}

export interface IpAddress {
  readonly ip: string;
  readonly v6: boolean;
}

export interface IpPrefix extends IpAddress {
  readonly len: number;
  /** Canonical `ip/len`. */
  readonly key: string;
}

/** Canonical text of an IP address, or null when it is not one. */
export function canonicalIp(text: string): IpAddress | null {
  if (parseIPv4(text) >= 0 || isIPv4(text)) return { ip: text, v6: false };
  if (isIPv6(text) && !text.includes('%')) {
    // The WHATWG URL parser prints IPv6 hosts in their canonical compressed form.
    const host = new URL(`http://[${text}]/`).hostname;
    return { ip: host.slice(1, -1), v6: true };
  }
  return null;
}

/** Valid IPv4 next hops seen recently: the same few addresses come back in every route message. */
const ADDRESS_CACHE = new Map<string, IpAddress>();
/**
 * Valid IPv6 prefixes seen recently, by request text (their parse is dear). IPv4 text is parsed
 * every time: that costs about what a cache hit does, and a cache that thrashes (a resync of 10⁵
 * distinct prefixes) costs several times more per miss.
 */
const PREFIX_CACHE = new Map<string, IpPrefix>();
/** Entries per cache before it starts over (bounds memory; a miss only costs a parse). */
const CACHE_LIMIT = 1 << 16;

function remember<T>(cache: Map<string, T>, text: string, value: T): T {
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(text, value);
  return value;
}

export function ipAddress(f: Fields, name: string): IpAddress {
  const text = str(f, name);
  const hit = ADDRESS_CACHE.get(text);
  if (hit !== undefined) return hit;
  const ip = canonicalIp(text);
  if (!ip) throw new FieldError(VppRetval.INVALID_VALUE, `${name}: invalid IP address "${text}"`);
  return ip.v6 ? ip : remember(ADDRESS_CACHE, text, Object.freeze(ip));
}

export function ipPrefix(f: Fields, name: string): IpPrefix {
  const text = str(f, name);
  const slash = text.indexOf('/');
  // Built only on failure: an Error captures a stack, far too dear for every valid prefix.
  const bad = (): FieldError => new FieldError(VppRetval.INVALID_VALUE, `${name}: invalid prefix "${text}"`);
  if (slash < 0) throw bad();
  if (parseIPv4(text, 0, slash) >= 0) {
    // IPv4 text is canonical: only the length may need normalising ("/08" is 8).
    const len = parsePrefixLength(text, slash + 1);
    if (len < 0 || len > 32) throw bad();
    const ip = text.slice(0, slash);
    return { ip, v6: false, len, key: text.length - slash - 1 === String(len).length ? text : `${ip}/${len}` };
  }
  const hit = PREFIX_CACHE.get(text);
  if (hit !== undefined) return hit;
  const ip = canonicalIp(text.slice(0, slash));
  const lenText = text.slice(slash + 1);
  if (!ip || !/^\d{1,3}$/.test(lenText)) throw bad();
  const len = Number(lenText);
  if (len > (ip.v6 ? 128 : 32)) throw bad();
  return remember(PREFIX_CACHE, text, Object.freeze({ ...ip, len, key: `${ip.ip}/${len}` }));
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

/** A MAC address (lower case), or '' when the field is absent or empty (= "choose one"). */
export function macAddress(f: Fields, name: string, optional: boolean): string {
  const v = f[name];
  if (optional && (v === undefined || v === '')) return '';
  const text = str(f, name);
  if (!MAC.test(text)) throw new FieldError(VppRetval.INVALID_VALUE, `${name}: invalid MAC address "${text}"`);
  return text.toLowerCase();
}
