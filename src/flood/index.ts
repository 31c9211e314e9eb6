export { runFlood, FLOOD_CONTROLLER_CONFIG, type RunFloodOptions, type FloodProgress } from './runner.js';
export type { FloodOptions } from './options.js';
export type { FloodReport } from './report.js';
export { formatReport } from './report.js';
export type { FloodStack, FloodStackFactory, FloodStackInit, FloodController } from './stack.js';
export type { Divergence } from './divergence.js';
export { SyntheticHandler, SyntheticUpdate, syntheticHandlers } from './synthetic-handlers.js';
export { createFloodStack } from './default-stack.js';
