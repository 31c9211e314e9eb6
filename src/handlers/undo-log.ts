import type { Event } from '../api/index.js';

/**
 * What one handler changed in its own state while reacting to the event being processed, so that
 * `revert(event)` can put it back. Only the latest event is kept: the controller reverts only the
 * event it is processing.
 */
export class UndoLog {
  #event: Event | null = null;
  readonly #steps: Array<() => void> = [];

  /** Starts recording for a new event (forgets the previous one). */
  begin(event: Event): void {
    this.#event = event;
    this.#steps.length = 0;
  }

  record(step: () => void): void {
    this.#steps.push(step);
  }

  /** Undoes the steps recorded for `event`, newest first; nothing when `event` is not the recorded one. */
  revert(event: Event): number {
    if (this.#event !== event) return 0;
    const n = this.#steps.length;
    for (let i = n - 1; i >= 0; i--) (this.#steps[i] as () => void)();
    this.#steps.length = 0;
    this.#event = null;
    return n;
  }
}
