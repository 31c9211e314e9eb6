// Test double of the KVScheduler interface (not the real scheduler): records every commit, can be told
// to fail keys, to reject, to return a non-TransactionError error, to hang, or to execute operations.
import { TransactionError } from '../../src/api/errors.js';
import type { CommitOptions, CommitResult, KVScheduler, RecordedOp, RecordedTxn } from '../../src/api/scheduler.js';
import type { Value } from '../../src/api/values.js';

export interface RecordedCommit {
  readonly seqNum: number;
  readonly values: Map<string, Value | null>;
  readonly options: CommitOptions;
}

export class SchedulerDouble implements KVScheduler {
  readonly commits: RecordedCommit[] = [];
  readonly records = new Map<number, RecordedTxn>();
  /** Keys whose commit fails (per-key error in a TransactionError). */
  failKeys = new Set<string>();
  /** When set, commit() rejects with this (once per commit while set). */
  rejectWith: unknown = undefined;
  /** When set, commit() resolves with this as `error` (any type, to test C19). */
  resolveErrorWith: unknown = undefined;
  /** When true, commit() never settles. */
  hang = false;
  /** Operations reported as executed by every commit (verification). */
  executedOps: RecordedOp[] = [];
  /** Called inside commit(), in the commit's async context. */
  onCommit: ((values: ReadonlyMap<string, Value | null>, options: CommitOptions) => void) | null = null;
  /** Resolve synchronously-settled promises (true) or after a macrotask (false). */
  async = false;
  #seq = 0;

  commit(values: ReadonlyMap<string, Value | null>, options: CommitOptions): Promise<CommitResult> {
    const seqNum = ++this.#seq;
    this.commits.push({ seqNum, values: new Map(values), options });
    this.onCommit?.(values, options);
    if (this.hang) return new Promise(() => undefined);
    if (this.rejectWith !== undefined) return Promise.reject(this.rejectWith);
    let error: TransactionError | null = null;
    const failed = [...values.keys()].filter((k) => this.failKeys.has(k));
    if (failed.length > 0) error = new TransactionError(failed.map((key) => ({ key, error: new Error(`failed ${key}`) })));
    if (this.resolveErrorWith !== undefined) error = this.resolveErrorWith as TransactionError;
    this.records.set(seqNum, {
      seqNum,
      resync: options.resync ?? null,
      description: options.description ?? '',
      start: 0,
      stop: 0,
      planned: [],
      executed: this.executedOps,
    });
    const result = { seqNum, error };
    if (this.async) return new Promise((resolve) => setImmediate(() => resolve(result)));
    return Promise.resolve(result);
  }

  getRecordedTransaction(seqNum: number): RecordedTxn | undefined {
    return this.records.get(seqNum);
  }
}
