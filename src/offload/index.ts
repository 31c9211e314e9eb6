export { OffloadPool } from './offload-pool.js';
export type { SyncMode, SyncOptions, SyncResult } from './offload-pool.js';
export { DEFAULT_INLINE_THRESHOLD, envSwitches } from './options.js';
export type { OffloadOptions } from './options.js';
export { StateSnapshot, shardOf } from './state-snapshot.js';
export { OffloadClosedError, OffloadKeyError, ShardFormatError, WorkerTaskError } from './errors.js';
