import { EngineError } from '../api/errors.js';

/** A worker threw or died while diffing/encoding a shard: the shard's keys fail with this. */
export class WorkerTaskError extends EngineError {
  readonly key: string;
  constructor(key: string, message: string, options?: { cause?: unknown }) {
    super('ERR_WORKER_TASK', `${key}: worker task failed: ${message}`, options);
    this.key = key;
  }
}

/** The pool was closed before (or while) a sync ran. */
export class OffloadClosedError extends EngineError {
  constructor(message = 'offload pool is closed') {
    super('ERR_OFFLOAD_CLOSED', message);
  }
}

/** A key of the desired state that the offload path could not plan (invalid value, no descriptor). */
export class OffloadKeyError extends EngineError {
  readonly key: string;
  constructor(code: string, key: string, message: string) {
    super(code, message);
    this.key = key;
  }
}

/** Bytes handed in as a state shard that are not one (bad header, offsets outside their areas, a value that is not msgpack). */
export class ShardFormatError extends EngineError {
  constructor(message: string) {
    super('ERR_SHARD_FORMAT', message);
  }
}
