export { ResyncOrchestrator } from './orchestrator.js';
export { DuplicateRegistrationError, ResyncOrchestratorClosedError } from './errors.js';
export type { ResyncOrchestratorOptions, ResyncLogger } from './options.js';
export type { Registration } from './registration.js';
export type { StatusEvent } from './status-event.js';
export type { OrchestratorState, RegistrationOutcome, ResyncListener, ResyncReason, ResyncRunInfo } from './run-info.js';
