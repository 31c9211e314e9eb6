import type { KeyError } from '../api/errors.js';
import { TransactionError } from '../api/errors.js';
import type { CommitOptions, CommitResult, RecordedOp, RetryOptions } from '../api/scheduler.js';
import type { Value } from '../api/values.js';
import { type Descriptor, type RetrievedValue, dependenciesOf, descriptorThrew, readClosure, retrievedItem, retrievedList, shapeOf } from './descriptor.js';
import { InvalidValueError, SchedulerClosedError, UnimplementedKeyError } from './errors.js';
import { CloseGuard } from './close-guard.js';
import { execute, type ExecuteOptions } from './executor.js';
import type { SchedulerTxnRecord } from './history.js';
import { TxnHistory } from './history.js';
import { KeyRecord, wanted } from './key-record.js';
import type { KeyStatus } from './key-status.js';
import { StateCode } from './key-status.js';
import { MetadataStore } from './metadata-store.js';
import type { ResolvedSchedulerOptions } from './options.js';
import type { Plan, PlanInput, PlanKeyView, PlannedOp } from './planner.js';
import { plan, planSteps } from './planner.js';
import { executeWithPool } from './pooled-execution.js';
import { DescriptorRegistry } from './registry.js';
import { StateStore } from './state-store.js';
import { deepEqual } from './value-equality.js';
import { YIELD_CHUNK, yieldToLoop } from './loop-yield.js';
import { MAX_TIMER_MS } from '../api/timers.js';

export type DumpView = 'nb' | 'sb' | 'cached';

interface PriorDesired {
  readonly desired: Value | undefined;
  readonly state: StateCode;
  readonly error: Error | undefined;
}

interface RetryJob {
  readonly keys: readonly string[];
  readonly attempt: number;
  readonly delay: number;
  readonly options: RetryOptions;
  readonly retryOf: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** What one transaction accumulates while it runs. */
class TxnContext {
  /** performance.now() at the start: executed operations record their time from it (S7). */
  readonly t0 = performance.now();
  readonly planned: RecordedOp[] = [];
  /** Per executed op (same index): when its result came, ms from t0. Numbers, not objects: a 10⁶-op resync keeps its records. */
  readonly executedMs: number[] = [];
  readonly executed: RecordedOp[] = [];
  readonly kvErrors: KeyError[] = [];
  readonly pending: string[] = [];
  readonly touched = new Set<string>();
  failed = false;
  /** A record set by this transaction's values was dirty (its last operation failed). */
  sawDirty = false;
}

const REMOVED_KEPT = 10_000;

/** Notes a plan's pending keys in the transaction; returns the (empty) list its op records go to. */
function notePending(p: Plan, tx: TxnContext): RecordedOp[] {
  for (const k of p.pending) {
    tx.touched.add(k);
    tx.pending.push(k);
  }
  return [];
}

/** Records ops [from, to) of a plan: one record per op, shared by `planned` and (when it succeeded) `executed`. */
function recordOps(p: Plan, tx: TxnContext, note: string | undefined, from: number, to: number, recs: RecordedOp[]): RecordedOp[] {
  for (let i = from; i < to; i++) {
    const op = p.ops[i] as PlannedOp;
    tx.touched.add(op.key);
    const ro = recordedOp(op, note);
    recs.push(ro);
    tx.planned.push(ro);
  }
  return recs;
}

/** The scheduler's engine: state, planning, execution, records (the facade validates). */
export class SchedulerEngine {
  readonly registry = new DescriptorRegistry();
  readonly #store = new StateStore(this.registry);
  readonly #md = new MetadataStore((key) => this.registry.prefixOf(key));
  readonly #history: TxnHistory;
  readonly #o: ResolvedSchedulerOptions;
  readonly #removed = new Set<string>();
  /**
   * Keys a re-read (#refreshDirty) found on the dataplane after a failed operation (see
   * #withAppeared): what waits for them may have been skipped with that operation.
   */
  #appeared: string[] = [];
  /**
   * Keys of kinds without `retrieve` whose create went through but whose configure wave failed:
   * the object is applied, in a state nobody can read back, and the next plan re-creates it.
   */
  readonly #halfMade = new Set<string>();
  /** Keys a descriptor registered after their commit took over (see registerDescriptor): the next commit plans them. */
  #revived: string[] = [];
  /**
   * Keys waiting for a retry, with the scheduled retry that owns them (null: a resync's own retry).
   * A key has one: a newer commit's retry of it takes it over from an older one (S6).
   */
  readonly #retryingKeys = new Map<string, RetryJob | null>();
  readonly #retries = new Set<RetryJob>();
  readonly #input: PlanInput;
  #seq = 0;
  #tail: Promise<unknown> = Promise.resolve();
  /** Operations passed to #serial and not settled yet. */
  #queued = 0;
  readonly #dequeue = (): void => {
    this.#queued--;
  };
  #closed = false;
  #closing: Promise<void> | undefined;
  readonly #closedSignal = new CloseGuard();
  readonly #descriptorOf = (key: string): Descriptor | undefined => this.registry.forKey(key);

