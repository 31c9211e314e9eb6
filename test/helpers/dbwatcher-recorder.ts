// A test double of the EventLoop interface for the DB watcher tests: it records pushed events and
// can refuse pushes with EventQueueFullError, as a full controller queue would.
import { EventQueueFullError } from '../../src/api/errors.js';
import type { Event, EventLoop } from '../../src/api/events.js';

export class RecordingLoop implements EventLoop {
  readonly events: Event[] = [];
  /** Pushes still to refuse with EventQueueFullError. */
  refuse = 0;
  refused = 0;
  /** Called after each accepted push (a test's moment to act, e.g. stall etcd after the snapshot). */
  onPush: ((event: Event) => void) | null = null;
  #waiters: Array<{ check: () => boolean; resolve: () => void }> = [];

  pushEvent(event: Event): void {
    if (this.refuse > 0) {
      this.refuse--;
      this.refused++;
      throw new EventQueueFullError(1);
    }
    this.events.push(event);
    this.onPush?.(event);
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.check()) return true;
      w.resolve();
      return false;
    });
  }

  /** Resolves once `predicate(events)` holds; rejects after `timeoutMs` naming `what`. */
  waitFor(what: string, predicate: (events: readonly Event[]) => boolean, timeoutMs = 20_000): Promise<void> {
    if (predicate(this.events)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new Error(`timed out waiting for ${what}; got ${this.events.map((e) => e.toString()).join(' | ')}`));
      }, timeoutMs);
      const waiter = {
        check: () => predicate(this.events),
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.#waiters.push(waiter);
    });
  }

  /** Events of one class, in push order. */
  of<T>(cls: abstract new (...args: never[]) => T): T[] {
    return this.events.filter((e): e is Event & T => e instanceof cls);
  }
}

/** Resolves when `check()` holds, polling state the test cannot subscribe to; rejects after the timeout. */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

type WatcherState = 'connecting' | 'remote' | 'local' | 'disconnected' | 'closed';

/** Records DbWatcher state changes (pass `onStateChange`) and lets a test wait for a state. */
export class StateLog {
  readonly states: WatcherState[] = [];
  #waiters: Array<{ state: WatcherState; after: number; resolve: () => void }> = [];

  readonly onStateChange = (state: WatcherState): void => {
    this.states.push(state);
    this.#waiters = this.#waiters.filter((w) => {
      if (w.state !== state || this.states.length <= w.after) return true;
      w.resolve();
      return false;
    });
  };

  /** Resolves at the next entry into `state` (or at once if it was entered since `mark()`). */
  waitFor(state: WatcherState, since = 0, timeoutMs = 20_000): Promise<void> {
    if (this.states.slice(since).includes(state)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for state ${state}; saw ${this.states.join(' -> ')}`)), timeoutMs);
      this.#waiters.push({
        state,
        after: since,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  /** The current position, for `waitFor(state, since)`. */
  mark(): number {
    return this.states.length;
  }
}
