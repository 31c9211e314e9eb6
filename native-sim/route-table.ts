// The simulated FIB: per (table, prefix) a list of paths, with VPP's multipath rules. Stored for
// 10^6 routes: one Map per table keyed by the prefix (an IPv4 prefix as one number), a lone path
// kept bare (no array) and shared with every identical path, and a per-interface path count instead
// of an index of keys (interface deletion scans the tables only when that count is not zero).
import { parseIPv4, parsePrefixLength } from '../src/descriptors/ipv4-text.js';

/** `~0`: "no interface" in a path. */
const NO_SW_IF_INDEX = 0xffffffff;

export interface SimPath {
  readonly sw_if_index: number;
  readonly nh: string;
  readonly weight: number;
  readonly preference: number;
}

export interface SimRoute {
  readonly table_id: number;
  readonly is_ip6: boolean;
  readonly prefix: string;
  readonly paths: readonly SimPath[];
}

/** A prefix's paths: one (the common case) is stored bare, more as an array. */
type PathList = SimPath | SimPath[];

/** An IPv4 prefix as `address * 64 + length` (a number costs less than its text); IPv6 as text. */
type PrefixKey = number | string;

interface Fib {
  readonly table_id: number;
  readonly is_ip6: boolean;
  /** prefix → its paths, insertion ordered. */
  readonly entries: Map<PrefixKey, PathList>;
}

function prefixKey(is_ip6: boolean, prefix: string): PrefixKey {
  if (is_ip6) return prefix;
  const slash = prefix.indexOf('/');
  const ip = slash > 0 ? parseIPv4(prefix, 0, slash) : -1;
  const len = ip < 0 ? -1 : parsePrefixLength(prefix, slash + 1);
  // Only text that prints back the same (no "/08") becomes a number.
  if (len < 0 || len > 32 || prefix.length - slash - 1 !== (len < 10 ? 1 : 2)) return prefix;
  return ip * 64 + len;
}

function prefixText(key: PrefixKey): string {
  if (typeof key === 'string') return key;
  const len = key % 64;
  const ip = (key - len) / 64;
  return `${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}/${len}`;
}

/** nh → sw_if_index → the distinct paths (by weight and preference) handed out. */
const SHARED_PATHS = new Map<string, Map<number, SimPath[]>>();
let sharedCount = 0;
/** Distinct paths kept before the pool starts over (bounds memory; a miss only costs an object). */
const SHARED_LIMIT = 1 << 16;

/**
 * A path equal to the arguments, the same object for the same values: at 10^6 routes most paths
 * go through a few next hops, and a shared path costs nothing per route. Paths are never mutated.
 */
export function sharedPath(sw_if_index: number, nh: string, weight: number, preference: number): SimPath {
  let bySw = SHARED_PATHS.get(nh);
  const list = bySw?.get(sw_if_index);
  if (list) for (const p of list) if (p.weight === weight && p.preference === preference) return p;
  const path: SimPath = Object.freeze({ sw_if_index, nh, weight, preference });
  if (sharedCount >= SHARED_LIMIT) {
    SHARED_PATHS.clear();
    sharedCount = 0;
    bySw = undefined;
  }
  if (!bySw) SHARED_PATHS.set(nh, (bySw = new Map()));
  const again = bySw.get(sw_if_index);
  if (again) again.push(path);
  else bySw.set(sw_if_index, [path]);
  sharedCount++;
  return path;
}

function fibKey(table_id: number, is_ip6: boolean): number {
  return table_id * 2 + (is_ip6 ? 1 : 0);
}

/** The next hop a path is identified by: "no next hop" has three spellings. */
function nhIdentity(nh: string): string {
  return nh === '0.0.0.0' || nh === '::' ? '' : nh;
}

/** Whether two paths are the same path of a prefix (same next hop through the same interface). */
export function samePath(a: SimPath, b: SimPath): boolean {
  return a.sw_if_index === b.sw_if_index && (a.nh === b.nh || nhIdentity(a.nh) === nhIdentity(b.nh));
}

function asArray(list: PathList): readonly SimPath[] {
  return Array.isArray(list) ? list : [list as SimPath];
}

/**
 * The routes of every table. It checks nothing the caller must check (tables, interfaces exist);
 * it enforces the path-list rules and answers with booleans, the caller picks the retval.
 */
export class RouteTable {
  readonly #fibs = new Map<number, Fib>();
  /** sw_if_index → how many paths go through it. */
  readonly #pathsVia = new Map<number, number>();
  #size = 0;

  /** Number of prefixes (routes) over all tables. */
  get size(): number {
    return this.#size;
  }

  /** Every route, table by table (fresh plain objects). */
  *values(): IterableIterator<SimRoute> {
    for (const fib of this.#fibs.values()) yield* this.#routesIn(fib);
  }

  /** The routes of one table (fresh plain objects). */
  routesOf(table_id: number, is_ip6: boolean): Iterable<SimRoute> {
    const fib = this.#fibs.get(fibKey(table_id, is_ip6));
    return fib ? this.#routesIn(fib) : [];
  }

  *#routesIn(fib: Fib): IterableIterator<SimRoute> {
    for (const [key, list] of fib.entries) yield { table_id: fib.table_id, is_ip6: fib.is_ip6, prefix: prefixText(key), paths: asArray(list) };
  }

