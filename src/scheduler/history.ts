import ringBuffer from 'ring-buffer-ts';
import type { RingBuffer as RingBufferType } from 'ring-buffer-ts';
import type { RecordedTxn } from '../api/scheduler.js';

/** A recorded transaction with what the scheduler adds to the API's minimum. */
export interface SchedulerTxnRecord extends RecordedTxn {
  /** Per executed operation (same index as `executed`): when its result came, ms from the transaction's start (S7). */
  readonly executedMs: readonly number[];
  /** Keys left pending (a dependency is missing) when the transaction ended. */
  readonly pending: readonly string[];
  /** 'commit' for a commit, 'retry' / 'revert' for the transactions the scheduler runs itself. */
  readonly origin: 'commit' | 'retry';
  /** For a retry: the seqNum of the transaction whose failures it retries. */
  readonly retryOf?: number;
}

// The package is CommonJS (UMD): its named export is only reachable through the default import.
const { RingBuffer } = ringBuffer;

/** The last `size` transactions, oldest first; older ones are overwritten. */
export class TxnHistory {
  readonly #ring: RingBufferType<SchedulerTxnRecord>;

  constructor(size: number) {
    this.#ring = new RingBuffer<SchedulerTxnRecord>(size);
  }

  add(rec: SchedulerTxnRecord): void {
    this.#ring.add(rec);
  }

  /**
   * Seq numbers grow by one, so the record is found by offset from the oldest kept one; should a
   * number have left no record (a gap shifts the offsets), a binary search finds it instead.
   */
  get(seqNum: number): SchedulerTxnRecord | undefined {
    const first = this.#ring.getFirst();
    if (!first) return undefined;
    const rec = this.#ring.get(seqNum - first.seqNum);
    if (rec?.seqNum === seqNum) return rec;
    let lo = 0;
    let hi = this.#ring.getBufferLength() - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const m = this.#ring.get(mid) as SchedulerTxnRecord;
      if (m.seqNum === seqNum) return m;
      if (m.seqNum < seqNum) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  list(since?: number, until?: number): SchedulerTxnRecord[] {
    const all = this.#ring.toArray();
    if (since === undefined && until === undefined) return all;
    return all.filter((r) => (since === undefined || r.start >= since) && (until === undefined || r.start <= until));
  }
}
