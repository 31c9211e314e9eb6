import { toError } from '../api/errors.js';
import { DuplicateRegistrationError, ResyncOrchestratorClosedError } from './errors.js';
import { resolveResyncOptions, type ResyncOrchestratorOptions } from './options.js';
import { StatusChannel, type Registration } from './registration.js';
import { ResyncEngine } from './resync-engine.js';
import type { OrchestratorState, ResyncListener } from './run-info.js';

/**
 * Tells registered components, one after another in registration order, that a resync started, and
 * plans another resync when one of them reports an error (seed 002, SPEC R1–R3).
 */
export class ResyncOrchestrator {
  readonly #engine: ResyncEngine;
  #closed = false;

  constructor(options?: ResyncOrchestratorOptions) {
    this.#engine = new ResyncEngine(resolveResyncOptions(options));
  }

  /** Registers a component; throws `DuplicateRegistrationError` for a name already taken. */
  register(name: string): Registration {
    if (typeof name !== 'string' || name.length === 0) {
      throw new TypeError(`name must be a non-empty string, received ${typeof name === 'string' ? '""' : typeof name}`);
    }
    if (this.#closed) throw new ResyncOrchestratorClosedError(`register "${name}"`);
    if (this.#engine.has(name)) throw new DuplicateRegistrationError(name);
    const channel = new StatusChannel(name);
    this.#engine.add(channel);
    return channel;
  }

  /** Resolves when a resync that started after this call has gone through every registration. */
  doResync(): Promise<void> {
    return this.#engine.doResync();
  }

  /** Plans one more resync (Reporter). Ignored after `close()`. */
  reportError(name: string, err: Error): void {
    this.#engine.reportError(String(name), toError(err));
  }

  /** Listens for finished runs (for metrics and tests); returns the unsubscribe function. */
  onResync(listener: ResyncListener): () => void {
    if (typeof listener !== 'function') throw new TypeError(`listener must be a function, received ${typeof listener}`);
    return this.#engine.onResync(listener);
  }

  /** Resync runs started so far. */
  get resyncCount(): number {
    return this.#engine.resyncCount;
  }

  get state(): OrchestratorState {
    return this.#engine.state;
  }

  /** Cancels planned runs and pending timeouts, ends every status iterator; never rejects. */
  close(): Promise<void> {
    this.#closed = true;
    return this.#engine.close();
  }
}
