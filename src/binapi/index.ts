export * from './messages.js';
export * from './retval.js';
