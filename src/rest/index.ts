export { startRestServer, type RestServer } from './server.js';
export { HealthRegistry, type ComponentHealth, type ComponentState, type HealthReport } from './health-registry.js';
export { BadQueryError, NotConfiguredError, NotFoundError, RestError, UnauthorizedError, UnavailableError } from './errors.js';
export type { RestLogger, RestServerOptions, ResyncTrigger } from './options.js';
export type {
  DumpView as RestDumpView,
  EventHistoryQuery as RestEventHistoryQuery,
  RestControllerSource,
  RestMetricsSource,
  RestSchedulerSource,
} from './sources.js';
