import { EngineError } from '../api/errors.js';

/** An object pushed as an event that is not one: missing methods, a throwing method, or an Update event without UpdateEvent's methods. */
export class InvalidEventError extends EngineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_INVALID_EVENT', message, options);
  }
}

/** A handler's promise did not settle within `handlerTimeout`. */
export class HandlerTimeoutError extends EngineError {
  readonly handler: string;
  constructor(handler: string, stage: 'update' | 'resync' | 'revert' | 'getConfigSnapshot', timeoutMs: number) {
    super(
      'ERR_HANDLER_TIMEOUT',
      stage === 'getConfigSnapshot'
        ? `external config source "${handler}" did not return its snapshot within ${timeoutMs} ms`
        : `handler "${handler}" did not finish ${stage} within ${timeoutMs} ms`,
    );
    this.handler = handler;
  }
}

/** The scheduler's commit did not settle within `commitTimeout`. */
export class CommitTimeoutError extends EngineError {
  constructor(timeoutMs: number) {
    super('ERR_COMMIT_TIMEOUT', `transaction commit did not finish within ${timeoutMs} ms`);
  }
}

/** The scheduler's commit resolved to something that is not a `CommitResult` ({ seqNum, error }). */
export class InvalidCommitResultError extends EngineError {
  constructor(received: string) {
    super('ERR_INVALID_COMMIT_RESULT', `scheduler.commit() must resolve to { seqNum, error }, resolved to ${received}`);
  }
}

/** An after-error healing resync failed too: the controller gives up (the event loop aborts). */
export class HealingFailedError extends EngineError {
  constructor(previous: Error | null, healingError: Error) {
    super(
      'ERR_HEALING_FAILED',
      `healing has not been successful (previous error: ${previous?.message ?? 'unknown'}, healing error: ${healingError.message})`,
      { cause: healingError },
    );
  }
}

/** No `DBResync` arrived within `startupResyncDeadline`. */
export class StartupResyncDeadlineError extends EngineError {
  constructor(deadlineMs: number) {
    super('ERR_STARTUP_RESYNC_DEADLINE', `no startup resync (DBResync) within ${deadlineMs} ms`);
  }
}
