// The work one shard needs, as plain functions: run in a worker, or inline on the main thread.
import { Packr } from 'msgpackr';
import type { Value } from '../api/values.js';
import { EngineError } from '../api/errors.js';
import type { BinapiRequest } from '../scheduler/binapi-client.js';
import { type CreatePlan, type Descriptor, dependenciesOf as checkedDependencies, descriptorThrew, readClosure, shapeOf } from '../scheduler/descriptor.js';
import type { MetadataAllocator } from '../scheduler/metadata-store.js';
import { deepEqual } from '../scheduler/value-equality.js';
import { ShardView } from './shard-bytes.js';

/**
 * Drop: the delete of a value the dataplane drops by itself with a dependency the same sync
 * deletes (`Descriptor.droppedWithDependencies`); it is sent only so that the dependent goes first,
 * and its failure is not the key's.
 */
export const OpCode = Object.freeze({ Delete: 0, Create: 1, Update: 2, Drop: 3 } as const);
export type OpCode = (typeof OpCode)[keyof typeof OpCode];

/** One wave's ops of one shard, columnar (packs and unpacks fast). */
export interface OpSegment {
  readonly op: number[];
  readonly keys: string[];
  /** Delete: the applied value; create/update: the normalized desired value. */
  readonly values: Value[];
  /** Update: the normalized applied value; otherwise null. */
  readonly olds: Array<Value | null>;
  /**
   * Where each op's entries sit in the diffed shards, two per op: the desired entry's index and the
   * applied one's (-1 for none). Set by `diffShard`; not packed.
   */
  readonly pos?: number[];
  /** Keys of its creates that follow a delete of the same key in the sync (re-creates). Set by `diffShard`; not packed. */
  readonly recreated?: string[];
}

/** [key, error code, message] */
export type KeyFailure = readonly [string, string, string];

/**
 * Kind-level dependencies of the built-in descriptors that `retrieveDependencies` does not state
 * (an interface sits in a VRF table; a DNAT maps to interfaces).
 */
export const BUILTIN_KIND_DEPENDENCIES: Readonly<Record<string, readonly string[]>> = Object.freeze({
  'vpp-interface': ['vpp-vrf-table'],
  'vpp-dnat44': ['vpp-interface'],
});

/**
 * Descriptors by key with their dependency rank: rank r depends only on ranks < r. A value that
 * depends on a value of its own kind (an unnumbered interface) goes to a later sub-wave.
 */
export class KindTable {
  readonly #byPrefix: Descriptor[];
  readonly #rank = new Map<Descriptor, number>();
  readonly maxRank: number;
  /** Key prefixes of the thread-bound kinds. */
  readonly #boundPrefixes: readonly string[];
  /** The kinds each kind declares it depends on. */
  readonly #dependsOn = new Map<Descriptor, ReadonlySet<Descriptor>>();
  /** Key prefixes of the kinds some kind depends on: the values whose removal may cascade. */
  readonly dependencyPrefixes: readonly string[];
  readonly #targets: ReadonlySet<Descriptor>;
  /** Every kind, dependencies first. */
  readonly #byRank: readonly Descriptor[];

  constructor(descriptors: readonly Descriptor[], kindDependencies: Readonly<Record<string, readonly string[]>> = BUILTIN_KIND_DEPENDENCIES) {
    this.#boundPrefixes = descriptors.filter((d) => d.threadBound === true).map((d) => d.keyPrefix);
    this.#byPrefix = [...descriptors].sort((a, b) => b.keyPrefix.length - a.keyPrefix.length);
    const byName = new Map(descriptors.map((d) => [d.name, d]));
    const targets = new Set<Descriptor>();
    for (const d of descriptors) {
      const on = new Set<Descriptor>();
      for (const n of [...(d.retrieveDependencies ?? []), ...(kindDependencies[d.name] ?? [])]) {
        const dd = byName.get(n);
        if (dd) on.add(dd);
      }
      this.#dependsOn.set(d, on);
      for (const dd of on) targets.add(dd);
    }
    this.dependencyPrefixes = [...targets].map((d) => d.keyPrefix);
    this.#targets = targets;
    const rankOf = (d: Descriptor, path: Set<string>): number => {
      const known = this.#rank.get(d);
      if (known !== undefined) return known;
      if (path.has(d.name)) return 0; // a cycle among kinds: keep them in one wave
      path.add(d.name);
      let r = 0;
      for (const n of [...(d.retrieveDependencies ?? []), ...(kindDependencies[d.name] ?? [])]) {
        const dd = byName.get(n);
        if (dd) r = Math.max(r, rankOf(dd, path) + 1);
      }
      path.delete(d.name);
      this.#rank.set(d, r);
      return r;
    };
    let max = 0;
    for (const d of descriptors) max = Math.max(max, rankOf(d, new Set()));
    this.maxRank = max;
    this.#byRank = [...descriptors].sort((a, b) => this.rank(a) - this.rank(b));
  }

