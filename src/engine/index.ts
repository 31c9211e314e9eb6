export { Engine, type EngineOptions } from './engine.js';
export { startDefaultStack, type DefaultStack, type DefaultStackOptions } from './default-stack.js';
export { DataplaneResync, DataplaneRestartedError } from './dataplane-resync.js';