  constructor(o: ResolvedSchedulerOptions, descriptors: readonly Descriptor[]) {
    this.#o = o;
    this.#history = new TxnHistory(o.historySize);
    for (const d of descriptors) this.registry.register(d);
    const store = this.#store;
    const registry = this.registry;
    this.#input = {
      // The record itself answers `want` and `applied`: a view per lookup would be garbage per key.
      view: (key: string): PlanKeyView | undefined => store.get(key),
      dependents: (key) => store.dependents(key),
      descriptor: (key) => registry.forKey(key),
      halfMade: this.#halfMade,
    };
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** `rejected`: per-key errors found before the commit (keys left out of `values`); they fail a revert commit whole. */
  commit(values: ReadonlyMap<string, Value | null>, options: CommitOptions, rejected: readonly KeyError[] = []): Promise<CommitResult> {
    // A commit that has to wait its turn runs on the change set as it was when called (the caller
    // may reuse its Map); with nothing in flight it starts at once and needs no copy (the hot path).
    const v = this.#queued === 0 || this.#closed ? values : new Map(values);
    return this.#serial(() => this.#runCommit(v, options, rejected));
  }

  /**
   * Adds a descriptor. The keys committed before it, left unimplemented, become its values (S2):
   * validated and pending as a fresh commit would see them, planned by the next commit or resync.
   */
  registerDescriptor(d: Descriptor): void {
    this.registry.register(d);
    if (this.#closed) return;
    // Not under a transaction in flight (its plan reads the records): after it, in turn.
    if (this.#queued === 0) this.#revive(d);
    else
      this.#serial(async () => {
        this.#revive(d);
      }).catch(() => {}); // closed before its turn: nothing left to plan
  }

  getRecordedTransaction(seqNum: number): SchedulerTxnRecord | undefined {
    return this.#history.get(seqNum);
  }

  getTransactionHistory(since?: number, until?: number): SchedulerTxnRecord[] {
    return this.#history.list(since, until);
  }

  async dump(keyPrefix: string, view: DumpView): Promise<Map<string, Value>> {
    const out = new Map<string, Value>();
    if (view === 'sb') {
      const got = await this.#serial(() => this.#retrieve(undefined));
      for (const [k, it] of got.values) if (k.startsWith(keyPrefix)) out.set(k, it.value);
      return out;
    }
    for (const [k, rec] of this.#store.records) {
      if (!k.startsWith(keyPrefix)) continue;
      const v = view === 'nb' ? (rec.state === StateCode.Invalid ? undefined : rec.desired) : rec.applied;
      if (v !== undefined) out.set(k, v);
    }
    return out;
  }