  has(table_id: number, is_ip6: boolean, prefix: string): boolean {
    return this.#fibs.get(fibKey(table_id, is_ip6))?.entries.has(prefixKey(is_ip6, prefix)) ?? false;
  }

  /** Whole-route add (no multipath): false, changing nothing, when the prefix exists. */
  insert(table_id: number, is_ip6: boolean, prefix: string, paths: readonly SimPath[]): boolean {
    const entries = this.#entries(table_id, is_ip6);
    const key = prefixKey(is_ip6, prefix);
    if (entries.has(key)) return false;
    entries.set(key, paths.length === 1 ? (paths[0] as SimPath) : [...paths]);
    this.#size++;
    for (const p of paths) this.#countVia(p, 1);
    return true;
  }

  /** Whole-route delete: false when the prefix does not exist. */
  remove(table_id: number, is_ip6: boolean, prefix: string): boolean {
    const fib = this.#fibs.get(fibKey(table_id, is_ip6));
    const key = prefixKey(is_ip6, prefix);
    const list = fib?.entries.get(key);
    if (!fib || list === undefined) return false;
    fib.entries.delete(key);
    this.#size--;
    for (const p of asArray(list)) this.#countVia(p, -1);
    return true;
  }

  /** Multipath add: adds the path, or replaces weight and preference of the same path in place. */
  addPath(table_id: number, is_ip6: boolean, prefix: string, path: SimPath): void {
    const entries = this.#entries(table_id, is_ip6);
    const key = prefixKey(is_ip6, prefix);
    const list = entries.get(key);
    if (list === undefined) {
      entries.set(key, path);
      this.#size++;
      this.#countVia(path, 1);
    } else if (!Array.isArray(list)) {
      if (samePath(list as SimPath, path)) entries.set(key, path);
      else {
        entries.set(key, [list as SimPath, path]);
        this.#countVia(path, 1);
      }
    } else {
      const i = list.findIndex((p) => samePath(p, path));
      if (i >= 0) list[i] = path;
      else {
        list.push(path);
        this.#countVia(path, 1);
      }
    }
  }

  /** Whether the prefix has this path. */
  hasPath(table_id: number, is_ip6: boolean, prefix: string, path: SimPath): boolean {
    const list = this.#fibs.get(fibKey(table_id, is_ip6))?.entries.get(prefixKey(is_ip6, prefix));
    if (list === undefined) return false;
    return Array.isArray(list) ? list.some((p) => samePath(p, path)) : samePath(list as SimPath, path);
  }

  /** Multipath delete: false when the path is absent; the prefix goes with its last path. */
  removePath(table_id: number, is_ip6: boolean, prefix: string, path: SimPath): boolean {
    const fib = this.#fibs.get(fibKey(table_id, is_ip6));
    const key = prefixKey(is_ip6, prefix);
    const list = fib?.entries.get(key);
    if (!fib || list === undefined) return false;
    if (!Array.isArray(list)) {
      if (!samePath(list as SimPath, path)) return false;
      fib.entries.delete(key);
      this.#size--;
      this.#countVia(list as SimPath, -1);
      return true;
    }
    const i = list.findIndex((p) => samePath(p, path));
    if (i < 0) return false;
    const [gone] = list.splice(i, 1) as [SimPath];
    this.#countVia(gone, -1);
    if (list.length === 1) fib.entries.set(key, list[0] as SimPath);
    else if (list.length === 0) {
      fib.entries.delete(key);
      this.#size--;
    }
    return true;
  }

  /** Drops a table's routes (the table is being deleted). */
  dropTable(table_id: number, is_ip6: boolean): void {
    const key = fibKey(table_id, is_ip6);
    const fib = this.#fibs.get(key);
    if (!fib) return;
    for (const list of fib.entries.values()) for (const p of asArray(list)) this.#countVia(p, -1);
    this.#size -= fib.entries.size;
    this.#fibs.delete(key);
  }

  /** Removes every path through an interface (it is being deleted); a prefix left pathless goes. */
  dropInterface(sw_if_index: number): void {
    if (!this.#pathsVia.has(sw_if_index)) return;
    for (const fib of this.#fibs.values()) {
      // Deleting or re-setting the current entry while iterating a Map is well defined.
      for (const [key, list] of fib.entries) {
        if (!Array.isArray(list)) {
          if ((list as SimPath).sw_if_index !== sw_if_index) continue;
          fib.entries.delete(key);
          this.#size--;
          continue;
        }
        const kept = list.filter((p) => p.sw_if_index !== sw_if_index);
        if (kept.length === list.length) continue;
        if (kept.length === 0) {
          fib.entries.delete(key);
          this.#size--;
        } else fib.entries.set(key, kept.length === 1 ? (kept[0] as SimPath) : kept);
      }
    }
    this.#pathsVia.delete(sw_if_index);
  }

  #entries(table_id: number, is_ip6: boolean): Map<PrefixKey, PathList> {
    const key = fibKey(table_id, is_ip6);
    let fib = this.#fibs.get(key);
    if (!fib) this.#fibs.set(key, (fib = { table_id, is_ip6, entries: new Map() }));
    return fib.entries;
  }

  #countVia(p: SimPath, delta: number): void {
    if (p.sw_if_index === NO_SW_IF_INDEX) return;
    const n = (this.#pathsVia.get(p.sw_if_index) ?? 0) + delta;
    if (n <= 0) this.#pathsVia.delete(p.sw_if_index);
    else this.#pathsVia.set(p.sw_if_index, n);
  }
}
