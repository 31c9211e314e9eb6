/** What happened to one registration during a resync run. */
export type RegistrationOutcome =
  | { readonly name: string; readonly outcome: 'acked'; readonly ms: number }
  /** Took the `Started` event but did not `ack()` within `ackTimeout`. */
  | { readonly name: string; readonly outcome: 'ack-timeout'; readonly ms: number }
  /** Did not take the `Started` event within `acceptTimeout`. */
  | { readonly name: string; readonly outcome: 'skipped'; readonly ms: number }
  /** The orchestrator was closed while waiting for it. */
  | { readonly name: string; readonly outcome: 'cancelled'; readonly ms: number };

/** An error report that caused (or was merged into) a resync run. */
export interface ResyncReason {
  readonly name: string;
  readonly error: Error;
}

/** Emitted to `onResync` listeners when a run ends. */
export interface ResyncRunInfo {
  /** 1 for the first run. */
  readonly run: number;
  /** The `reportError` calls merged into this run (empty for an explicit `doResync()`). */
  readonly reasons: readonly ResyncReason[];
  readonly outcomes: readonly RegistrationOutcome[];
  /** Epoch ms. */
  readonly startedAt: number;
  readonly durationMs: number;
  /** False when `close()` interrupted the run. */
  readonly completed: boolean;
}

export type ResyncListener = (info: ResyncRunInfo) => void;

export type OrchestratorState = 'idle' | 'planned' | 'running' | 'closed';
