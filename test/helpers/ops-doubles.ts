// Test doubles of the structural interfaces the REST server and the metrics read (controller,
// scheduler, connector): they let the HTTP layer be tested on its own; the real Controller is
// exercised in the serve test.
import type { Event } from '../../src/api/index.js';
import type { RecordedTxn, Value } from '../../src/api/index.js';
import type { MetricsConnectorStats as ConnectorStats, MetricsEventInfo as ProcessedEventInfo } from '../../src/metrics/index.js';
import type { RestDumpView as DumpView, RestEventHistoryQuery as EventHistoryQuery } from '../../src/rest/index.js';

export class ControllerDouble {
  readonly queries: EventHistoryQuery[] = [];
  readonly pushed: Event[] = [];
  records: unknown[] = [];
  pushError: Error | null = null;
  historyError: Error | null = null;
  queueDepth = 0;
  readonly #listeners = new Set<(info: ProcessedEventInfo) => void>();

  getEventHistory(query?: EventHistoryQuery): readonly unknown[] {
    this.queries.push(query ?? {});
    if (this.historyError) throw this.historyError;
    return this.records;
  }
  pushEvent(event: Event): void {
    if (this.pushError) throw this.pushError;
    this.pushed.push(event);
  }
  onEvent(listener: (info: ProcessedEventInfo) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
  emit(info: Partial<ProcessedEventInfo> & { name: string }): void {
    const full: ProcessedEventInfo = {
      seqNum: 1, method: 3, isFollowUp: false, result: 'ok', error: null, durationMs: 1,
      handlerMs: [], commitMs: null, healing: false, ...info,
    };
    for (const l of this.#listeners) l(full);
  }
  get listenerCount(): number {
    return this.#listeners.size;
  }
}

export function txn(seqNum: number, start: number, extra: Partial<RecordedTxn> = {}): RecordedTxn {
  return { seqNum, resync: null, description: `txn ${seqNum}`, start, stop: start + 1, planned: [], executed: [], ...extra };
}

export class SchedulerDouble {
  txns: RecordedTxn[] = [];
  values = new Map<string, Value>();
  statuses = new Map<string, { state: string; error?: Error; details?: string[] }>();
  readonly dumps: Array<[string, DumpView]> = [];

  getTransactionHistory(opts: { since?: number; until?: number } = {}): readonly RecordedTxn[] {
    return this.txns.filter((t) => t.start >= (opts.since ?? -Infinity) && t.start <= (opts.until ?? Infinity));
  }
  getRecordedTransaction(seqNum: number): RecordedTxn | undefined {
    return this.txns.find((t) => t.seqNum === seqNum);
  }
  async dump(prefix: string, view: DumpView): Promise<Map<string, Value>> {
    this.dumps.push([prefix, view]);
    return new Map([...this.values].filter(([k]) => k.startsWith(prefix)));
  }
  getStatus(key: string): { state: string; error?: Error; details?: string[] } | undefined {
    return this.statuses.get(key);
  }
}

export class ConnectorDouble {
  state = 'up';
  current: ConnectorStats = {
    errorsByRetval: {}, requestRingUsedBytes: 0, requestRingBytes: 1 << 20, replyRingUsedBytes: 0,
    replyRingBytes: 1 << 20, timeouts: 0, protocolErrors: 0, inFlight: 0,
  };
  stats(): ConnectorStats {
    return this.current;
  }
}
