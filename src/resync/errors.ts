import { EngineError } from '../api/errors.js';

/** `register()` was called twice with the same name. */
export class DuplicateRegistrationError extends EngineError {
  constructor(name: string) {
    super('ERR_RESYNC_DUPLICATE_REGISTRATION', `a resync registration named "${name}" already exists`);
  }
}

/** The orchestrator was used after `close()`. */
export class ResyncOrchestratorClosedError extends EngineError {
  constructor(operation: string) {
    super('ERR_RESYNC_ORCHESTRATOR_CLOSED', `cannot ${operation}: the resync orchestrator is closed`);
  }
}
