import type { EventMethodType } from '../api/enums.js';
import type { EventHandler } from '../api/handlers.js';
import type { KVScheduler, RecordedTxn } from '../api/scheduler.js';
import type { KeyValuePairs } from '../api/values.js';
import type { ControllerConfig } from './config.js';
import type { ControllerLogger } from './logger.js';

/** A source of external configuration merged into every transaction (after the `db` source). */
export interface ExternalConfigSource {
  /** The source's name: `ExternalConfigChange`/`ExternalConfigResync` events name it in `source`. */
  toString(): string;
  getConfigSnapshot(): KeyValuePairs | Promise<KeyValuePairs>;
}

/** Receives the controller's health: `error` after a fatal error or a missed startup resync. */
export interface StatusCheck {
  reportStateChange(name: string, state: 'ok' | 'error', err?: Error | null): void;
}

/** The scheduler stack the controller builds itself (and closes) when none is given. */
export interface OwnedScheduler {
  readonly scheduler: KVScheduler;
  close(): Promise<void>;
}

export interface ControllerOptions {
  /** Order = dependency order (A before B if B depends on A). */
  readonly handlers: readonly EventHandler[];
  /** Where transactions are committed. When absent, `createScheduler` builds one on start(). */
  readonly scheduler?: KVScheduler;
  /** Builds (on start) and owns the scheduler stack; closed by close(). Used only without `scheduler`. */
  readonly createScheduler?: () => Promise<OwnedScheduler>;
  /** Merged in this order, after the `db` source. */
  readonly extSources?: readonly ExternalConfigSource[];
  readonly config?: Partial<ControllerConfig>;
  readonly statusCheck?: StatusCheck;
  /** pino-compatible; silent by default. */
  readonly logger?: ControllerLogger;
  /** Clock for history timestamps and trimming, epoch ms. @default Date.now */
  readonly now?: () => number;
}

export interface HandlerRecord {
  readonly handler: string;
  /** True for a record of `revert()`. */
  readonly revert: boolean;
  readonly change: string;
  readonly error: Error | null;
}

/** One processed event in the history (SPEC C16). Times are epoch ms. */
export interface EventRecord {
  readonly seqNum: number;
  readonly processingStart: number;
  readonly processingEnd: number;
  readonly isFollowUp: boolean;
  /** seqNum of the event during whose processing this one was pushed; null when not a follow-up. */
  readonly followUpTo: number | null;
  readonly name: string;
  readonly description: string;
  readonly method: EventMethodType;
  readonly handlers: readonly HandlerRecord[];
  readonly txnError: Error | null;
  readonly txn: RecordedTxn | null;
}

/**
 * Filters of `getEventHistory`; only the first present one by precedence applies:
 * `seqNum`; `since`/`until` (epoch ms); `from`/`to` (seqNums, inclusive); `first` N; `last` N.
 */
export interface EventHistoryQuery {
  readonly seqNum?: number;
  readonly since?: number;
  readonly until?: number;
  readonly from?: number;
  readonly to?: number;
  readonly first?: number;
  readonly last?: number;
}

/** Given to `onEvent` listeners after each processed event. */
export interface ProcessedEventInfo {
  readonly seqNum: number;
  readonly name: string;
  readonly method: EventMethodType;
  readonly isFollowUp: boolean;
  readonly result: 'ok' | 'error';
  readonly error: Error | null;
  readonly durationMs: number;
  readonly handlerMs: ReadonlyArray<{ readonly handler: string; readonly ms: number }>;
  /** null when nothing was committed. */
  readonly commitMs: number | null;
  /** A healing resync (periodic or after error). */
  readonly healing: boolean;
}

export type HealthState = 'ok' | 'error';
