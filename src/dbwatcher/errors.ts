import { EngineError } from '../api/errors.js';

/** A value in the database that is not a JSON object: skipped, reported, never pushed. */
export class InvalidDbValueError extends EngineError {
  readonly key: string;
  constructor(key: string, reason: string) {
    super('ERR_DBWATCHER_INVALID_VALUE', `invalid value at "${key}": ${reason}`);
    this.key = key;
  }
}

/** The remote database (etcd) could not be reached or read. */
export class RemoteDbUnavailableError extends EngineError {
  constructor(cause: unknown) {
    super('ERR_REMOTE_DB_UNAVAILABLE', `remote DB unavailable: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
  }
}

/** The local mirror (lmdb) could not be loaded or opened: the watcher runs without it. */
export class LocalDbUnavailableError extends EngineError {
  constructor(cause: unknown) {
    super('ERR_LOCAL_DB_UNAVAILABLE', `local DB unavailable: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
  }
}

/** The watcher was closed (or not started) when asked to work. */
export class DbWatcherStateError extends EngineError {
  constructor(message: string, code: 'ERR_DBWATCHER_CLOSED' | 'ERR_DBWATCHER_NOT_STARTED') {
    super(code, message);
  }
}
