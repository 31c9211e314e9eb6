import { EngineError } from '../api/errors.js';

/** A value that does not match its descriptor: never sent to the dataplane. */
export class InvalidValueError extends EngineError {
  readonly key: string;
  constructor(key: string, reason: string) {
    super('ERR_INVALID_VALUE', `invalid value for ${key}: ${reason}`);
    this.key = key;
  }
}

/**
 * Whether a key is well-formed UTF-16 (no lone surrogate): keys cross threads and are stored as
 * UTF-8, where a lone surrogate turns into U+FFFD and two keys would become one.
 */
export function isWellFormedKey(key: string): boolean {
  return (key as unknown as { isWellFormed(): boolean }).isWellFormed();
}

/** A key the scheduler cannot hold (the empty key, or one with a lone surrogate). */
export class InvalidKeyError extends EngineError {
  readonly key: string;
  constructor(key: string) {
    super('ERR_INVALID_KEY', `invalid key ${JSON.stringify(key)}: keys are non-empty, well-formed strings (no lone surrogate)`);
    this.key = key;
  }
}

/** The scheduler was closed: the operation was not (or not completely) run. */
export class SchedulerClosedError extends EngineError {
  constructor(message = 'scheduler is closed') {
    super('ERR_SCHEDULER_CLOSED', message);
  }
}

/** A key no registered descriptor handles: kept as desired state, never applied. */
export class UnimplementedKeyError extends EngineError {
  readonly key: string;
  constructor(key: string) {
    super('ERR_UNIMPLEMENTED_KEY', `no descriptor handles key ${key}`);
    this.key = key;
  }
}

/** A descriptor that cannot be registered (bad shape, clashing prefix or name). */
export class DescriptorRegistrationError extends EngineError {
  constructor(message: string) {
    super('ERR_DESCRIPTOR_REGISTRATION', message);
  }
}

/** A descriptor produced or retrieved something the scheduler cannot use. */
export class DescriptorError extends EngineError {
  constructor(descriptor: string, message: string, options?: { cause?: unknown }) {
    super('ERR_DESCRIPTOR', `descriptor ${descriptor}: ${message}`, options);
  }
}

/** A multi-wave operation stopped half way (revert mode stopped the transaction): its key is re-read. */
export class OperationInterruptedError extends EngineError {
  constructor(key: string) {
    super('ERR_OPERATION_INTERRUPTED', `${key}: operation interrupted after its first wave`);
  }
}
