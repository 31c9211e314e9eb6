import type { KeyError } from '../api/errors.js';
import type { Value } from '../api/values.js';
import { dependenciesOf, descriptorThrew, type Descriptor } from './descriptor.js';
import { deepEqual } from './value-equality.js';

/** What the planner reads about one key: plain data. */
export interface PlanKeyView {
  /** The value the dataplane should hold (undefined: none, also for invalid values). */
  readonly want: Value | undefined;
  /** What the dataplane holds. */
  readonly applied: Value | undefined;
  /** The last operation on the key failed: `applied` may not be what the dataplane holds. */
  readonly dirty?: boolean;
}

/** Read-only view of the scheduler state the planner works on. */
export interface PlanInput {
  view(key: string): PlanKeyView | undefined;
  /** Keys whose desired or applied value depends on `key`. */
  dependents(key: string): Iterable<string> | undefined;
  descriptor(key: string): Descriptor | undefined;
  /** Keys whose object exists but was left half made (a configure that failed on a kind without `retrieve`): re-created. */
  readonly halfMade?: ReadonlySet<string>;
}

export type PlannedOpKind = 'create' | 'update' | 'delete';

export interface PlannedOp {
  readonly key: string;
  readonly op: PlannedOpKind;
  /** The value created / updated to, or (delete) the applied value removed. */
  readonly value: Value;
  /** Update: the applied value before. */
  readonly old?: Value;
  /** Indices of ops (in `Plan.ops`) that must succeed first. */
  readonly after: readonly number[];
  /** 0 = first wave; deletes are all in wave 0 (in order, dependents first). */
  readonly level: number;
  /** Why it is in the plan when not asked for directly ('recreate', 'cascade'). */
  readonly note?: string;
}

export interface Plan {
  /** Deletes first (dependents before their dependencies), then creates/updates dependencies-first. */
  readonly ops: readonly PlannedOp[];
  /** Keys that are desired but cannot be created: a dependency is missing. */
  readonly pending: readonly string[];
  /**
   * Dirty keys the plan looked at (to act on them or on what depends on them): the plan trusted
   * their possibly stale `applied`. Re-read them and plan again before executing it.
   */
  readonly stale: readonly string[];
  /**
   * Keys whose descriptor threw while comparing their applied and wanted values (`equivalent`,
   * `needsRecreate`): no op, each with its `DescriptorError`. The plan treats them as left as they are.
   */
  readonly failed: readonly KeyError[];
}

/** How a key's applied value becomes the wanted one; `Failed`: its descriptor threw while comparing them. */
const Change = Object.freeze({ None: 0, Update: 1, Recreate: 2, Failed: 3 } as const);
type Change = (typeof Change)[keyof typeof Change];

/**
 * Compares a key's applied and wanted values through its descriptor. A user descriptor that throws
 * doing so fails its key (the returned error), not the whole plan.
 */
function compare(d: Descriptor, key: string, a: Value, b: Value): Change | KeyError {
  let method = 'equivalent';
  try {
    if (d.equivalent ? d.equivalent(key, a, b) : deepEqual(a, b)) return Change.None;
    if (!d.update) return Change.Recreate;
    method = 'needsRecreate';
    return d.needsRecreate?.(key, a, b) ? Change.Recreate : Change.Update;
  } catch (err) {
    return { key, error: descriptorThrew(d, method, key, err) };
  }
}

/** Keys a plan walks between two pauses of `planSteps`. */
export const PLAN_SLICE = 1024;

/**
 * Turns a set of changed keys into an ordered plan. Pure: reads the state through `input`,
 * touches only the changed keys, their dependencies and their dependents.
 */
export function plan(changed: Iterable<string>, input: PlanInput): Plan {
  const steps = planSteps(changed, input);
  for (;;) {
    const r = steps.next();
    if (r.done === true) return r.value;
  }
}

/**
 * `plan` in slices: pauses (yields) every PLAN_SLICE keys of its loops, so a caller can let the
 * event loop run between slices of a big resync's plan. The state read through `input` must not
 * change while it is paused (the scheduler runs one commit at a time).
 */
