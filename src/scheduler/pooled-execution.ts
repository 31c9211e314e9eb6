// Runs a big plan with a worker pool: the ops of leaf kinds (routes, ARP entries, DNATs) are built,
// encoded and sent by the pool; every other op goes through the inline executor unchanged.
import { toError } from '../api/errors.js';
import { isAlreadyExists } from './adopt.js';
import { execute, type ExecuteOptions } from './executor.js';
import { dependenciesOf } from './descriptor.js';
import type { OpPool, PoolOp } from './op-pool.js';
import type { PlannedOp } from './planner.js';
import { YIELD_CHUNK, yieldToLoop } from './loop-yield.js';

export interface PooledExecuteOptions extends ExecuteOptions {
  readonly pool: OpPool;
  /** Names of the descriptors whose ops the pool may take. */
  readonly pooledKinds: ReadonlySet<string>;
}

const Done = Object.freeze({ No: 0, Ok: 1, Failed: 2, Skipped: 3 } as const);

/**
 * Marks the ops the pool takes (1), or null when the plan runs inline as a whole (workers off,
 * fewer poolable ops than the pool's `inlineThreshold`, a revert commit). A pooled op is of a
 * pooled kind without a configure stage, encoded by the same descriptor in the workers, and no
 * inline op waits for it: so pooled deletes can run before every inline op and pooled
 * creates/updates after them.
 */
export async function poolShare(ops: readonly PlannedOp[], o: PooledExecuteOptions): Promise<Uint8Array | null> {
  const n = ops.length;
  // A revert commit (`stopOnError`) must stop after the wave inline would stop after, and the
  // phases below are not the inline waves: it would run, fail and undo other ops than inline.
  if (!o.pool.workers || o.stopOnError || n === 0 || n < o.pool.inlineThreshold) return null;
  const pooled = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    // Two descriptor lookups per op: in slices, as every O(plan) loop of a big commit.
    if (i % YIELD_CHUNK === YIELD_CHUNK - 1) await yieldToLoop();
    const key = (ops[i] as PlannedOp).key;
    const d = o.descriptor(key);
    if (d && !d.configure && o.pooledKinds.has(d.name) && o.pool.descriptorName(key) === d.name) pooled[i] = 1;
  }
  // `after` points to earlier ops only: one backward pass keeps every prerequisite of an inline op inline.
  for (let i = n - 1; i >= 0; i--) {
    if (pooled[i] === 1) continue;
    for (const a of (ops[i] as PlannedOp).after) pooled[a] = 0;
  }
  // Deletes go dependents-first: a pooled delete that an inline delete's value depends on runs inline.
  let deletes: Map<string, number> | undefined;
  for (let i = 0; i < n; i++) if (pooled[i] === 1 && (ops[i] as PlannedOp).op === 'delete') (deletes ??= new Map()).set((ops[i] as PlannedOp).key, i);
  if (deletes) {
    for (let i = 0; i < n; i++) {
      const op = ops[i] as PlannedOp;
      if (pooled[i] === 1 || op.op !== 'delete') continue;
      for (const dep of opDependencies(op, o)) {
        const j = deletes.get(dep);
        if (j !== undefined) pooled[j] = 0;
      }
    }
  }
  let count = 0;
  for (let i = 0; i < n; i++) count += pooled[i] as number;
  return count === 0 || count < o.pool.inlineThreshold ? null : pooled;
}

function opDependencies(op: PlannedOp, o: ExecuteOptions): readonly string[] {
  try {
    const d = o.descriptor(op.key);
    if (!d) return [];
    const deps = dependenciesOf(d, op.key, op.value);
    return op.old === undefined ? deps : [...deps, ...dependenciesOf(d, op.key, op.old)];
  } catch {
    return [];
  }
}

/**
 * Same contract as `execute` (every op gets exactly one outcome; dependents of a failed op are
 * skipped; with `stopOnError` the whole plan runs inline), in three phases: pooled deletes, the
 * inline rest (the executor, waves as usual), then pooled creates/updates in waves of ready ops.
 * A pooled create refused with "already exists" goes to the executor, which adopts it.
 */
