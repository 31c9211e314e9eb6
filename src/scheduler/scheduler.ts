import type { CommitOptions, CommitResult, KVScheduler } from '../api/scheduler.js';
import { InvalidKeyError, isWellFormedKey } from './errors.js';
import type { Value } from '../api/values.js';
import { builtinDescriptors } from '../descriptors/builtin.js';
import type { Descriptor } from './descriptor.js';
import type { SchedulerTxnRecord } from './history.js';
import type { KeyStatus } from './key-status.js';
import type { SchedulerOptions } from './options.js';
import { resolveSchedulerOptions, validateCommitOptions } from './options.js';
import type { DumpView } from './scheduler-engine.js';
import { SchedulerEngine } from './scheduler-engine.js';

const VIEWS = new Set(['nb', 'sb', 'cached']);

/**
 * Key-value transactions onto the dataplane (ligato's KVScheduler): keeps desired and applied
 * state, orders operations by dependencies, records every transaction.
 */
export class Scheduler implements KVScheduler {
  readonly #engine: SchedulerEngine;

  constructor(options: SchedulerOptions) {
    const o = resolveSchedulerOptions(options);
    this.#engine = new SchedulerEngine(o, o.descriptors ?? builtinDescriptors());
  }

  /** Applies a change set (or, with `resync`, a whole desired state). Rejects only after `close()`. */
  commit(values: ReadonlyMap<string, Value | null>, options: CommitOptions = {}): Promise<CommitResult> {
    if (!(values instanceof Map)) return Promise.reject(new TypeError(`values must be a Map of key -> value | null, received ${typeof values}`));
    let invalid: string[] | undefined;
    try {
      validateCommitOptions(options);
      for (const k of values.keys()) {
        if (typeof k !== 'string') throw new TypeError(`every key must be a string, received ${typeof k}`);
        if (k === '' || !isWellFormedKey(k)) (invalid ??= []).push(k);
      }
    } catch (err) {
      return Promise.reject(err);
    }
    if (invalid !== undefined) {
      // A key the scheduler cannot hold is a per-key error, like an invalid value: the other keys
      // are committed as usual, or, in revert mode, the whole transaction fails before anything is sent.
      const rest = new Map(values);
      for (const k of invalid) rest.delete(k);
      return this.#engine.commit(rest, options, invalid.map((key) => ({ key, error: new InvalidKeyError(key) })));
    }
    return this.#engine.commit(values, options);
  }

  getRecordedTransaction(seqNum: number): SchedulerTxnRecord | undefined {
    return this.#engine.getRecordedTransaction(seqNum);
  }

  /** Kept transactions, oldest first; `since`/`until` filter by start time (epoch ms). */
  getTransactionHistory(opts: { readonly since?: number; readonly until?: number } = {}): SchedulerTxnRecord[] {
    return this.#engine.getTransactionHistory(opts.since, opts.until);
  }

  /** nb = desired, cached = applied as the scheduler believes, sb = read from the dataplane now. */
  dump(keyPrefix: string, view: DumpView): Promise<Map<string, Value>> {
    if (typeof keyPrefix !== 'string') return Promise.reject(new TypeError(`keyPrefix must be a string, received ${typeof keyPrefix}`));
    if (!VIEWS.has(view)) return Promise.reject(new TypeError(`view must be 'nb', 'sb' or 'cached', received ${String(view)}`));
    return this.#engine.dump(keyPrefix, view);
  }

  getStatus(key: string): KeyStatus | undefined {
    return this.#engine.getStatus(key);
  }

  /**
   * Adds a descriptor (its key prefix must not be registered yet). Keys committed before it, so far
   * unimplemented, become its values: the next commit or resync applies them.
   */
  registerDescriptor(descriptor: Descriptor): void {
    this.#engine.registerDescriptor(descriptor);
  }

  /** Re-aligns the dataplane with the desired state (after a dataplane restart). */
  resyncDownstream(): Promise<CommitResult> {
    return this.#engine.commit(new Map(), { resync: 'downstream', description: 'downstream resync' });
  }

  /** Cancels retries and fails in-flight operations with `SchedulerClosedError`; twice is harmless. */
  close(): Promise<void> {
    return this.#engine.close();
  }
}

