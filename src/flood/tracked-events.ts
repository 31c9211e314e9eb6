// The generator's events report their completion to the run's tracker: any event, wrapped once.
import type { Event } from '../api/index.js';

/** Receives each event's completion. */
export interface DoneSink {
  finished(seq: number, err: Error | null): void;
}

/** An event whose `done` also reports to the run's tracker under its sequence number. */
export type Tracked<E extends Event> = E & { readonly seq: number };

/**
 * Makes `event` report to `sink` after its own `done` ran (so a waiting `AddPod` is answered
 * first). The event keeps its class: handlers see the built-in event they expect.
 */
export function tracked<E extends Event>(event: E, seq: number, sink: DoneSink): Tracked<E> {
  const own = event.done.bind(event);
  return Object.assign(event, {
    seq,
    done(err: Error | null): void {
      own(err);
      sink.finished(seq, err);
    },
  });
}
