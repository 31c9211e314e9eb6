// Follows every pushed event to its `done`: end-to-end latency (push -> done) into an HDR histogram,
// errors by code, duplicates, and wake-ups for a producer waiting for room in the queue.
import { performance } from 'node:perf_hooks';
import * as hdr from 'hdr-histogram-js';
import type { DoneSink } from './tracked-events.js';

export interface LatencySummary {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

export class EventTracker implements DoneSink {
  /** seq -> push time (ms, performance clock) of events not yet done */
  readonly #inFlight = new Map<number, number>();
  readonly #latencyUs = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
  /** The producer waiting for the in-flight count to drop to `limit` (there is one producer). */
  #waiter: { limit: number; wake: () => void } | null = null;
  pushed = 0;
  done = 0;
  errors = 0;
  duplicateDone = 0;
  lastDoneAt = performance.now();
  readonly errorsByCode = new Map<string, number>();

  /** Call right before pushEvent: a `done` may come back at once. */
  begin(seq: number): void {
    this.#inFlight.set(seq, performance.now());
  }

  /** pushEvent threw: the event was not accepted. */
  cancel(seq: number): void {
    this.#inFlight.delete(seq);
  }

  /** pushEvent accepted the event. */
  accepted(): void {
    this.pushed++;
  }

  finished(seq: number, err: Error | null): void {
    const start = this.#inFlight.get(seq);
    if (start === undefined) {
      this.duplicateDone++;
      return;
    }
    this.#inFlight.delete(seq);
    const now = performance.now();
    this.lastDoneAt = now;
    this.done++;
    this.#latencyUs.recordValue(Math.max(1, Math.round((now - start) * 1000)));
    if (err !== null) {
      this.errors++;
      const maybe = (err as { code?: unknown }).code;
      const code = typeof maybe === 'string' ? maybe : err.name;
      this.errorsByCode.set(code, (this.errorsByCode.get(code) ?? 0) + 1);
    }
    const w = this.#waiter;
    if (w !== null && this.#inFlight.size <= w.limit) {
      this.#waiter = null;
      w.wake();
    }
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  isDone(seq: number): boolean {
    return !this.#inFlight.has(seq);
  }

  /**
   * Resolves true once at most `limit` events are in flight, false when no event finished for
   * `stallMs` (a stalled engine must not hang the run). One timer per wait, re-armed while events
   * keep finishing.
   */
  waitInFlight(limit: number, stallMs: number): Promise<boolean> {
    if (this.#inFlight.size <= limit) return Promise.resolve(true);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout;
      const armedAt = performance.now();
      const check = (): void => {
        const quiet = performance.now() - Math.max(this.lastDoneAt, armedAt);
        if (quiet < stallMs) {
          timer = setTimeout(check, stallMs - quiet + 1);
          return;
        }
        this.#waiter = null;
        resolve(false);
      };
      timer = setTimeout(check, stallMs);
      this.#waiter = {
        limit,
        wake: () => {
          clearTimeout(timer);
          resolve(true);
        },
      };
    });
  }

  /** Waits until nothing is in flight; false on a stall. */
  idle(stallMs: number): Promise<boolean> {
    return this.waitInFlight(0, stallMs);
  }

  latency(): LatencySummary {
    const h = this.#latencyUs;
    if (h.totalCount === 0) return { p50: 0, p90: 0, p99: 0, max: 0, mean: 0 };
    // A percentile is its bucket's highest equivalent value, which can pass the largest value
    // recorded in that bucket: capped at the maximum, the report never shows p99 above max.
    const at = (p: number): number => Math.min(h.getValueAtPercentile(p), h.maxValue);
    return { p50: at(50), p90: at(90), p99: at(99), max: h.maxValue, mean: Math.round(h.mean) };
  }
}
