export * from './values.js';
export * from './plain-value.js';
export * from './enums.js';
export * from './errors.js';
export * from './events.js';
export type * from './handlers.js';
export * from './transactions.js';
export type * from './scheduler.js';
