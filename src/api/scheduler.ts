import type { TransactionError } from './errors.js';
import type { Value } from './values.js';

export type ResyncKind = 'full' | 'upstream' | 'downstream';

export interface RetryOptions {
  /** Delay before the first retry, ms. */
  readonly delay: number;
  readonly maxAttempts: number;
  /** Double the delay with each attempt. */
  readonly expBackoff: boolean;
}

export interface CommitOptions {
  readonly description?: string;
  /** Absent = incremental update. */
  readonly resync?: ResyncKind;
  /** The first full resync. */
  readonly isStartup?: boolean;
  /** Undo executed operations if any fails. */
  readonly revert?: boolean;
  readonly retry?: RetryOptions;
}

export interface CommitResult {
  readonly seqNum: number;
  readonly error: TransactionError | null;
}

export type OperationKind = 'create' | 'update' | 'delete';

export interface RecordedOp {
  readonly key: string;
  readonly op: OperationKind;
  readonly error?: Error;
  /** Extra context (e.g. 'pending', 'revert', 'retry'), when any. */
  readonly note?: string;
}

export interface RecordedTxn {
  readonly seqNum: number;
  readonly resync: ResyncKind | null;
  readonly description: string;
  /** Epoch ms. */
  readonly start: number;
  readonly stop: number;
  readonly planned: readonly RecordedOp[];
  readonly executed: readonly RecordedOp[];
}

/** What the controller commits its transactions to. */
export interface KVScheduler {
  /** For `full`/`upstream` the values are the whole desired state; `downstream` ignores them. */
  commit(values: ReadonlyMap<string, Value | null>, options: CommitOptions): Promise<CommitResult>;
  getRecordedTransaction(seqNum: number): RecordedTxn | undefined;
}
