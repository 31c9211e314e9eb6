export { Controller } from './controller.js';
export { DEFAULT_CONTROLLER_CONFIG, resolveControllerConfig } from './config.js';
export type { ControllerConfig } from './config.js';
export { CONTROLLER_STATUS_NAME, DB_SOURCE } from './engine.js';
export {
  InvalidEventError,
  HandlerTimeoutError,
  CommitTimeoutError,
  InvalidCommitResultError,
  HealingFailedError,
  StartupResyncDeadlineError,
} from './errors.js';
export { mergeValues } from './merge-values.js';
export { silentLogger } from './logger.js';
export type { ControllerLogger } from './logger.js';
export type {
  ControllerOptions,
  EventRecord,
  EventHistoryQuery,
  ExternalConfigSource,
  HandlerRecord,
  HealthState,
  OwnedScheduler,
  ProcessedEventInfo,
  StatusCheck,
} from './types.js';
