// The package's public door: every folder's index.ts, nothing else.
export * from './api/index.js';
export * from './binapi/index.js';
export * from './controller/index.js';
export * from './connector/index.js';
export * from './scheduler/index.js';
export * from './descriptors/index.js';
export * from './resync/index.js';
export * from './metrics/index.js';
export * from './rest/index.js';
export * from './dbwatcher/index.js';
export * from './handlers/index.js';
export * from './flood/index.js';
export * from './engine/index.js';
export * from './offload/index.js';
