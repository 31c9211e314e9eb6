// Helpers for the resync orchestrator tests: a logger that records, and awaiting a run's end.
import type { ResyncOrchestrator, ResyncRunInfo, StatusEvent } from '../../src/resync/index.js';

export interface LogEntry {
  readonly level: 'warn' | 'info' | 'debug';
  readonly obj: object;
  readonly msg: string | undefined;
}

export function recordingLogger(): { logger: { warn(o: object, m?: string): void; info(o: object, m?: string): void; debug(o: object, m?: string): void }; entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  return {
    entries,
    logger: {
      warn: (obj, msg) => entries.push({ level: 'warn', obj, msg }),
      info: (obj, msg) => entries.push({ level: 'info', obj, msg }),
      debug: (obj, msg) => entries.push({ level: 'debug', obj, msg }),
    },
  };
}

/** Resolves with the info of the next run that ends. */
export function nextRun(orchestrator: ResyncOrchestrator): Promise<ResyncRunInfo> {
  return new Promise((resolve) => {
    const off = orchestrator.onResync((info) => {
      off();
      resolve(info);
    });
  });
}

/** Lets every pending immediate and microtask run (no timers involved). */
export async function settle(turns = 3): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Reads one status event from an iterator created now. */
export async function takeOne(events: AsyncIterable<StatusEvent>): Promise<StatusEvent> {
  const it = events[Symbol.asyncIterator]();
  const r = await it.next();
  if (r.done) throw new Error('status events ended');
  return r.value;
}