  getStatus(key: string): KeyStatus | undefined {
    const rec = this.#store.get(key);
    if (!rec) return this.#removed.has(key) ? { state: 'removed' } : undefined;
    switch (rec.state) {
      case StateCode.Configured:
        return { state: 'configured' };
      case StateCode.Failed:
        return { state: 'failed', error: rec.error ?? new Error('failed') };
      case StateCode.Retrying:
        return { state: 'retrying', error: rec.error ?? new Error('failed'), details: ['a retry is scheduled'] };
      case StateCode.Invalid:
        return { state: 'invalid', error: rec.error ?? new InvalidValueError(key, 'invalid') };
      case StateCode.Unimplemented:
        return { state: 'unimplemented', error: rec.error ?? new UnimplementedKeyError(key) };
      case StateCode.Removed:
        return { state: 'removed' };
      default:
        return { state: 'pending', details: this.#missing(key, rec) };
    }
  }

  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closed = true;
    this.#closedSignal.close(new SchedulerClosedError('scheduler closed while the operation was in flight'));
    for (const job of this.#retries) clearTimeout(job.timer);
    this.#retries.clear();
    for (const k of this.#retryingKeys.keys()) {
      const rec = this.#store.get(k);
      if (rec?.state === StateCode.Retrying) rec.state = StateCode.Failed;
    }
    this.#retryingKeys.clear();
    this.#closing = this.#tail.then(() => undefined);
    return this.#closing;
  }

  /**
   * Runs `fn` after everything queued before it; after close, fails with SchedulerClosedError.
   * With nothing queued (the usual commit) `fn` starts at once, without a hop through the tail.
   */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new SchedulerClosedError());
    let run: Promise<T>;
    if (this.#queued === 0) {
      try {
        run = fn();
      } catch (err) {
        run = Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    } else {
      run = this.#tail.then(() => {
        if (this.#closed) throw new SchedulerClosedError();
        return fn();
      });
    }
    this.#queued++;
    this.#tail = run.then(this.#dequeue, this.#dequeue);
    return run;
  }

  async #runCommit(values: ReadonlyMap<string, Value | null>, options: CommitOptions, rejected: readonly KeyError[]): Promise<CommitResult> {
    const seqNum = ++this.#seq;
    const start = Date.now();
    const tx = new TxnContext();
    for (const e of rejected) tx.kvErrors.push(e);
    const resync = options.resync ?? null;
    const prior = options.revert ? new Map<string, PriorDesired | undefined>() : null;
    let changed: string[];
    const failInit = (err: unknown): CommitResult => {
      const initError = err instanceof Error ? err : new Error(String(err));
      // Revert mode: the transaction committed nothing, so its desired values go too (S5).
      if (prior) this.#restore(prior);
      for (const k of values.keys()) tx.touched.add(k);
      this.#settle(tx.touched);
      if (!prior && resync === null) {
        // The keys left out of step carry the error (failed, not silently pending) and, with retry
        // options, are retried like keys whose operation failed (S6).
        const failed: string[] = [];
        for (const k of values.keys()) {
          const rec = this.#store.get(k);
          if (rec?.state !== StateCode.Pending && rec?.state !== StateCode.Failed) continue;
          rec.error ??= initError;
          failed.push(k);
        }
        if (failed.length > 0 && options.retry && options.retry.maxAttempts > 0 && !this.#closed) {
          this.#scheduleRetry({ keys: failed, attempt: 1, delay: options.retry.delay, options: options.retry, retryOf: seqNum, timer: undefined });
        }
        this.#settle(failed);
      }
      return this.#finish(seqNum, start, resync, options, tx, initError, 'commit');
    };
    try {
      let n = 0;
      if (resync !== 'downstream') {
        for (const [k, v] of values) {
          this.#setDesired(k, v, tx, prior);
          if (++n % YIELD_CHUNK === 0) await yieldToLoop();
        }
      }
      if (resync === 'full' || resync === 'upstream') {
        for (const [k, rec] of this.#store.records) {
          if (!values.has(k) && rec.desired !== undefined) this.#setDesired(k, null, tx, prior);
          if (++n % YIELD_CHUNK === 0) await yieldToLoop();
        }
      }
      if (prior && tx.kvErrors.length > 0) {
        // Revert mode: an invalid value fails the whole transaction before anything is sent.
        this.#restore(prior);
        return this.#finish(seqNum, start, resync, options, tx, null, 'commit');
      }
      if (resync === 'full' || resync === 'downstream') await this.#refreshAll();
      if (this.#revived.length > 0) this.#takeRevived(tx);
      // An update plans the keys #setDesired noted, each as the store holds it.
      changed = resync === null ? [...tx.touched] : [...this.#store.records.keys()];
      // An update's keys all went through #setDesired, which noted whether any was dirty: most
      // commits then skip the re-read scan (a lookup per key) and its promise.
      if (resync !== null || tx.sawDirty) await this.#refreshDirty(changed);
    } catch (err) {
      return failInit(err);
    }
    if (resync !== null) {
      // (An update's keys are in `touched` already: #setDesired added each.)
      for (let i = 0; i < changed.length; i++) {
        if (i % YIELD_CHUNK === YIELD_CHUNK - 1) await yieldToLoop();
        tx.touched.add(changed[i] as string);
      }
      changed = await this.#unsettled(changed);
    }
    let p: Plan;
    try {
      const planned = this.#plan(changed, tx);
      p = planned instanceof Promise ? await planned : planned;
    } catch (err) {
      return failInit(err);
    }
    if (prior && p.failed.length > 0) {
      // Revert mode: a key its descriptor cannot compare fails the transaction before anything is sent.
      for (const f of p.failed) tx.kvErrors.push(f);
      this.#restore(prior);
      this.#settle(tx.touched);
      return this.#finish(seqNum, start, resync, options, tx, null, 'commit');
    }
    // Planned: the keys a new descriptor took over are this transaction's now (until here, a commit
    // that fails to start or sends nothing leaves them to the next one).
    if (this.#revived.length > 0) this.#revived = [];
    await this.#runPlan(p, tx, !!options.revert, undefined);
    if (tx.failed) await this.#refreshInvalid(tx);
    if (prior && tx.failed) {
      this.#restore(prior);
      const keys = [...new Set([...prior.keys(), ...tx.executed.map((e) => e.key)])];
      try {
        await this.#refreshDirty(keys);
        await this.#runPlan(await this.#plan(keys, tx), tx, false, 'revert');
        await this.#refreshInvalid(tx);
      } catch (err) {
        tx.kvErrors.push({ key: '', error: err instanceof Error ? err : new Error(String(err)) });
      }
    } else if (tx.failed && options.retry && options.retry.maxAttempts > 0 && !this.#closed) {
      const failedKeys = [...new Set(tx.kvErrors.map((e) => e.key))].filter((k) => this.#retriable(k));
      if (resync !== null && failedKeys.length > 0) {
        // A resync answers for the whole state, so its result is the state after its own retries:
        // a healing resync is not judged failed for an error that its retries repair (C14, S6).
        this.#settle(tx.touched);
        const first = this.#finish(seqNum, start, resync, options, tx, null, 'commit');
        const after = await this.#retryInline(failedKeys, options.retry, seqNum, first.error);
        // What retries cannot repair (invalid values) stays part of the resync's result.
        const retried = new Set(failedKeys);
        const kept = tx.kvErrors.filter((e) => !retried.has(e.key));
        if (kept.length === 0) return { seqNum, error: after };
        return { seqNum, error: new TransactionError([...kept, ...(after?.kvErrors ?? [])], after?.txnInitError ?? null) };
      }
      this.#scheduleRetry({ keys: failedKeys, attempt: 1, delay: options.retry.delay, options: options.retry, retryOf: seqNum, timer: undefined });
    }
    if (tx.touched.size <= YIELD_CHUNK) this.#settle(tx.touched);
    else await this.#settleChunked(tx.touched);
    return this.#finish(seqNum, start, resync, options, tx, null, 'commit');
  }

  /**
   * Plans `keys` (in slices, with the event loop running between them, when they are many) and
   * re-plans over the dirty keys the plan relied on. A small clean plan comes back as is, without
   * a promise: the path of every event's commit.
   */
  #plan(keys: readonly string[], tx: TxnContext): Plan | Promise<Plan> {
    keys = this.#withAppeared(keys, tx);
    if (keys.length >= YIELD_CHUNK) return planSliced(keys, this.#input).then((p) => (p.stale.length > 0 ? this.#replan(keys, p, tx) : p));
    const p = plan(keys, this.#input);
    return p.stale.length > 0 ? this.#replan(keys, p, tx) : p;
  }

  /**
   * A plan that reached keys whose last operation failed (dependents, dependencies) trusted their
   * possibly stale `applied`: e.g. an ACL whose create failed after the dataplane made it would be
   * created a second time when its interface is re-created, and the lost copy would survive every
   * later delete and resync. Re-reads those keys (they become part of this transaction) and plans
   * again, until the plan meets no dirty key; each round cleans at least one, so it ends.
   */
  async #replan(keys: readonly string[], p: Plan, tx: TxnContext): Promise<Plan> {
    while (p.stale.length > 0) {
      await this.#refreshDirty(p.stale);
      for (const k of p.stale) tx.touched.add(k);
      keys = this.#withAppeared(keys, tx);
      p = plan(keys, this.#input);
    }
    return p;
  }

  /**
   * `keys` plus what waits for the keys a re-read just found on the dataplane (S3): a dependency
   * whose create failed but was made after all is fixed by an update or nothing, never by a create,
   * and only a create makes the planner look at its dependents — they would stay pending for ever.
   * So would the creates skipped because the dependency's update (or re-create) failed.
   */
  #withAppeared(keys: readonly string[], tx: TxnContext): readonly string[] {
    if (this.#appeared.length === 0) return keys;
    const appeared = this.#appeared;
    this.#appeared = [];
    let known: Set<string> | null = null;
    let out: string[] | null = null;
    for (const k of appeared) {
      const dependents = this.#store.dependents(k);
      if (!dependents) continue;
      for (const dk of dependents) {
        const rec = this.#store.get(dk);
        if (rec?.desired === undefined || rec.applied !== undefined) continue;
        known ??= new Set(keys);
        if (known.has(dk)) continue;
        known.add(dk);
        (out ??= [...keys]).push(dk);
        tx.touched.add(dk);
      }
    }
    return out ?? keys;
  }

  /** Retries failed keys inside the running commit; resolves with what still fails (null = all repaired). */
  async #retryInline(keys: readonly string[], retry: RetryOptions, retryOf: number, error: TransactionError | null): Promise<TransactionError | null> {
    let delay = retry.delay;
    for (let attempt = 1; attempt <= retry.maxAttempts && keys.length > 0 && !this.#closed; attempt++) {
      // While the attempt waits the keys are `retrying` (S6), as with a scheduled retry.
      for (const k of keys) {
        const rec = this.#store.get(k);
        if (!rec || !this.#retriable(k)) continue;
        this.#retryingKeys.set(k, null);
        rec.state = StateCode.Retrying;
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        await this.#closedSignal.guard(
          new Promise((resolve) => {
            timer = setTimeout(resolve, delay);
            // The commit waiting on it keeps nothing alive by itself, as a scheduled retry; close() clears it.
            timer.unref?.();
          }),
        );
      } catch {
        clearTimeout(timer);
        return error; // closed while waiting: report what still failed
      }
      for (const k of keys) if (this.#retryingKeys.get(k) === null) this.#retryingKeys.delete(k);
      const outcome = await this.#attemptRetry(keys, attempt, retryOf);
      error = outcome.result.error;
      keys = outcome.again;
      if (retry.expBackoff) delay = Math.min(delay * 2, MAX_TIMER_MS);
    }
    return keys.length === 0 ? null : error;
  }

  /**
   * Records and executes a plan. A small plan (every event's) is recorded without yielding and its
   * execution promise returned as is: no async frame of its own, one promise less per commit.
   */
  #runPlan(p: Plan, tx: TxnContext, stopOnError: boolean, note: string | undefined): Promise<void> {
    if (p.failed.length > 0) this.#noteFailed(p.failed, tx);
    if (p.ops.length >= YIELD_CHUNK) return this.#runBigPlan(p, tx, stopOnError, note);
    if (p.ops.length === 0) {
      notePending(p, tx);
      return DONE;
    }
    return this.#execute(p, tx, stopOnError, recordOps(p, tx, note, 0, p.ops.length, notePending(p, tx)));
  }

  /** Keys the planner could not compare (their descriptor threw): each fails with its error; nothing was sent. */
  #noteFailed(failed: readonly KeyError[], tx: TxnContext): void {
    tx.failed = true;
    for (const f of failed) {
      tx.touched.add(f.key);
      tx.kvErrors.push(f);
      const rec = this.#store.get(f.key);
      if (rec && rec.state !== StateCode.Invalid && rec.state !== StateCode.Unimplemented) rec.error = f.error;
    }
  }

  /** `#runPlan` for a plan of YIELD_CHUNK ops or more: yields to the event loop while recording. */
  async #runBigPlan(p: Plan, tx: TxnContext, stopOnError: boolean, note: string | undefined): Promise<void> {
    const recs = notePending(p, tx);
    for (let from = 0; from < p.ops.length; from += YIELD_CHUNK) {
      if (from > 0) await yieldToLoop();
      recordOps(p, tx, note, from, Math.min(p.ops.length, from + YIELD_CHUNK), recs);
    }
    return this.#execute(p, tx, stopOnError, recs);
  }

  #execute(p: Plan, tx: TxnContext, stopOnError: boolean, recs: readonly RecordedOp[]): Promise<void> {
    const store = this.#store;
    const halfMade = this.#halfMade;
    const pool = this.#o.pool;
    // Small plans (every event's commit) go straight to the executor: no pool bookkeeping on that path.
    const run =
      pool && pool.workers && p.ops.length >= pool.inlineThreshold
        ? (ops: readonly PlannedOp[], o: ExecuteOptions) => executeWithPool(ops, { ...o, pool, pooledKinds: this.#o.pooledKinds })
        : execute;
    return run(p.ops, {
      client: this.#o.connector,
      metadata: this.#md,
      descriptor: this.#descriptorOf,
      stopOnError,
      closed: this.#closedSignal,
      onOutcome: (op, outcome) => {
        if (outcome.skipped) return;
        // One time per executed record, pushed below in either branch (same index).
        tx.executedMs.push(performance.now() - tx.t0);
        const rec = store.getOrCreate(op.key);
        if (outcome.error) {
          tx.failed = true;
          // An invalid value keeps its InvalidValueError (its status); the op's error is in kvErrors.
          if (rec.state !== StateCode.Invalid && rec.state !== StateCode.Unimplemented) rec.error = outcome.error;
          rec.dirty = true;
          if (outcome.halfMade && !this.registry.forKey(op.key)?.retrieve) {
            // No re-read will find the object its create made: applied, so that it is deleted or re-created.
            store.set(op.key, rec, rec.desired, op.value);
            this.#halfMade.add(rec.key);
          }
          tx.kvErrors.push({ key: op.key, error: outcome.error });
          tx.executed.push({ ...(recs[outcome.index] as RecordedOp), error: outcome.error });
          return;
        }
        clearError(rec);
        rec.dirty = false;
        if (halfMade.size !== 0) halfMade.delete(op.key);
        store.set(op.key, rec, rec.desired, op.op === 'delete' ? undefined : op.value);
        tx.executed.push(recs[outcome.index] as RecordedOp);
      },
    });
  }

  #setDesired(key: string, value: Value | null | undefined, tx: TxnContext, prior: Map<string, PriorDesired | undefined> | null): void {
    let rec = this.#store.get(key);
    // From here on the store's own key object (see KeyRecord.key): the plan and the outcomes use it.
    if (rec !== undefined) key = rec.key;
    if (rec?.dirty) tx.sawDirty = true;
    if (prior && !prior.has(key)) prior.set(key, rec ? { desired: rec.desired, state: rec.state, error: rec.error } : undefined);
    tx.touched.add(key);
    if (value === null || value === undefined) {
      if (!rec) return;
      if (rec.state === StateCode.Invalid || rec.state === StateCode.Unimplemented) rec.state = StateCode.Pending;
      if (!rec.dirty) rec.error = undefined;
      this.#store.set(key, rec, undefined, rec.applied);
      return;
    }
    rec ??= this.#store.getOrCreate(key);
    this.#removed.delete(key);
    const d = this.registry.forKey(key);
    if (!d) {
      this.#store.set(key, rec, value, rec.applied);
      rec.state = StateCode.Unimplemented;
      rec.error = new UnimplementedKeyError(key);
      return;
    }
    let norm: Value;
    let deps: readonly string[] | undefined;
    try {
      if (typeof value !== 'object' || Array.isArray(value)) throw new InvalidValueError(key, `expected an object, received ${Array.isArray(value) ? 'an array' : typeof value}`);
      norm = d.validate(key, value);
      // A descriptor's validate returns the normalized value: anything else (a user descriptor's
      // slip) is this key's error, never taken for a delete.
      if (typeof norm !== 'object' || norm === null || Array.isArray(norm)) throw new InvalidValueError(key, `descriptor ${d.name}: validate() returned ${shapeOf(norm)}, expected the normalized value`);
      // So are dependencies that throw or are not keys; a value the record holds was checked before.
      if (norm !== rec.desired && norm !== rec.applied) deps = dependenciesOf(d, key, norm);
    } catch (err) {
      const e = err instanceof InvalidValueError ? err : new InvalidValueError(key, err instanceof Error ? err.message : String(err));
      this.#store.set(key, rec, value, rec.applied);
      rec.state = StateCode.Invalid;
      rec.error = e;
      tx.kvErrors.push({ key, error: e });
      return;
    }
    if (rec.state === StateCode.Invalid || rec.state === StateCode.Unimplemented) rec.state = StateCode.Pending;
    if (!rec.dirty) rec.error = undefined;
    this.#store.set(key, rec, norm, rec.applied, deps);
  }

  /** The unimplemented keys `d` handles now: validated as a commit of their value would (S2), noted for the next commit. */
  #revive(d: Descriptor): void {
    let tx: TxnContext | undefined;
    for (const [k, rec] of this.#store.records) {
      if (rec.state !== StateCode.Unimplemented || this.registry.forKey(k) !== d) continue;
      // Its errors (an invalid value) stay on the record, as the status says: no transaction reports them.
      this.#setDesired(k, rec.desired, (tx ??= new TxnContext()), null);
      if ((rec.state as StateCode) !== StateCode.Invalid) this.#revived.push(rec.key);
    }
    if (tx) this.#settle(tx.touched);
  }

  /** Adds the keys a newly registered descriptor took over to the transaction's keys (they are planned with it). */
  #takeRevived(tx: TxnContext): void {
    for (const k of this.#revived) if (this.#store.get(k)) tx.touched.add(k);
  }

  #restore(prior: Map<string, PriorDesired | undefined>): void {
    for (const [k, p] of prior) {
      const rec = this.#store.get(k);
      if (!rec) continue;
      if (p === undefined && rec.applied === undefined && !rec.dirty) {
        this.#store.drop(k); // never existed before this transaction: no trace
        continue;
      }
      this.#store.set(k, rec, p?.desired, rec.applied);
      rec.state = p?.state ?? StateCode.Pending;
      if (!rec.dirty) rec.error = p?.error;
    }
  }

  /**
   * The keys of a resync the planner must look at: every key but those applied as wanted whose
   * dependencies all stay (applied and wanted). A skipped key is still reached through a dependency
   * that is deleted or re-created (the planner's cascade). Keeps the O(state) plan of a big resync
   * down to what changed; chunked, yielding to the event loop.
   */
  async #unsettled(keys: readonly string[]): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < keys.length; i++) {
      if (i % YIELD_CHUNK === YIELD_CHUNK - 1) await yieldToLoop();
      const k = keys[i] as string;
      const rec = this.#store.get(k);
      const want = rec ? wanted(rec) : undefined;
      const d = this.registry.forKey(k);
      if (!rec || rec.dirty || want === undefined || rec.applied === undefined || !d || (this.#halfMade.size !== 0 && this.#halfMade.has(k))) {
        out.push(k);
        continue;
      }
      let keep: boolean;
      try {
        keep = !(rec.applied === want || (d.equivalent ? d.equivalent(k, rec.applied, want) : deepEqual(rec.applied, want)));
      } catch {
        keep = true; // the planner meets it again and fails the key, typed
      }
      if (!keep) {
        try {
          for (const dep of dependenciesOf(d, k, want)) {
            const r = this.#store.get(dep);
            if (!r || r.applied === undefined || wanted(r) === undefined) {
              keep = true;
              break;
            }
          }
        } catch {
          keep = true;
        }
      }
      if (keep) out.push(k);
    }
    return out;
  }

  /** `#settle` in chunks, yielding to the event loop between them (a big commit's touched keys). */
  async #settleChunked(keys: ReadonlySet<string>): Promise<void> {
    if (keys.size <= YIELD_CHUNK) return this.#settle(keys);
    const all = [...keys];
    for (let i = 0; i < all.length; i += YIELD_CHUNK) {
      this.#settle(all.slice(i, i + YIELD_CHUNK));
      await yieldToLoop();
    }
  }

  /** Computes each touched key's state after a transaction; forgets keys that are gone. */
  #settle(keys: Iterable<string>): void {
    for (const k of keys) {
      const rec = this.#store.get(k);
      if (!rec) continue;
      if (rec.state === StateCode.Invalid || rec.state === StateCode.Unimplemented) continue;
      if (rec.error) {
        rec.state = this.#retryingKeys.has(k) ? StateCode.Retrying : StateCode.Failed;
        continue;
      }
      if (rec.desired === undefined) {
        if (rec.applied === undefined) this.#forget(k);
        else rec.state = StateCode.Pending;
        continue;
      }
      if (rec.applied === undefined) {
        rec.state = StateCode.Pending;
        continue;
      }
      const d = this.registry.forKey(k);
      let same: boolean;
      try {
        same = rec.applied === rec.desired || (d ? (d.equivalent ? d.equivalent(k, rec.applied, rec.desired) : deepEqual(rec.applied, rec.desired)) : false);
      } catch (err) {
        // A user descriptor's slip: the key cannot be told configured. It fails, typed; settling goes on.
        rec.error = descriptorThrew(d as Descriptor, 'equivalent', k, err);
        rec.state = this.#retryingKeys.has(k) ? StateCode.Retrying : StateCode.Failed;
        continue;
      }
      rec.state = same ? StateCode.Configured : StateCode.Pending;
    }
  }

  #forget(key: string): void {
    this.#store.drop(key);
    this.#removed.add(key);
    if (this.#removed.size > REMOVED_KEPT) {
      const oldest = this.#removed.values().next().value;
      if (oldest !== undefined) this.#removed.delete(oldest);
    }
  }

  #missing(key: string, rec: KeyRecord): string[] {
    const d = this.registry.forKey(key);
    if (!d || rec.desired === undefined) return rec.desired === undefined ? ['waiting to be removed'] : [];
    const out: string[] = [];
    try {
      for (const dep of dependenciesOf(d, key, rec.desired)) {
        const r = this.#store.get(dep);
        if (!r || r.applied === undefined) out.push(`waiting for ${dep}`);
      }
    } catch {
      // dependencies of a bad value: nothing to report
    }
    return out;
  }

  #finish(
    seqNum: number,
    start: number,
    resync: CommitOptions['resync'] | null,
    options: CommitOptions,
    tx: TxnContext,
    initError: Error | null,
    origin: 'commit' | 'retry',
    retryOf?: number,
  ): CommitResult {
    const stop = Date.now();
    const description = options.description ?? '';
    const rec: SchedulerTxnRecord =
      retryOf === undefined
        ? { seqNum, resync: resync ?? null, description, start, stop, planned: tx.planned, executed: tx.executed, executedMs: tx.executedMs, pending: tx.pending, origin }
        : { seqNum, resync: resync ?? null, description, start, stop, planned: tx.planned, executed: tx.executed, executedMs: tx.executedMs, pending: tx.pending, origin, retryOf };
    this.#history.add(rec);
    const error = initError || tx.kvErrors.length > 0 ? new TransactionError(tx.kvErrors, initError) : null;
    if (error) this.#o.logger.warn({ seqNum, error: error.message }, 'scheduler transaction failed');
    else this.#o.logger.debug({ seqNum, ops: tx.executed.length }, 'scheduler transaction done');
    return { seqNum, error };
  }

  #scheduleRetry(job: RetryJob): void {
    if (job.keys.length === 0) return;
    for (const k of job.keys) {
      this.#retryingKeys.set(k, job);
      // A later attempt is scheduled after the failed one was settled (as failed): say so.
      const rec = this.#store.get(k);
      if (rec?.state === StateCode.Failed) rec.state = StateCode.Retrying;
    }
    this.#retries.add(job);
    job.timer = setTimeout(() => {
      this.#retries.delete(job);
      this.#serial(() => this.#runRetry(job)).catch(() => {});
    }, job.delay);
    // A pending retry alone does not keep the process alive; close() cancels it.
    job.timer.unref?.();
  }

  async #runRetry(job: RetryJob): Promise<void> {
    // Keys a newer retry took over are left to it.
    const keys = job.keys.filter((k) => this.#retryingKeys.get(k) === job);
    for (const k of keys) this.#retryingKeys.delete(k);
    if (keys.length === 0) return;
    const { again } = await this.#attemptRetry(keys, job.attempt, job.retryOf);
    if (again.length > 0 && job.attempt < job.options.maxAttempts && !this.#closed) {
      this.#scheduleRetry({
        keys: again,
        attempt: job.attempt + 1,
        delay: job.options.expBackoff ? Math.min(job.delay * 2, MAX_TIMER_MS) : job.delay,
        options: job.options,
        retryOf: job.retryOf,
        timer: undefined,
      });
    }
  }

  /** One retry of the keys that still fail, recorded as its own transaction; `again` = keys still failing. */
  async #attemptRetry(retryKeys: readonly string[], attempt: number, retryOf: number): Promise<{ result: CommitResult; again: string[] }> {
    const keys = retryKeys.filter((k) => this.#retriable(k));
    const seqNum = ++this.#seq;
    const start = Date.now();
    const tx = new TxnContext();
    for (const k of keys) tx.touched.add(k);
    const description = `retry of transaction ${retryOf} (attempt ${attempt})`;
    let initError: Error | null = null;
    try {
      await this.#refreshDirty(keys);
      const plan = await this.#plan(keys, tx);
      // The keys are planned again: what failed them before (a commit that failed to start) is past;
      // one that only waits for a dependency gets no op, and would keep that error (S3).
      for (const k of keys) {
        const rec = this.#store.get(k);
        if (rec) clearError(rec);
      }
      await this.#runPlan(plan, tx, false, 'retry');
      if (tx.failed) await this.#refreshInvalid(tx);
    } catch (err) {
      initError = err instanceof Error ? err : new Error(String(err));
      tx.failed = true;
      // Still failing (a re-read cleared an error before the plan threw): the next attempt takes them.
      for (const k of keys) {
        const rec = this.#store.get(k);
        if (rec && rec.error === undefined) rec.error = initError;
      }
    }
    const again = !tx.failed ? [] : initError ? keys : [...new Set(tx.kvErrors.map((e) => e.key))].filter((k) => this.#retriable(k));
    this.#settle(tx.touched);
    return { result: this.#finish(seqNum, start, null, { description }, tx, initError, 'retry', retryOf), again };
  }

  /** A key whose last operation failed (an invalid value is not retried: it would fail the same way). */
  #retriable(key: string): boolean {
    const rec = this.#store.get(key);
    return rec?.error !== undefined && rec.state !== StateCode.Invalid && rec.state !== StateCode.Unimplemented;
  }

  /**
   * Re-reads, at once, the keys of an invalid value whose operation (the delete of the old value)
   * failed in `tx`: they are neither retried nor planned again until a new value comes, so their
   * `applied` would stay what the failed delete left, though the dataplane may have dropped it since
   * (a dependency deleted after it, e.g. an interface whose delete removes its neighbors).
   */
  async #refreshInvalid(tx: TxnContext): Promise<void> {
    const keys = new Set<string>();
    for (const e of tx.kvErrors) {
      const rec = this.#store.get(e.key);
      if (rec?.dirty && rec.state === StateCode.Invalid) keys.add(rec.key);
    }
    if (keys.size === 0) return;
    try {
      await this.#refreshDirty([...keys]);
    } catch {
      // Not re-read (closing, dataplane down): they stay dirty, re-read before they are planned again.
    }
  }

  /** Re-reads the keys whose last operation failed, so the plan starts from the truth. */
  async #refreshDirty(keys: readonly string[]): Promise<void> {
    let dirty: string[] | undefined;
    let descs: Set<Descriptor> | undefined;
    for (let i = 0; i < keys.length; i++) {
      if (i % YIELD_CHUNK === YIELD_CHUNK - 1) await yieldToLoop();
      const k = keys[i] as string;
      const rec = this.#store.get(k);
      if (!rec?.dirty) continue;
      (dirty ??= []).push(k);
      const d = this.registry.forKey(k);
      if (d?.retrieve) (descs ??= new Set()).add(d);
    }
    if (!dirty) return;
    const got = descs ? await this.#retrieve(descs) : undefined;
    for (const k of dirty) {
      const rec = this.#store.get(k) as KeyRecord;
      const d = this.registry.forKey(k);
      rec.dirty = false;
      clearError(rec);
      if (!got || !d?.retrieve) {
        // Cannot be re-read: assume the failed operation changed nothing.
        if (rec.applied !== undefined) this.#appeared.push(k);
        continue;
      }
      const it = got.values.get(k);
      if (it !== undefined) this.#appeared.push(k);
      this.#store.set(k, rec, rec.desired, it?.value);
      if (it?.metadata !== undefined) this.#md.set(k, it.metadata);
      else if (!it) this.#md.delete(k);
    }
  }

  /** Full/downstream resync: the applied state of every retrievable kind := what the dataplane holds. */
  async #refreshAll(): Promise<void> {
    const got = await this.#retrieve(undefined);
    for (const d of got.descriptors) this.#md.clearPrefix(d.keyPrefix);
    for (const [k, it] of got.values) if (it.metadata !== undefined) this.#md.set(k, it.metadata);
    const retrieved = new Set(got.descriptors);
    let n = 0;
    for (const [k, rec] of this.#store.records) {
      if (++n % YIELD_CHUNK === 0) await yieldToLoop();
      const d = this.registry.forKey(k);
      if (!d || !retrieved.has(d)) continue;
      rec.dirty = false;
      clearError(rec);
      this.#store.set(k, rec, rec.desired, got.values.get(k)?.value);
    }
    for (const [k, it] of got.values) {
      if (++n % YIELD_CHUNK === 0) await yieldToLoop();
      if (this.#store.get(k)) continue;
      const rec = this.#store.getOrCreate(k);
      this.#store.set(k, rec, undefined, it.value);
    }
  }

  /** Reads the dataplane through the descriptors (all, or `only` plus what they need first). */
  async #retrieve(only: ReadonlySet<Descriptor> | undefined): Promise<{ values: Map<string, RetrievedValue>; descriptors: Descriptor[] }> {
    const order = this.registry.retrieveOrder;
    const descriptors = readClosure(order, only ?? order);
    const tmp = new MetadataStore((key) => this.registry.prefixOf(key));
    const values = new Map<string, RetrievedValue>();
    const client = this.#o.connector;
    const closed = this.#closedSignal;
    const store = this.#store;
    const ctx = {
      dump: (name: string, fields?: Record<string, unknown>) => closed.guard(client.dump(name, fields)),
      metadata: tmp,
      correlate: (key: string): Value | undefined => {
        const rec = store.get(key);
        return rec ? (rec.applied ?? wanted(rec)) : undefined;
      },
      reserve: (pool: string, id: number): void => this.#md.reserve(pool, id),
    };
    for (const d of descriptors) {
      // Guarded as its dumps are: a retrieve that never settles cannot hold close() up.
      const items = retrievedList(d, await closed.guard(Promise.resolve((d.retrieve as NonNullable<Descriptor['retrieve']>)(ctx))));
      for (let i = 0; i < items.length; i++) {
        if (i % YIELD_CHUNK === YIELD_CHUNK - 1) await yieldToLoop();
        const it = retrievedItem(d, items[i]);
        if (this.registry.forKey(it.key) !== d) continue; // not this descriptor's key: ignored
        values.set(it.key, it);
        if (it.metadata !== undefined) tmp.set(it.key, it.metadata);
      }
    }
    return { values, descriptors };
  }
}

/** A big plan (a resync's) in slices, with the event loop running between them. */
async function planSliced(changed: readonly string[], input: PlanInput): Promise<Plan> {
  const steps = planSteps(changed, input);
  for (;;) {
    const r = steps.next();
    if (r.done === true) return r.value;
    await yieldToLoop();
  }
}

/** Forgets an operation error; the error of an invalid or unimplemented value stays. */
function clearError(rec: KeyRecord): void {
  if (rec.state !== StateCode.Invalid && rec.state !== StateCode.Unimplemented) rec.error = undefined;
}

const DONE: Promise<void> = Promise.resolve();

function recordedOp(op: PlannedOp, note: string | undefined): RecordedOp {
  const n = note && op.note ? `${note}, ${op.note}` : (note ?? op.note);
  return n ? { key: op.key, op: op.op, note: n } : { key: op.key, op: op.op };
}

export type { KeyRecord };