export function* planSteps(changed: Iterable<string>, input: PlanInput): Generator<void, Plan, void> {
  const ops: PlannedOp[] = [];
  // Made on the first dirty key only: most plans meet none.
  let stale: Set<string> | undefined;
  const noteStale = (key: string): void => {
    (stale ??= new Set()).add(key);
  };
  // Keys whose descriptor threw comparing their values (see `compare`): made on the first only.
  let failed: Map<string, KeyError> | undefined;
  const deleted = new Set<string>();
  // Made on the first re-plan only (an update that lost a dependency), as are `visiting` below.
  let forcedDelete: Set<string> | undefined;
  // Keys reached through a dependency whose change an update cannot make (re-planned as delete + create).
  let forcedRecreate: Set<string> | undefined;
  const consider: string[] = [];
  const considered = new Set<string>();
  const halfMade = input.halfMade !== undefined && input.halfMade.size > 0 ? input.halfMade : undefined;
  const addConsider = (k: string): void => {
    if (!considered.has(k)) {
      considered.add(k);
      consider.push(k);
    }
  };

  const scheduleDelete = (key: string, note: string | undefined): void => {
    if (deleted.has(key)) return;
    const v = input.view(key);
    if (v?.dirty) noteStale(key);
    if (!v?.applied) return;
    deleted.add(key);
    const dependents = input.dependents(key);
    if (dependents) {
      for (const dk of dependents) {
        const dv = input.view(dk);
        const dd = input.descriptor(dk);
        // A dependent whose last operation failed may be on the dataplane though `applied` says not.
        if (dv?.dirty) noteStale(dk);
        if (!dv?.applied || !dd || deleted.has(dk)) continue;
        if (dependenciesOf(dd, dk, dv.applied).includes(key)) scheduleDelete(dk, 'cascade');
        addConsider(dk);
      }
    }
    ops.push(note ? { key, op: 'delete', value: v.applied, after: NO_AFTER, level: 0, note } : { key, op: 'delete', value: v.applied, after: NO_AFTER, level: 0 });
    addConsider(key);
  };

  for (;;) {
    let n = 0;
    for (const key of changed) {
      if (++n % PLAN_SLICE === 0) yield;
      addConsider(key);
      const v = input.view(key);
      const d = input.descriptor(key);
      if (v?.dirty) noteStale(key);
      if (!v?.applied) continue;
      if (!v.want || !d) scheduleDelete(key, undefined);
      else if (!failed?.has(key)) {
        const c = halfMade?.has(key) ? Change.Recreate : compare(d, key, v.applied, v.want);
        if (c === Change.Recreate) scheduleDelete(key, 'recreate');
        else if (typeof c === 'object') (failed ??= new Map()).set(key, c);
      }
    }
    if (forcedDelete) for (const key of forcedDelete) scheduleDelete(key, 'dependency missing');
    if (forcedRecreate) for (const key of forcedRecreate) scheduleDelete(key, 'recreate');

    const result = yield* planCreates(ops, deleted, consider, considered, input, noteStale, failed, halfMade);
    failed = result.failed;
    if (result.unsatisfied.length === 0 && result.recreate.length === 0) {
      return { ops: result.ops, pending: result.pending, stale: stale ? [...stale] : NO_STALE, failed: failed ? [...failed.values()] : NO_FAILED };
    }
    for (const k of result.unsatisfied) (forcedDelete ??= new Set()).add(k);
    for (const k of result.recreate) (forcedRecreate ??= new Set()).add(k);
    // An update would need a missing dependency: remove the value instead, and plan again. (An
    // update that only a re-create can make: delete it first, and plan again.)
    ops.length = 0;
    deleted.clear();
    considered.clear();
    consider.length = 0;
  }
}

