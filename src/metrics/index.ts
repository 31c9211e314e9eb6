export { EngineMetrics } from './engine-metrics.js';
export type { EngineMetricsOptions } from './options.js';
export type {
  ConnectorStats as MetricsConnectorStats,
  MetricsConnectorSource,
  MetricsControllerSource,
  MetricsOrchestratorSource,
  ProcessedEventInfo as MetricsEventInfo,
} from './sources.js';
