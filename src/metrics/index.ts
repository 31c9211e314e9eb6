export { EngineMetrics } from './engine-metrics.js';
export type { EngineMetricsOptions } from './options.js';
export type {
  ConnectorStats,
  MetricsConnectorSource,
  MetricsControllerSource,
  MetricsOrchestratorSource,
  ProcessedEventInfo,
} from './sources.js';
