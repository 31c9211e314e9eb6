// The DB watcher's public door: the etcd watcher with its local mirror, and Contiv's key layout.
export * from './k8s-layout.js';
export { DbWatcher } from './db-watcher.js';
export type { DbWatcherStats } from './db-watcher.js';
export type {
  DbWatcherOptions,
  DbWatcherEtcdOptions,
  DbWatcherState,
  DbWatcherLogger,
  DbWatcherStatusCheck,
} from './options.js';
export { InvalidDbValueError, RemoteDbUnavailableError, LocalDbUnavailableError, DbWatcherStateError } from './errors.js';
export { generateCluster, loadIntoEtcd } from './k8s-loader.js';
export type { SyntheticClusterSize, KubeObject, LoadOptions } from './k8s-loader.js';
