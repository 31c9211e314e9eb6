import type { Event, EventLoop } from '../api/events.js';
import { EventQueueFullError } from '../api/errors.js';
import type { DbWatcherLogger } from './options.js';

const MAX_RETRY_DELAY = 1000;

/**
 * Pushes events into the loop in order. An `EventQueueFullError` parks the event (and every later
 * one, to keep the order) in a backlog that is retried with exponential backoff: nothing is lost.
 * Any other push error (a closed controller) drops the event with an error log.
 */
export class EventPusher {
  readonly #loop: EventLoop;
  readonly #logger: DbWatcherLogger;
  readonly #initialDelay: number;
  #backlog: Event[] = [];
  #head = 0;
  #delay: number;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;
  #idle: Array<() => void> = [];
  /** Times the loop refused an event as full. */
  retries = 0;
  /** Events dropped because the loop refused them for good (e.g. closed). */
  dropped = 0;

  constructor(loop: EventLoop, logger: DbWatcherLogger, initialDelay: number) {
    this.#loop = loop;
    this.#logger = logger;
    this.#initialDelay = initialDelay;
    this.#delay = initialDelay;
  }

  /** Events waiting for room in the loop's queue. */
  get backlog(): number {
    return this.#backlog.length - this.#head;
  }

  push(event: Event): void {
    if (this.#closed) return;
    if (this.backlog > 0 || !this.#tryPush(event)) {
      this.#backlog.push(event);
      this.#schedule();
    }
  }

  /** Resolves when the backlog is empty. */
  drained(): Promise<void> {
    if (this.backlog === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Returns false when the loop is full (the caller keeps the event); true when pushed or dropped. */
  #tryPush(event: Event): boolean {
    try {
      this.#loop.pushEvent(event);
      return true;
    } catch (err) {
      if (err instanceof EventQueueFullError || (err as { code?: unknown } | null)?.code === 'ERR_EVENT_QUEUE_FULL') {
        this.retries++;
        return false;
      }
      this.dropped++;
      this.#logger.error({ err, event: event.toString() }, 'event loop refused an event; dropped');
      return true;
    }
  }

  #schedule(): void {
    if (this.#timer || this.#closed) return;
    this.#timer = setTimeout(() => this.#retry(), this.#delay);
    this.#delay = Math.min(this.#delay * 2, MAX_RETRY_DELAY);
  }

  #retry(): void {
    this.#timer = null;
    while (this.#head < this.#backlog.length) {
      const event = this.#backlog[this.#head] as Event;
      if (!this.#tryPush(event)) {
        this.#schedule();
        return;
      }
      this.#backlog[this.#head++] = undefined as unknown as Event;
    }
    this.#backlog = [];
    this.#head = 0;
    this.#delay = this.#initialDelay;
    const idle = this.#idle;
    this.#idle = [];
    for (const resolve of idle) resolve();
  }

  /** Stops retrying; events still in the backlog are reported and dropped. */
  close(): number {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const left = this.backlog;
    if (left > 0) this.#logger.warn({ events: left }, 'DB watcher closed with events the loop had no room for');
    this.#backlog = [];
    this.#head = 0;
    const idle = this.#idle;
    this.#idle = [];
    for (const resolve of idle) resolve();
    return left;
  }
}
