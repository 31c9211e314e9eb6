import type { CommitOptions, CommitResult } from './scheduler.js';
import type { KeyValuePairs, Value } from './values.js';

/** Operations to build a transaction for a resync event. */
export interface ResyncOperations {
  /** Throws `TypeError` for a `null`/`undefined` value. */
  put(key: string, value: Value): void;
  /** `undefined` when the key is not set or is set to be deleted. */
  get(key: string): Value | undefined;
}

/** Operations to build a transaction for an update event. */
export interface UpdateOperations extends ResyncOperations {
  delete(key: string): void;
}

/** A transaction that can be committed on its own. */
export interface Transaction extends UpdateOperations {
  commit(options?: CommitOptions): Promise<CommitResult>;
}

/** Reads configuration so that several handlers can adjust one config item. */
export interface ConfigRetriever {
  /** The value in the transaction of the event being processed, else the last committed one; a deep copy. */
  getConfig(key: string): Value | undefined;
}

/** Puts every pair into the transaction. */
export function putAll(txn: ResyncOperations, kvs: KeyValuePairs): void {
  for (const [key, value] of kvs) txn.put(key, value);
}

/** Deletes every key of the pairs from the transaction. */
export function deleteAll(txn: UpdateOperations, kvs: KeyValuePairs): void {
  for (const key of kvs.keys()) txn.delete(key);
}
