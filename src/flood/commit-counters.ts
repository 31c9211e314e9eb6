// Counts what the controller commits (kv operations, resyncs, healing resyncs) by standing between
// the controller and the scheduler: the flood needs these figures without the event history.
import type { CommitOptions, CommitResult, KVScheduler, RecordedTxn, Value } from '../api/index.js';

export class CommitCounters {
  commits = 0;
  failedCommits = 0;
  /** Keys in incremental commits plus keys of resync commits. */
  kvOps = 0;
  resyncs = 0;
  healingResyncs = 0;

  /** A KVScheduler that counts and delegates. */
  wrap(inner: KVScheduler): KVScheduler {
    return {
      commit: (values: ReadonlyMap<string, Value | null>, options: CommitOptions): Promise<CommitResult> => {
        this.commits++;
        if (options.resync !== 'downstream') this.kvOps += values.size;
        if (options.resync !== undefined) this.resyncs++;
        if (options.description?.startsWith('Healing Resync') === true) this.healingResyncs++;
        return inner.commit(values, options).then((r) => {
          if (r.error !== null) this.failedCommits++;
          return r;
        });
      },
      getRecordedTransaction: (seqNum: number): RecordedTxn | undefined => inner.getRecordedTransaction(seqNum),
    };
  }
}
