export { Engine, type EngineOptions } from './engine.js';
export { SCHEDULER_POOL_THRESHOLD, startDefaultStack, type DefaultStack, type DefaultStackOptions } from './default-stack.js';
export { DataplaneResync, DataplaneRestartedError } from './dataplane-resync.js';
