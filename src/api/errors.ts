/** Base of every error the engine throws: a stable `code` that survives crossing a thread. */
export class EngineError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  try {
    return String(err);
  } catch {
    return Object.prototype.toString.call(err);
  }
}

/** Turns anything thrown into an Error (handlers may throw strings, objects, undefined...). */
export function toError(err: unknown): Error {
  if (err instanceof Error) return err;
  return new EngineError('ERR_NON_ERROR_THROWN', `non-Error value thrown: ${describe(err)}`, { cause: err });
}

/** Tells the controller to abort the event loop: nothing more will be processed. */
export class FatalError extends EngineError {
  constructor(cause: unknown) {
    super('ERR_FATAL', describe(cause), { cause });
  }
  getOriginalError(): unknown {
    return this.cause;
  }
}

/** Tells the controller to abort the processing of one event (and revert what it did). */
export class AbortEventError extends EngineError {
  constructor(cause: unknown) {
    super('ERR_ABORT_EVENT', describe(cause), { cause });
  }
  getOriginalError(): unknown {
    return this.cause;
  }
}

export function newFatalError(err: unknown): FatalError {
  return new FatalError(err);
}

export function newAbortEventError(err: unknown): AbortEventError {
  return new AbortEventError(err);
}

export class ControllerClosedError extends EngineError {
  constructor(message = 'controller is closed') {
    super('ERR_CONTROLLER_CLOSED', message);
  }
}

export class EventQueueFullError extends EngineError {
  constructor(capacity: number) {
    super('ERR_EVENT_QUEUE_FULL', `event queue is full (capacity ${capacity})`);
  }
}

export class EventLoopAbortingError extends EngineError {
  constructor(message = 'event loop is aborting') {
    super('ERR_EVENT_LOOP_ABORTING', message);
  }
}

/** A blocking event pushed from inside the event loop would wait for itself forever. */
export class DeadlockError extends EngineError {
  constructor(eventName: string) {
    super('ERR_DEADLOCK', `blocking event "${eventName}" pushed from inside the event loop would deadlock`);
  }
}

export interface KeyError {
  readonly key: string;
  readonly error: Error;
}

/** A commit that failed as a whole (`txnInitError`) or for some keys (`kvErrors`). */
export class TransactionError extends EngineError {
  readonly kvErrors: readonly KeyError[];
  readonly txnInitError: Error | null;

  constructor(kvErrors: readonly KeyError[], txnInitError: Error | null = null) {
    super('ERR_TRANSACTION', TransactionError.format(kvErrors, txnInitError));
    this.kvErrors = kvErrors;
    this.txnInitError = txnInitError;
  }

  private static format(kvErrors: readonly KeyError[], txnInitError: Error | null): string {
    if (txnInitError) return `transaction failed to start: ${txnInitError.message}`;
    const shown = kvErrors.slice(0, 5).map((e) => `${e.key}: ${e.error.message}`);
    const more = kvErrors.length > 5 ? ` (+${kvErrors.length - 5} more)` : '';
    return `transaction failed for ${kvErrors.length} key(s): ${shown.join('; ')}${more}`;
  }
}
