// The e2e scenario's handlers and an instant dataplane client, shared by the e2e, schedcpu and
// commit suites.
import type { Event, EventHandler, UpdateOperations } from '../src/api/index.js';
import { routeKey } from '../src/descriptors/index.js';
import type { BinapiClient, Reply } from '../src/scheduler/index.js';
import { CountedUpdate } from './counted-update.js';

/** Route keys each handler puts per event. */
export const KEYS = 5;
export const HANDLERS = 3;
/** Distinct routes per handler; events cycle through them, flipping the preference each round. */
export const SLOTS = 4096;

/** HANDLERS handlers, each putting KEYS route keys per CountedUpdate. */
export function routeUpdateHandlers(): EventHandler[] {
  return Array.from({ length: HANDLERS }, (_, h) => ({
    toString: () => `routes-${h}`,
    handlesEvent: (e: Event) => e instanceof CountedUpdate,
    resync: () => undefined,
    update: (event: Event, txn: UpdateOperations) => {
      const id = (event as CountedUpdate).id;
      for (let k = 0; k < KEYS; k++) {
        const slot = (id * KEYS + k) % SLOTS;
        const round = Math.floor((id * KEYS + k) / SLOTS);
        const v = { vrfId: 0, dstNetwork: `10.${h}.${slot >>> 4}.${(slot & 15) << 4}/28`, nextHopAddr: '192.168.0.1', weight: 1, preference: round & 1 };
        txn.put(routeKey(v), v);
      }
    },
    revert: () => undefined,
  }));
}

const OK: Reply = Object.freeze({ retval: 0 });

/** Answers every request with success at once, in-process; counts what it was sent. */
export class InstantClient implements BinapiClient {
  sent = 0;
  request(): Promise<Reply> {
    return Promise.resolve(OK);
  }
  requestBatch(msgs: ReadonlyArray<{ name: string }>): Promise<Array<Reply | Error>> {
    this.sent += msgs.length;
    return Promise.resolve(msgs.map(() => OK));
  }
  dump(): Promise<Reply[]> {
    return Promise.resolve([]);
  }
  onRestart(): () => void {
    return () => undefined;
  }
}
