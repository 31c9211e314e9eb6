export { Engine, type EngineOptions } from './engine.js';
export { SCHEDULER_POOL_MIN_CORES, SCHEDULER_POOL_THRESHOLD, schedulerPoolThreshold, startDefaultStack, type DefaultStack, type DefaultStackOptions } from './default-stack.js';
export { DataplaneResync, DataplaneRestartedError } from './dataplane-resync.js';
