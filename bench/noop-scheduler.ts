// A scheduler that resolves every commit at once, counting keys: what the loop and schedcpu suites
// put under the controller to measure the controller's own share.
import type { CommitOptions, CommitResult, KVScheduler, RecordedTxn, Value } from '../src/api/index.js';

export class NoopScheduler implements KVScheduler {
  #seq = 0;
  keys = 0;
  commit(values: ReadonlyMap<string, Value | null>, _options: CommitOptions): Promise<CommitResult> {
    this.keys += values.size;
    return Promise.resolve({ seqNum: ++this.#seq, error: null });
  }
  getRecordedTransaction(_seqNum: number): RecordedTxn | undefined {
    return undefined;
  }
}
