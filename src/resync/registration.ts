import type { StatusEvent } from './status-event.js';

/** Returned by `register()`: the channel on which a registration is told that a resync started. */
export interface Registration {
  readonly name: string;
  /** Status events offered to this registration; ends when the orchestrator is closed. */
  statusEvents(): AsyncIterable<StatusEvent>;
  toString(): string;
}

interface Waiter {
  readonly owner: object;
  readonly resolve: (result: IteratorResult<StatusEvent>) => void;
}

interface Offer {
  readonly event: StatusEvent;
  readonly onTaken: () => void;
}

const DONE: IteratorResult<StatusEvent> = Object.freeze({ done: true, value: undefined });

/**
 * An unbuffered channel, like the Go channel of the reference: an offered event is either taken by a
 * reader already waiting, or by the next `next()` before the orchestrator withdraws it.
 */
export class StatusChannel implements Registration {
  readonly name: string;
  #waiters: Waiter[] = [];
  #offer: Offer | null = null;
  #closed = false;

  constructor(name: string) {
    this.name = name;
  }

  toString(): string {
    return this.name;
  }

  statusEvents(): AsyncIterable<StatusEvent> {
    return { [Symbol.asyncIterator]: () => this.#iterator() };
  }

  /** Offers an event; `onTaken` runs (possibly synchronously) once a reader has it. */
  offer(event: StatusEvent, onTaken: () => void): void {
    if (this.#closed) return;
    const waiter = this.#waiters.shift();
    if (waiter) {
      onTaken();
      waiter.resolve({ done: false, value: event });
      return;
    }
    this.#offer = { event, onTaken };
  }

  /** Takes back an offer nobody took. */
  withdraw(): void {
    this.#offer = null;
  }

  /** Ends every iterator; later offers are ignored. */
  close(): void {
    this.#closed = true;
    this.#offer = null;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.resolve(DONE);
  }

  #iterator(): AsyncIterator<StatusEvent> {
    const owner = {};
    let ended = false;
    return {
      next: () => {
        if (ended || this.#closed) return Promise.resolve(DONE);
        const offer = this.#offer;
        if (offer) {
          this.#offer = null;
          offer.onTaken();
          return Promise.resolve({ done: false, value: offer.event });
        }
        return new Promise((resolve) => this.#waiters.push({ owner, resolve }));
      },
      return: () => {
        ended = true;
        const mine = this.#waiters.filter((w) => w.owner === owner);
        this.#waiters = this.#waiters.filter((w) => w.owner !== owner);
        for (const w of mine) w.resolve(DONE);
        return Promise.resolve(DONE);
      },
    };
  }
}
