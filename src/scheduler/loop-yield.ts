/**
 * Keys (or ops) a big commit handles between two yields to the event loop in its O(state) loops,
 * so the main loop keeps serving other work (REST, watchers, timers) during a large resync.
 */
export const YIELD_CHUNK = 1024;

/** Lets the event loop run whatever is ready (setImmediate: after I/O callbacks). */
export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
