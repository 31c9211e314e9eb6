// Counts what the controller commits (kv operations, resyncs, healing resyncs) by standing between
// the controller and the scheduler: the flood needs these figures without the event history.
import type { CommitOptions, CommitResult, KVScheduler, RecordedTxn, Value } from '../api/index.js';

export class CommitCounters {
  commits = 0;
  failedCommits = 0;
  /**
   * Operations the scheduler executed (creates, updates, deletes, retries included), from each
   * commit's recorded transaction: a resync that finds the dataplane in sync adds nothing. A
   * scheduler that records no transaction counts the keys of its non-downstream commits instead.
   */
  kvOps = 0;
  resyncs = 0;
  healingResyncs = 0;

  /** A KVScheduler that counts and delegates. */
  wrap(inner: KVScheduler): KVScheduler {
    return {
      commit: (values: ReadonlyMap<string, Value | null>, options: CommitOptions): Promise<CommitResult> => {
        this.commits++;
        if (options.resync !== undefined) this.resyncs++;
        if (options.description?.startsWith('Healing Resync') === true) this.healingResyncs++;
        return inner.commit(values, options).then((r) => {
          if (r.error !== null) this.failedCommits++;
          const recorded = inner.getRecordedTransaction(r.seqNum);
          if (recorded !== undefined) this.kvOps += recorded.executed.length;
          else if (options.resync !== 'downstream') this.kvOps += values.size;
          return r;
        });
      },
      getRecordedTransaction: (seqNum: number): RecordedTxn | undefined => inner.getRecordedTransaction(seqNum),
    };
  }
}