export async function executeWithPool(ops: readonly PlannedOp[], o: PooledExecuteOptions): Promise<void> {
  const pooled = await poolShare(ops, o);
  if (!pooled) return execute(ops, o);
  const n = ops.length;
  const done = new Uint8Array(n);
  const finish = (i: number, error: Error | null, skipped: boolean, halfMade = false): void => {
    if (done[i] !== Done.No) return;
    done[i] = error ? Done.Failed : skipped ? Done.Skipped : Done.Ok;
    o.onOutcome(ops[i] as PlannedOp, { index: i, error, skipped, halfMade });
  };
  const skipRest = (): void => {
    for (let i = 0; i < n; i++) finish(i, null, true);
  };

  /**
   * One pooled wave; false when the scheduler is closing: every op left failed. A pool that cannot
   * run the wave (closed) fails the wave's ops only: nothing inline waits for them.
   */
  const runPooled = async (idx: readonly number[]): Promise<boolean> => {
    if (idx.length === 0) return true;
    const wave: PoolOp[] = [];
    const md = new Map<string, number>();
    for (let j = 0; j < idx.length; j++) {
      if (j % YIELD_CHUNK === YIELD_CHUNK - 1) await yieldToLoop();
      const i = idx[j] as number;
      const op = ops[i] as PlannedOp;
      wave.push(op.old === undefined ? { op: op.op, key: op.key, value: op.value } : { op: op.op, key: op.key, value: op.value, old: op.old });
      const own = o.metadata.get(op.key);
      if (own !== undefined) md.set(op.key, own);
      for (const dep of opDependencies(op, o)) {
        const v = o.metadata.get(dep);
        if (v !== undefined) md.set(dep, v);
      }
    }
    let r;
    try {
      r = await o.closed.guard(o.pool.executeWave(wave, [...md], o.metadata.highest()));
    } catch (err) {
      const e = toError(err);
      if (!o.closed.closed) {
        for (const i of idx) finish(i, e, false);
        return true;
      }
      for (let i = 0; i < n; i++) finish(i, e, false);
      return false;
    }
    for (const [k, v] of r.metadata) o.metadata.set(k, v);
    let adopt: number[] | undefined;
    for (let j = 0; j < idx.length; j++) {
      if (j % YIELD_CHUNK === YIELD_CHUNK - 1) await yieldToLoop();
      const i = idx[j] as number;
      const op = ops[i] as PlannedOp;
      const e = r.errors[j] ?? null;
      if (e && op.op === 'create' && isAlreadyExists(e)) {
        (adopt ??= []).push(i);
        continue;
      }
      if (!e && op.op === 'delete') o.metadata.delete(op.key);
      finish(i, e, false);
    }
    if (adopt) {
      const back = adopt;
      const sub = back.map((i) => ({ ...(ops[i] as PlannedOp), after: NO_AFTER }));
      await execute(sub, { ...o, stopOnError: false, onOutcome: (_op, out) => finish(back[out.index] as number, out.error, out.skipped, out.halfMade) });
    }
    return true;
  };

  // 1. Pooled deletes: nothing inline is a dependent of them.
  const deletes: number[] = [];
  for (let i = 0; i < n; i++) if (pooled[i] === 1 && (ops[i] as PlannedOp).op === 'delete') deletes.push(i);
  if (!(await runPooled(deletes))) return;

  // 2. The inline rest, as one plan of its own (its ops wait only for inline ops).
  const inline: number[] = [];
  for (let i = 0; i < n; i++) if (pooled[i] === 0) inline.push(i);
  if (inline.length > 0) {
    const at = new Int32Array(n).fill(-1);
    inline.forEach((i, j) => (at[i] = j));
    const sub = inline.map((i) => {
      const op = ops[i] as PlannedOp;
      return { ...op, after: op.after.map((a) => at[a] as number) };
    });
    await execute(sub, { ...o, onOutcome: (_op, out) => finish(inline[out.index] as number, out.error, out.skipped, out.halfMade) });
  }

  // 3. Pooled creates/updates, a wave at a time: those whose prerequisites all succeeded.
  let rest: number[] = [];
  for (let i = 0; i < n; i++) if (pooled[i] === 1 && done[i] === Done.No) rest.push(i);
  while (rest.length > 0) {
    const ready: number[] = [];
    const later: number[] = [];
    for (const i of rest) {
      let state: number = Done.Ok;
      for (const a of (ops[i] as PlannedOp).after) {
        const s = done[a] as number;
        if (s === Done.Failed || s === Done.Skipped) {
          state = Done.Skipped;
          break;
        }
        if (s === Done.No) state = Done.No;
      }
      if (state === Done.Skipped) finish(i, null, true);
      else if (state === Done.Ok) ready.push(i);
      else later.push(i);
    }
    if (ready.length === 0) return skipRest(); // cannot happen: `after` only points backwards
    if (!(await runPooled(ready))) return;
    rest = later;
  }
}

const NO_AFTER: readonly number[] = Object.freeze([]);
