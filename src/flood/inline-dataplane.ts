// The simulated VPP's engine called in this thread, without rings: a dataplane client for
// `dataplane: 'inline'` runs (a diagnostic and a baseline beside the threaded default).
import { VppApiError } from '../connector/index.js';
import { SimEngine } from '../../native-sim/index.js';
import type { BinapiClient, Reply } from '../scheduler/index.js';

type Fields = Record<string, unknown>;

export class InlineDataplane implements BinapiClient {
  readonly engine: SimEngine;
  #context = 1;
  readonly #restartListeners = new Set<(epoch: number) => void>();

  constructor(seed: number) {
    this.engine = new SimEngine(seed, 1);
  }

  #call(name: string, fields: Fields | undefined): Fields[] {
    const context = this.#context;
    this.#context = (this.#context + 1) >>> 0 || 1;
    const out = this.engine.handle({ ...fields, _msgname: name, context });
    if (out === null) throw new VppApiError(name, -1);
    return out;
  }

  #one(name: string, fields: Fields | undefined): Reply | Error {
    const reply = this.#call(name, fields)[0];
    if (reply === undefined) return new VppApiError(name, -1);
    const retval = reply['retval'];
    if (typeof retval === 'number' && retval !== 0) return new VppApiError(name, retval);
    return reply;
  }

  request(name: string, fields?: Fields): Promise<Reply> {
    const r = this.#one(name, fields);
    return r instanceof Error ? Promise.reject(r) : Promise.resolve(r);
  }

  requestBatch(msgs: ReadonlyArray<{ name: string; fields?: Fields }>): Promise<Array<Reply | Error>> {
    return Promise.resolve(msgs.map((m) => this.#one(m.name, m.fields)));
  }

  dump(name: string, fields?: Fields): Promise<Reply[]> {
    return Promise.resolve(this.#call(name, fields));
  }

  onRestart(listener: (epoch: number) => void): () => void {
    this.#restartListeners.add(listener);
    return () => this.#restartListeners.delete(listener);
  }

  /** Loses the dataplane state and tells the listeners, as the connector does on a new epoch. */
  restart(): void {
    this.engine.restart();
    for (const l of this.#restartListeners) l(this.engine.epoch);
  }
}