function* planCreates(
  deletes: PlannedOp[],
  deleted: ReadonlySet<string>,
  consider: string[],
  considered: Set<string>,
  input: PlanInput,
  noteStale: (key: string) => void,
  failed: Map<string, KeyError> | undefined,
  halfMade: ReadonlySet<string> | undefined,
): Generator<void, { ops: PlannedOp[]; pending: string[]; unsatisfied: string[]; recreate: string[]; failed: Map<string, KeyError> | undefined }, void> {
  const ops = deletes.slice();
  // A re-created key is created only after its delete succeeded: never two copies on the dataplane.
  let deleteIndex: Map<string, number> | undefined;
  if (deletes.length > 0) {
    deleteIndex = new Map();
    for (let i = 0; i < deletes.length; i++) deleteIndex.set((deletes[i] as PlannedOp).key, i);
  }
  const pending: string[] = [];
  const unsatisfied: string[] = [];
  const recreate: string[] = [];
  /** key -> index of its create/update op, -1 = exists without op, -2 = cannot exist. */
  const fate = new Map<string, number>();
  let visiting: Set<string> | undefined;

  const exists = (key: string): boolean => {
    const v = input.view(key);
    return v?.applied !== undefined && !deleted.has(key);
  };

  // Returns the op index that creates `key` (>= 0), -1 if it exists already, -2 if it cannot.
  const resolve = (key: string): number => {
    const known = fate.get(key);
    if (known !== undefined) return known;
    if (visiting?.has(key)) return -2; // a dependency cycle never resolves
    const v = input.view(key);
    if (v?.dirty) noteStale(key);
    const d = input.descriptor(key);
    const want = v?.want;
    if (!want || !d) {
      const r = exists(key) ? -1 : -2;
      fate.set(key, r);
      return r;
    }
    const deps = dependenciesOf(d, key, want);
    // Most keys wait for nothing: their `after` is the shared empty list until something is added.
    let after: number[] | null = null;
    let ok = true;
    let level = 0;
    if (deps.length > 0) {
      const vis = (visiting ??= new Set());
      vis.add(key);
      for (const dep of deps) {
        const r = resolve(dep);
        if (r === -2) {
          ok = false;
          break;
        }
        if (r >= 0) {
          (after ??= []).push(r);
          const lv = (ops[r] as PlannedOp).level + 1;
          if (lv > level) level = lv;
        }
      }
      vis.delete(key);
    }
    let r: number;
    if (exists(key)) {
      const applied = v.applied as Value;
      let c = !ok ? Change.None : failed?.has(key) ? Change.Failed : halfMade?.has(key) ? Change.Recreate : compare(d, key, applied, want);
      if (typeof c === 'object') {
        (failed ??= new Map()).set(key, c);
        c = Change.Failed;
      }
      if (!ok) {
        unsatisfied.push(key);
        r = -1;
      } else if (c === Change.None || c === Change.Failed) {
        r = -1; // (Failed: the descriptor cannot tell; left as it is, its key fails.)
      } else if (c === Change.Recreate) {
        // Not among the changed keys (those were handled above): reached as a dependency or dependent.
        recreate.push(key);
        r = -1;
      } else {
        r = ops.length;
        ops.push({ key, op: 'update', value: want, old: applied, after: after ?? NO_AFTER, level });
      }
    } else if (!ok) {
      pending.push(key);
      r = -2;
    } else {
      r = ops.length;
      const del = deleteIndex?.get(key);
      if (del !== undefined) {
        (after ??= []).push(del);
        if (level < 1) level = 1;
        ops.push({ key, op: 'create', value: want, after, level, note: 'recreate' });
      } else {
        ops.push({ key, op: 'create', value: want, after: after ?? NO_AFTER, level });
      }
      // What waited for this key may now be created too.
      const dependents = input.dependents(key);
      if (dependents) {
        for (const dk of dependents) {
          if (!considered.has(dk)) {
            considered.add(dk);
            consider.push(dk);
          }
        }
      }
    }
    fate.set(key, r);
    return r;
  };

  for (let i = 0; i < consider.length; i++) {
    if (i % PLAN_SLICE === PLAN_SLICE - 1) yield;
    resolve(consider[i] as string);
  }
  return { ops, pending, unsatisfied, recreate, failed };
}

const NO_AFTER: readonly number[] = Object.freeze([]);
const NO_STALE: readonly string[] = Object.freeze([]);
const NO_FAILED: readonly KeyError[] = Object.freeze([]);