  forKey(key: string): Descriptor | undefined {
    for (const d of this.#byPrefix) if (key.startsWith(d.keyPrefix)) return d;
    return undefined;
  }

  rank(d: Descriptor): number {
    return this.#rank.get(d) ?? 0;
  }

  /** The keys of `deps` of the same kind as `d` (a cycle among them can close). */
  sameKind(d: Descriptor, deps: readonly string[]): string[] {
    return deps.filter((k) => this.forKey(k) === d);
  }

  /** Whether the key is of a kind some kind depends on (one `scanGone` reads). */
  isDependencyKey(key: string): boolean {
    const d = this.forKey(key);
    return d !== undefined && this.#targets.has(d);
  }

  /** The readable kinds among `kinds` and what they name through, dependencies first (`readClosure`). */
  readOrder(kinds: Iterable<Descriptor>): Descriptor[] {
    return readClosure(this.#byRank, kinds);
  }

  /** Whether some op of the segment is of a thread-bound kind (its requests are built on the main thread). */
  threadBound(seg: Pick<OpSegment, 'keys'>): boolean {
    const prefixes = this.#boundPrefixes;
    if (prefixes.length === 0) return false;
    // One prefix test per key and bound kind (a resync's segment holds 10⁵ routes); the descriptor
    // lookup only for a key that has such a prefix (a longer prefix may belong to another kind).
    for (const key of seg.keys) {
      for (const p of prefixes) if (key.startsWith(p) && this.forKey(key)?.threadBound === true) return true;
    }
    return false;
  }

  /**
   * The kinds whose values may depend on one of `gone`'s keys (kinds that declare a dependency on a
   * gone key's kind, and that kind itself); null when nothing is gone.
   */
  watchedBy(gone: ReadonlySet<string>): ReadonlySet<Descriptor> | null {
    if (gone.size === 0) return null;
    const kinds = new Set<Descriptor>();
    for (const key of gone) {
      const d = this.forKey(key);
      if (d) kinds.add(d);
    }
    const watched = new Set<Descriptor>(kinds);
    for (const [d, on] of this.#dependsOn) for (const k of kinds) if (on.has(k)) watched.add(d);
    return watched;
  }

  get waveCount(): number {
    return 4 * (this.maxRank + 1);
  }

  /** Deletes first, dependents (high rank, late) before their dependencies; then creates/updates by rank. */
  deleteWave(rank: number, late: boolean): number {
    return 2 * (this.maxRank - rank) + (late ? 0 : 1);
  }

  applyWave(rank: number, late: boolean): number {
    return 2 * (this.maxRank + 1) + 2 * rank + (late ? 1 : 0);
  }

  /** Whether a wave holds deletes. */
  isDeleteWave(wave: number): boolean {
    return wave < 2 * (this.maxRank + 1);
  }

  /** The value depends on another value of its own kind (`deps`: its dependencies, when known). */
  late(d: Descriptor, key: string, value: Value, deps?: readonly string[]): boolean {
    if (deps === undefined) {
      try {
        deps = checkedDependencies(d, key, value);
      } catch {
        return false;
      }
    }
    for (const k of deps) if (this.forKey(k) === d) return true;
    return false;
  }
}

function newSegment(): OpSegment {
  return { op: [], keys: [], values: [], olds: [], pos: [], recreated: [] };
}

function push(seg: OpSegment, op: OpCode, key: string, value: Value, old: Value | null, d: number, a: number): void {
  seg.op.push(op);
  seg.keys.push(key);
  seg.values.push(value);
  seg.olds.push(old);
  seg.pos?.push(d, a);
}

export interface DiffOutcome {
  /** Indexed by wave; undefined where the shard has nothing to do. */
  readonly waves: Array<OpSegment | undefined>;
  readonly failures: KeyFailure[];
  /** Failed keys that end off the dataplane: held back, or invalid with an applied value that goes with its dependency. */
  readonly dropped: string[];
  /**
   * Deletes (not Drops) of applied values that depend on a key the sync takes off, with that value:
   * the dataplane takes the link along, so if such a delete fails the object stays without it.
   */
  readonly unlinked: Array<readonly [string, Value]>;
  /** Desired keys whose orphan (an object with metadata and no applied value) gets a Drop before its create, with the value it is dropped with. */
  readonly orphans: Array<readonly [string, Value]>;
  readonly compared: number;
}

function failure(key: string, err: unknown, fallbackCode: string): KeyFailure {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : fallbackCode;
  return [key, code, typeof e?.message === 'string' ? e.message : String(err)];
}

/** Whether the value depends on one of the keys in `gone`. */
function dependsOnAny(d: Descriptor, key: string, value: Value, gone: ReadonlySet<string>): boolean {
  for (const k of dependenciesOf(d, key, value)) if (gone.has(k)) return true;
  return false;
}

/**
 * Merges the sorted keys of desired and applied: creates what is only desired, deletes what is
 * only applied, updates (or re-creates) what differs. Entries whose value bytes are equal are
 * skipped without decoding anything; desired values are validated only when they differ from the
 * applied ones.
 *
 * `gone` (see `scanGone`, `allGone`): what this sync takes off the dataplane, over every shard. The
 * dataplane drops what depends on it (routes through a deleted interface), so a value that depends
 * on a gone key is re-created too, also when it did not change (for a kind the dataplane drops with
 * it, its delete is a Drop: it may fail, the value goes all the same); a create that depends on a key
 * that does not come back is held back with a typed error. With nothing gone no unchanged value is
 * decoded.
 *
 * `known`: keys with metadata (an object on the dataplane) before the sync. One that is desired and
 * not applied is an orphan (a create whose undo failed left it): it is deleted before it is created,
 * with the value it was made with where `madeWith` has it (a changed type deletes another way).
 */
export function diffShard(
  desired: ShardView,
  applied: ShardView,
  kinds: KindTable,
  { gone, deleted, cyclic = NO_KEYS }: Gone = NOTHING_GONE,
  known: ReadonlySet<string> = NO_KEYS,
  madeWith: ReadonlyMap<string, Value> = NO_VALUES,
): DiffOutcome {
  const waves: Array<OpSegment | undefined> = new Array<OpSegment | undefined>(kinds.waveCount);
  const failures: KeyFailure[] = [];
  const dropped: string[] = [];
  const unlinked: Array<readonly [string, Value]> = [];
  const orphans: Array<readonly [string, Value]> = [];
  const seg = (w: number): OpSegment => (waves[w] ??= newSegment());
  // The kinds that may depend on what goes; null (nothing decoded for it) when nothing does.
  const watched = kinds.watchedBy(deleted.size === 0 ? gone : new Set([...gone, ...deleted]));
  const watchedKind = (key: string): Descriptor | undefined => {
    const d = kinds.forKey(key);
    return d !== undefined && watched !== null && watched.has(d) ? d : undefined;
  };
  /** A create that would follow a dependency this sync deletes is held back with a typed error. */
  const heldBack = (d: Descriptor, key: string, norm: Value): boolean => {
    if (deleted.size === 0 || !dependsOnAny(d, key, norm, deleted)) return false;
    failures.push([key, 'ERR_DEPENDENCY_DELETED', `${key}: not created: a value it depends on is deleted by the same sync, or is not there (${dependenciesOf(d, key, norm).filter((k) => deleted.has(k)).join(', ')})`]);
    return true;
  };
  /** `affected`: its applied value depends on a gone key (a kind the dataplane drops with it gets a Drop). */
  const remove = (d: Descriptor, key: string, old: Value, aj: number, affected: boolean): void => {
    const op = affected && d.droppedWithDependencies === true ? OpCode.Drop : OpCode.Delete;
    if (affected && op === OpCode.Delete) unlinked.push([key, old]);
    push(seg(kinds.deleteWave(kinds.rank(d), kinds.late(d, key, old))), op, key, old, null, -1, aj);
  };
  const create = (d: Descriptor, key: string, norm: Value, di: number, recreate: boolean, deps?: readonly string[]): void => {
    if (heldBack(d, key, norm)) return void dropped.push(key);
    const s = seg(kinds.applyWave(kinds.rank(d), kinds.late(d, key, norm, deps)));
    push(s, OpCode.Create, key, norm, null, di, -1);
    if (recreate) s.recreated?.push(key);
  };
  const dn = desired.length;
  const an = applied.length;
  let i = 0;
  let j = 0;
  let compared = 0;
  while (i < dn || j < an) {
    compared++;
    const order = i >= dn ? 1 : j >= an ? -1 : ShardView.compareKeys(desired, i, applied, j);
    const di = i;
    const aj = j;
    if (order < 0) {
      const key = desired.key(i);
      const v = validDesired(kinds, key, desired.value(i++), failures, cyclic);
      const orphan = known.size > 0 && known.has(key);
      if (!v) {
        // An orphan under an invalid value: deleted for good (what was made on it goes with it).
        const was = orphan ? madeWith.get(key) : undefined;
        const d = kinds.forKey(key);
        if (was !== undefined && d) {
          push(seg(kinds.deleteWave(kinds.rank(d), kinds.late(d, key, was))), OpCode.Drop, key, was, null, di, -1);
          orphans.push([key, was]);
          dropped.push(key);
        }
        continue;
      }
      // An orphan: its object may still be there (a create whose undo failed): deleted first, as a
      // Drop (it may well be gone), with the value it was made with, or the desired value standing in.
      if (orphan) {
        const was = madeWith.get(key) ?? v.norm;
        push(seg(kinds.deleteWave(kinds.rank(v.d), kinds.late(v.d, key, was))), OpCode.Drop, key, was, null, di, -1);
        orphans.push([key, was]);
      }
      create(v.d, key, v.norm, di, orphan, v.deps);
    } else if (order > 0) {
      const key = applied.key(j);
      const d = kinds.forKey(key);
      if (!d) {
        j++;
        continue; // never applied by us
      }
      const old = validOr(d, key, applied.value(j++));
      remove(d, key, old, aj, watched !== null && watched.has(d) && dependsOnAny(d, key, old, gone));
    } else if (ShardView.sameValue(desired, i, applied, j)) {
      // Unchanged: work only if the dataplane drops it with a dependency this sync takes off.
      const key = watched === null ? null : desired.key(i);
      const d = key === null ? undefined : watchedKind(key);
      const named = d === undefined || key === null ? undefined : keyDependencies(d, key);
      if (key === null || d === undefined || (named !== undefined && !gone.has(key) && !named.some((k) => gone.has(k)))) {
        i++;
        j++;
        continue;
      }
      const value = validOr(d, key, desired.value(i++));
      j++;
      const affected = dependsOnAny(d, key, value, gone);
      if (!affected && !gone.has(key)) continue;
      remove(d, key, value, aj, affected);
      create(d, key, value, di, true);
    } else {
      const key = desired.key(i);
      const want = desired.value(i++);
      const had = applied.value(j++);
      const watch = watched === null ? undefined : watchedKind(key);
      if (watch === undefined && deepEqual(want, had)) continue;
      const v = validDesired(kinds, key, want, failures, cyclic);
      if (!v) {
        // Left as applied, unless the dataplane drops it with a dependency: then it goes first.
        const old = watch === undefined ? null : validOr(watch, key, had);
        if (watch !== undefined && old !== null && dependsOnAny(watch, key, old, gone)) {
          remove(watch, key, old, aj, true);
          dropped.push(key);
        }
        continue;
      }
      const { d, norm, deps } = v;
      const old = validOr(d, key, had);
      // Its applied value loses a dependency (the dataplane drops it, or its link): re-created. A
      // value that only comes to depend on a gone key is updated after it, in a later wave.
      const affected = watch !== undefined && dependsOnAny(d, key, old, gone);
      const cascade = affected || (watch !== undefined && gone.has(key));
      // A user descriptor's slip (a comparison that throws) fails its key, left as applied (as the
      // scheduler's planner does).
      const same = cascade ? false : equivalentOr(d, key, old, norm);
      if (same === true) continue;
      if (same instanceof Error) {
        failures.push([key, 'ERR_DESCRIPTOR', same.message]);
        continue;
      }
      // One that comes to depend on a key that does not come back: its old value goes, the new one is held back.
      const orphaned = watch !== undefined && deleted.size > 0 && dependsOnAny(d, key, norm, deleted);
      const recreate = cascade || orphaned || !d.update || recreatesOr(d, key, old, norm);
      if (recreate instanceof Error) {
        failures.push([key, 'ERR_DESCRIPTOR', recreate.message]);
        continue;
      }
      if (recreate) {
        remove(d, key, old, aj, affected);
        create(d, key, norm, di, true, deps);
      } else {
        push(seg(kinds.applyWave(kinds.rank(d), kinds.late(d, key, norm, deps))), OpCode.Update, key, norm, old, di, aj);
      }
    }
  }
  return { waves, failures, dropped, unlinked, orphans, compared };
}

/** What `scanGone` finds in one shard. */
export interface GoneScan {
  /** Keys of dependency kinds this sync deletes or re-creates. */
  readonly gone: string[];
  /** The gone keys that are not desired any more. */
  readonly deleted: string[];
  /** Keys of dependency kinds this sync creates or re-creates, with their desired value's dependencies. */
  readonly coming: Array<readonly [string, readonly string[]]>;
  /**
   * Keys of dependency kinds whose desired value is new or changed and depends on values of its
   * own kind (an unnumbered interface), with those dependencies: where a dependency cycle can close.
   */
  readonly late: Array<readonly [string, readonly string[]]>;
  /** Keys of dependency kinds that new or changed desired values of those kinds depend on. */
  readonly needs: string[];
  /** Keys of dependency kinds both desired and applied (there after the sync, with one value or the other). */
  readonly stays: string[];
  /** Keys of dependency kinds desired with a valid value and not applied (there after the sync unless held back). */
  readonly fresh: string[];
  /**
   * With `kept`: keys of dependency kinds the sync keeps (unchanged or updated), with their applied
   * value's and their desired value's dependencies, and whether the desired value is invalid (it
   * stays as applied; once a dependency goes, it goes for good). Null without.
   */
  readonly kept: Array<readonly [string, readonly string[], readonly string[], boolean]> | null;
}

/** Whether a user descriptor takes `old` and `now` as equal (`equivalent`, else deep equality); what it threw instead. */
function equivalentOr(d: Descriptor, key: string, old: Value, now: Value): boolean | Error {
  try {
    return d.equivalent ? d.equivalent(key, old, now) : deepEqual(old, now);
  } catch (err) {
    return descriptorThrew(d, 'equivalent', key, err);
  }
}

/** Whether a user descriptor re-creates rather than updates (`needsRecreate`); what it threw instead. */
function recreatesOr(d: Descriptor, key: string, old: Value, now: Value): boolean | Error {
  try {
    return d.needsRecreate?.(key, old, now) ?? false;
  } catch (err) {
    return descriptorThrew(d, 'needsRecreate', key, err);
  }
}

/**
 * `dependenciesOfKey`, or undefined (the value is decoded and asked) when it throws or returns no
 * list: a slip of this shortcut costs a decode, not the key.
 */
function keyDependencies(d: Descriptor, key: string): readonly string[] | undefined {
  if (!d.dependenciesOfKey) return undefined;
  try {
    const named = d.dependenciesOfKey(key) as unknown;
    return Array.isArray(named) ? (named as readonly string[]) : undefined;
  } catch {
    return undefined;
  }
}

/** The value's dependencies; none when the descriptor throws. */
export function dependenciesOf(d: Descriptor, key: string, value: Value): readonly string[] {
  try {
    return checkedDependencies(d, key, value);
  } catch {
    return [];
  }
}

/**
 * The values of kinds others depend on (interfaces, VRF tables) that a sync takes off the
 * dataplane, deleted or re-created (decided as `diffShard` decides), with the dependencies of
 * those it creates or re-creates, and (`kept`: needed only once something goes) of those it keeps.
 * Only those kinds' key ranges are read, found by binary search; without `kept` an entry whose
 * bytes did not change is not decoded.
 */
export function scanGone(desired: ShardView, applied: ShardView, kinds: KindTable, kept: boolean, known: ReadonlySet<string>, cyclic: ReadonlySet<string> = NO_KEYS): GoneScan {
  const out = {
    gone: [] as string[],
    deleted: [] as string[],
    coming: [] as Array<readonly [string, readonly string[]]>,
    late: [] as Array<readonly [string, readonly string[]]>,
    needs: [] as string[],
    stays: [] as string[],
    fresh: [] as string[],
    kept: kept ? ([] as Array<readonly [string, readonly string[], readonly string[], boolean]>) : null,
  };
  const noFailures: KeyFailure[] = [];
  /** A new or changed value's dependencies: where a cycle may close, and what must be there. */
  const changed = (d: Descriptor, key: string, deps: readonly string[]): void => {
    const own = kinds.sameKind(d, deps);
    if (own.length > 0) out.late.push([key, own]);
    for (const k of deps) if (kinds.isDependencyKey(k)) out.needs.push(k);
  };
  for (const prefix of kinds.dependencyPrefixes) {
    let i = desired.lowerBound(prefix);
    let j = applied.lowerBound(prefix);
    const inD = (): boolean => i < desired.length && desired.key(i).startsWith(prefix);
    const inA = (): boolean => j < applied.length && applied.key(j).startsWith(prefix);
    for (let di = inD(), aj = inA(); di || aj; di = inD(), aj = inA()) {
      const order = !aj ? -1 : !di ? 1 : ShardView.compareKeys(desired, i, applied, j);
      if (order < 0) {
        const key = desired.key(i);
        const v = validDesired(kinds, key, desired.value(i++), noFailures, cyclic);
        if (!v) {
          // An orphan under an invalid value is deleted for good (`diffShard`).
          if (known.size > 0 && known.has(key)) {
            out.gone.push(key);
            out.deleted.push(key);
          }
          continue;
        }
        const deps = v.deps;
        out.coming.push([key, deps]);
        out.fresh.push(key);
        changed(v.d, key, deps);
        // An orphan's old object is deleted first (`diffShard`): what was made on it goes with it.
        if (known.size > 0 && known.has(key)) out.gone.push(key);
        continue;
      }
      if (order > 0) {
        const key = applied.key(j++);
        if (kinds.forKey(key)) {
          out.gone.push(key);
          out.deleted.push(key);
        }
        continue;
      }
      const key = desired.key(i);
      out.stays.push(key);
      if (out.kept === null && ShardView.sameValue(desired, i, applied, j)) {
        i++;
        j++;
        continue;
      }
      const want = desired.value(i++);
      const had = applied.value(j++);
      const v = validDesired(kinds, key, want, noFailures, cyclic);
      const d = v?.d ?? kinds.forKey(key);
      if (!d) continue;
      const old = validOr(d, key, had);
      // An invalid desired value leaves the applied one in place.
      const now = v ? v.norm : old;
      // A descriptor that throws comparing them: `diffShard` fails the key and leaves it as applied.
      const same = !v || equivalentOr(d, key, old, now) !== false;
      if (!same) changed(d, key, dependenciesOf(d, key, now));
      if (!same && (!d.update || recreatesOr(d, key, old, now) === true)) {
        out.gone.push(key);
        out.coming.push([key, dependenciesOf(d, key, now)]);
      } else if (out.kept !== null) {
        const before = dependenciesOf(d, key, old);
        out.kept.push([key, before, now === old ? before : dependenciesOf(d, key, now), !v]);
      }
    }
  }
  return out;
}

/** What a sync takes off the dataplane, over every shard. */
export interface Gone {
  /** Keys deleted or re-created: what depends on one is re-created. */
  readonly gone: ReadonlySet<string>;
  /**
   * Keys that are not on the dataplane after the sync: deleted, or held back because they depend
   * (transitively) on a deleted one. What depends on one is held back, not created.
   */
  readonly deleted: ReadonlySet<string>;
  /** New or changed desired values in a dependency cycle (`findCycles`): refused like invalid ones. */
  readonly cyclic?: ReadonlySet<string>;
}

export const NOTHING_GONE: Gone = Object.freeze({ gone: new Set<string>(), deleted: new Set<string>() });
const NO_KEYS: ReadonlySet<string> = new Set();
const NO_VALUES: ReadonlyMap<string, Value> = new Map();

/** Adds to `set` every entry's key that depends on a key of `set`, transitively (a search over the reverse edges). */
function closeOver(set: Set<string>, entries: Iterable<readonly [string, readonly string[]]>): void {
  const dependents = new Map<string, string[]>();
  for (const [key, deps] of entries) {
    for (const dep of deps) {
      const list = dependents.get(dep);
      if (list) list.push(key);
      else dependents.set(dep, [key]);
    }
  }
  const todo = [...set];
  for (let k = todo.pop(); k !== undefined; k = todo.pop()) {
    for (const key of dependents.get(k) ?? []) {
      if (set.has(key)) continue;
      set.add(key);
      todo.push(key);
    }
  }
}

/** Whether a scan found a key that goes (only then are the shards scanned again with `kept`). */
export function anyGone(scans: readonly GoneScan[]): boolean {
  return scans.some((s) => s.gone.length > 0);
}

/**
 * Closes the scans (made with `kept`) over dependencies: a kept value whose applied value depends
 * on a gone key goes too (the dataplane drops it or its link: it is re-created); a value created,
 * re-created or updated whose desired value depends on a key that does not come back, or on a
 * `missing` one (not there after the sync, nor before), is held back (deleted).
 */
export function allGone(scans: readonly GoneScan[], missing: ReadonlySet<string> = NO_KEYS): Gone {
  if (!anyGone(scans) && missing.size === 0) return NOTHING_GONE;
  const gone = new Set<string>();
  const deleted = new Set<string>(missing);
  for (const s of scans) for (const k of s.gone) gone.add(k);
  for (const s of scans) for (const k of s.deleted) deleted.add(k);
  const kept = scans.flatMap((s) => s.kept ?? []);
  const before = kept.map(([key, deps]) => [key, deps] as const);
  const coming = scans.flatMap((s) => s.coming);
  // Until nothing more goes: a kept value whose applied value depends on a gone key goes (it is
  // re-created); a value created, re-created or updated whose desired value depends on a deleted
  // key is held back, so it is deleted too, and what depends on it goes in the next round. An
  // invalid desired value is not created again: it is deleted once its applied value goes.
  for (let size = -1; size !== gone.size + deleted.size; ) {
    size = gone.size + deleted.size;
    closeOver(gone, before);
    const creating: Array<readonly [string, readonly string[]]> = [...coming];
    for (const [key, , now, invalid] of kept) {
      if (!invalid) creating.push([key, now]);
      else if (gone.has(key)) deleted.add(key);
    }
    closeOver(deleted, creating);
    for (const [key] of kept) if (deleted.has(key)) gone.add(key);
  }
  return { gone, deleted };
}

/**
 * The `late` keys (new or changed values, `GoneScan.late`) that lie on a dependency cycle among
 * values of their own kind; `depsOf` gives the own-kind dependencies of any other desired key (null:
 * not desired or invalid). Strongly connected components (Tarjan, without recursion: a chain of
 * unnumbered interfaces may be long); only new or changed values are refused: the applied values of
 * the others form no cycle, and without the refused ones none closes.
 */
export function findCycles(late: ReadonlyArray<readonly [string, readonly string[]]>, depsOf: (key: string) => readonly string[] | null): Set<string> {
  const out = new Set<string>();
  if (late.length === 0) return out;
  const edges = new Map<string, readonly string[]>(late);
  const lateKeys = new Set(edges.keys());
  const next = (key: string): readonly string[] => {
    let e = edges.get(key);
    if (e === undefined) edges.set(key, (e = depsOf(key) ?? []));
    return e;
  };
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  let counter = 0;
  for (const [root] of late) {
    if (index.has(root)) continue;
    // Frames of the walk: a key and how many of its edges were followed.
    const walk: Array<{ key: string; at: number }> = [{ key: root, at: 0 }];
    index.set(root, counter);
    low.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (walk.length > 0) {
      const top = walk[walk.length - 1] as { key: string; at: number };
      const deps = next(top.key);
      if (top.at < deps.length) {
        const dep = deps[top.at++] as string;
        if (!index.has(dep)) {
          index.set(dep, counter);
          low.set(dep, counter++);
          stack.push(dep);
          onStack.add(dep);
          walk.push({ key: dep, at: 0 });
        } else if (onStack.has(dep)) {
          low.set(top.key, Math.min(low.get(top.key) as number, index.get(dep) as number));
        }
        continue;
      }
      walk.pop();
      const parent = walk[walk.length - 1];
      if (parent) low.set(parent.key, Math.min(low.get(parent.key) as number, low.get(top.key) as number));
      if (low.get(top.key) !== index.get(top.key)) continue;
      // top is the root of a component: pop it; more than one key, or a key naming itself, is a cycle.
      const component: string[] = [];
      for (let k = stack.pop(); k !== undefined; k = stack.pop()) {
        onStack.delete(k);
        component.push(k);
        if (k === top.key) break;
      }
      if (component.length > 1 || next(top.key).includes(top.key)) for (const k of component) if (lateKeys.has(k)) out.add(k);
    }
  }
  return out;
}

/**
 * Keys of dependency kinds that new or changed values of those kinds depend on and that are not
 * there after the sync, nor were before (neither desired nor applied, or desired as a new value
 * that is refused): what depends on one is held back, as on a deleted key, and an update is not
 * sent half way (an interface moved into a VRF table that is not there).
 */
export function missingOf(scans: readonly GoneScan[], cyclic: ReadonlySet<string>, scanned: (key: string) => boolean): Set<string> {
  const missing = new Set<string>();
  if (!scans.some((s) => s.needs.length > 0)) return missing;
  const there = new Set<string>();
  for (const s of scans) {
    for (const k of s.stays) there.add(k);
    for (const k of s.fresh) if (!cyclic.has(k)) there.add(k);
  }
  for (const s of scans) for (const k of s.needs) if (!there.has(k) && scanned(k)) missing.add(k);
  return missing;
}

/** A desired value's dependencies on values of its own kind; null when it is not desired, has no descriptor or is invalid. */
export function ownKindDependencies(kinds: KindTable, key: string, value: Value | undefined): readonly string[] | null {
  const d = kinds.forKey(key);
  if (value === undefined || !d) return null;
  try {
    return kinds.sameKind(d, dependenciesOf(d, key, d.validate(key, value)));
  } catch {
    return null;
  }
}

/** A desired value's descriptor, normalized form and dependencies, or null with the key's failure recorded. */
function validDesired(kinds: KindTable, key: string, want: Value, failures: KeyFailure[], cyclic: ReadonlySet<string> = NO_KEYS): { d: Descriptor; norm: Value; deps: readonly string[] } | null {
  const d = kinds.forKey(key);
  if (!d) {
    failures.push([key, 'ERR_UNIMPLEMENTED_KEY', `${key}: no descriptor handles this key`]);
    return null;
  }
  if (cyclic.size > 0 && cyclic.has(key)) {
    failures.push([key, 'ERR_DEPENDENCY_CYCLE', `${key}: not applied: it depends on itself through values of its own kind (a dependency cycle)`]);
    return null;
  }
  try {
    const norm = d.validate(key, want);
    // Dependencies that throw or are not keys make the value invalid, as in the scheduler.
    return { d, norm, deps: checkedDependencies(d, key, norm) };
  } catch (err) {
    failures.push(failure(key, err, 'ERR_INVALID_VALUE'));
    return null;
  }
}

/** Applied values were valid when applied; normalizing again keeps descriptors on their own form. */
function validOr(d: Descriptor, key: string, v: Value): Value {
  try {
    return d.validate(key, v);
  } catch {
    return v;
  }
}

/** Where encoded requests go: a ring (worker) or a batch for the connector (inline). */
export interface RequestSink {
  /**
   * Sends one op's requests, all or none: a request that cannot be encoded or is larger than a
   * frame may be throws `InvalidMessageError` / `FrameTooLargeError` with none of them sent (the
   * op fails alone). Any other error (a stalled ring) ends the whole segment.
   */
  sendAll(reqs: readonly BinapiRequest[]): void;
}

/** The error a sink throws for one op's requests it refuses (see `RequestSink`). */
export function isRefusedRequest(err: unknown): err is EngineError {
  return err instanceof EngineError && (err.code === 'ERR_INVALID_MESSAGE' || err.code === 'ERR_FRAME_TOO_LARGE');
}

export const Stage = Object.freeze({ Main: 0, Configure: 1 } as const);
export type Stage = (typeof Stage)[keyof typeof Stage];

export interface EncodeOutcome {
  /** Op index of every request sent, in send order. */
  readonly frameOp: Int32Array;
  readonly frames: number;
  /** [op index, reply field] of creates whose first reply carries the key's metadata. */
  readonly captures: Array<readonly [number, string]>;
  /** [key, metadata] known up front (allocated ids). */
  readonly metadata: Array<readonly [string, number]>;
  /** [op index, code, message] of ops whose requests could not be built. */
  readonly failures: Array<readonly [number, string, string]>;
  /** Some create has configure requests, or some update is deferred to that stage: run this segment again in the Configure stage. */
  readonly needsConfigure: boolean;
}

/** Builds each op's requests (descriptors) and hands them to `sink` in op order; creates of `skip`'s keys are left out. */
export function encodeSegment(seg: OpSegment, stage: Stage, kinds: KindTable, md: MetadataAllocator, sink: RequestSink, skip?: ReadonlySet<string>): EncodeOutcome {
  let frameOp = new Int32Array(Math.max(16, seg.keys.length));
  let frames = 0;
  const captures: Array<readonly [number, string]> = [];
  const metadata: Array<readonly [string, number]> = [];
  const failures: Array<readonly [number, string, string]> = [];
  let needsConfigure = false;
  for (let i = 0; i < seg.keys.length; i++) {
    const key = seg.keys[i] as string;
    const op = seg.op[i] as OpCode;
    if (skip !== undefined && op === OpCode.Create && skip.has(key)) continue;
    const d = kinds.forKey(key);
    if (!d) {
      failures.push([i, 'ERR_UNIMPLEMENTED_KEY', `${key}: no descriptor handles this key`]);
      continue;
    }
    let reqs: readonly BinapiRequest[];
    let plan: CreatePlan | null = null;
    // An update to a value of its own kind (late: an interface made unnumbered to another) may name
    // a value created in the same wave, whose metadata (sw_if_index) only that create's reply tells:
    // it is built in the Configure stage, after the Main stage of every segment of the wave.
    const deferred = op === OpCode.Update && kinds.late(d, key, seg.values[i] as Value);
    if (stage === Stage.Main && deferred) {
      needsConfigure = true;
      continue;
    }
    try {
      if (stage === Stage.Configure && !deferred) {
        if (op !== OpCode.Create || !d.configure) continue;
        reqs = d.configure(key, seg.values[i] as Value, md);
      } else if (op === OpCode.Delete || op === OpCode.Drop) {
        reqs = d.delete(key, seg.values[i] as Value, md);
      } else if (op === OpCode.Update) {
        reqs = (d.update as NonNullable<Descriptor['update']>)(key, seg.olds[i] as Value, seg.values[i] as Value, md);
      } else {
        const p = d.create(key, seg.values[i] as Value, md) as unknown;
        if (typeof p !== 'object' || p === null || !Array.isArray((p as CreatePlan).requests)) throw new TypeError(`create() returned ${shapeOf(p)}, expected { requests: [...] }`);
        plan = p as CreatePlan;
        reqs = plan.requests;
      }
      // A user descriptor's slip fails its op, typed, like any descriptor error (never a TypeError below).
      if (!Array.isArray(reqs)) throw new TypeError(`returned ${shapeOf(reqs)}, expected an array of requests`);
    } catch (err) {
      const f = failure(key, err, 'ERR_DESCRIPTOR');
      failures.push([i, f[1], f[2]]);
      continue;
    }
    try {
      sink.sendAll(reqs);
    } catch (err) {
      if (!isRefusedRequest(err)) throw err;
      failures.push([i, err.code, err.message]);
      continue;
    }
    if (plan !== null) {
      if (plan.metadata !== undefined) metadata.push([key, plan.metadata]);
      if (plan.capture !== undefined && reqs.length > 0) captures.push([frames, plan.capture]);
      if (d.configure) needsConfigure = true;
    }
    if (frames + reqs.length > frameOp.length) {
      const grown = new Int32Array(Math.max(frameOp.length * 2, frames + reqs.length));
      grown.set(frameOp);
      frameOp = grown;
    }
    for (let r = 0; r < reqs.length; r++) frameOp[frames++] = i;
  }
  // captures hold frame indices; the caller maps them to ops through frameOp.
  return { frameOp: frameOp.subarray(0, frames), frames, captures, metadata, failures, needsConfigure };
}

const segmentPackr = new Packr({ useRecords: true, moreTypes: false });

export function packSegment(seg: OpSegment): Uint8Array {
  return segmentPackr.pack({ op: seg.op, keys: seg.keys, values: seg.values, olds: seg.olds });
}

/**
 * The ops `diffShard` planned, rebuilt from their positions in the same two shards: keys and the
 * values normalized as the diff normalized them (they validated then; validation is pure).
 */
export function segmentAt(desired: ShardView, applied: ShardView, ops: Uint8Array, pos: Int32Array, kinds: KindTable): OpSegment {
  const seg = newSegment();
  for (let k = 0; k < ops.length; k++) {
    const op = ops[k] as OpCode;
    const d = pos[2 * k] as number;
    const a = pos[2 * k + 1] as number;
    const key = d >= 0 ? desired.key(d) : applied.key(a);
    const desc = kinds.forKey(key);
    const norm = (v: Value): Value => (desc ? validOr(desc, key, v) : v);
    // A delete reads the applied value; an orphan's (no applied entry) the desired one.
    const value = (op === OpCode.Delete || op === OpCode.Drop) && a >= 0 ? norm(applied.value(a)) : norm(desired.value(d));
    push(seg, op, key, value, op === OpCode.Update ? norm(applied.value(a)) : null, d, a);
  }
  return seg;
}

/** Only the keys and op codes of `segmentAt` (what the main thread needs to report per key). */
export function keysAt(desired: ShardView, applied: ShardView, ops: Uint8Array, pos: Int32Array): OpSegment {
  const keys: string[] = [];
  for (let k = 0; k < ops.length; k++) {
    const d = pos[2 * k] as number;
    keys.push(d >= 0 ? desired.key(d) : applied.key(pos[2 * k + 1] as number));
  }
  return { op: Array.from(ops), keys, values: [], olds: [] };
}

export function unpackSegment(bytes: Uint8Array): OpSegment {
  return new Packr({ useRecords: true, moreTypes: false }).unpack(bytes) as OpSegment;
}

/** The ids one task may hand out, for every prefix: `[base, base + size)`; tasks' ranges never overlap. */
export interface AllocRange {
  readonly base: number;
  readonly size: number;
}

/** A metadata store for one task: known entries, and ids allocated from a range of its own. */
export class TaskMetadata implements MetadataAllocator {
  readonly #byKey: Map<string, number>;
  readonly #next = new Map<string, number>();
  readonly #range: AllocRange;
  readonly #held = new Map<string, Set<number>>();
  /** The highest id handed out so far, -1 for none (the pool's next ranges start above it). */
  highest = -1;

  constructor(entries: ReadonlyArray<readonly [string, number]>, range: AllocRange) {
    this.#byKey = new Map(entries);
    this.#range = range;
  }

  get(key: string): number | undefined {
    return this.#byKey.get(key);
  }

  keyOf(keyPrefix: string, index: number): string | undefined {
    for (const [k, v] of this.#byKey) if (v === index && k.startsWith(keyPrefix)) return k;
    return undefined;
  }

  /**
   * Throws (the key's create fails) rather than hand out an id of another task's range. Skips ids
   * a key of the prefix holds: after a very long run the ranges start over low, among ids in use.
   */
  allocate(keyPrefix: string): number {
    const { base, size } = this.#range;
    let n = this.#next.get(keyPrefix) ?? base;
    const held = this.#heldBy(keyPrefix);
    while (n < base + size && held.has(n)) n++;
    if (n >= base + size) throw new RangeError(`${keyPrefix}: more than ${size} ids allocated by one task`);
    this.#next.set(keyPrefix, n + 1);
    if (n > this.highest) this.highest = n;
    return n;
  }

  set(key: string, v: number): void {
    this.#byKey.set(key, v);
    this.#held.get(prefixOfHeld(this.#held, key))?.add(v);
  }

  /** The ids keys of `prefix` hold, gathered on the first allocation of the prefix (creates that allocate are rare). */
  #heldBy(prefix: string): Set<number> {
    let held = this.#held.get(prefix);
    if (held === undefined) {
      held = new Set();
      for (const [k, v] of this.#byKey) if (k.startsWith(prefix)) held.add(v);
      this.#held.set(prefix, held);
    }
    return held;
  }
}

/** The gathered prefix `key` falls under ('' when none). */
function prefixOfHeld(held: ReadonlyMap<string, Set<number>>, key: string): string {
  for (const p of held.keys()) if (key.startsWith(p)) return p;
  return '';
}
