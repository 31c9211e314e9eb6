import type { Event } from '../api/events.js';
import type { RecordedTxn } from '../api/scheduler.js';
import type { Value } from '../api/values.js';

/** The C16 filters, as `Controller.getEventHistory` takes them. Times are epoch milliseconds. */
export interface EventHistoryQuery {
  seqNum?: number;
  since?: number;
  until?: number;
  from?: number;
  to?: number;
  first?: number;
  last?: number;
}

/** The part of the Controller the REST server uses (structural). */
export interface RestControllerSource {
  getEventHistory(query?: EventHistoryQuery): readonly unknown[];
  /** Used by the default `POST /controller/resync` (a downstream HealingResync). */
  pushEvent?(event: Event): void;
}

export type DumpView = 'nb' | 'sb' | 'cached';

/** The part of the Scheduler the REST server uses (structural; every member optional). */
export interface RestSchedulerSource {
  /** `since`/`until` in epoch ms. */
  getTransactionHistory?(opts?: { readonly since?: number; readonly until?: number }): readonly RecordedTxn[];
  getRecordedTransaction?(seqNum: number): RecordedTxn | undefined;
  dump?(keyPrefix: string, view: DumpView): Promise<ReadonlyMap<string, Value>> | ReadonlyMap<string, Value>;
  getStatus?(key: string): unknown;
}

/** Anything that renders Prometheus text, e.g. EngineMetrics. */
export interface RestMetricsSource {
  metrics(): Promise<string>;
  readonly contentType: string;
}
