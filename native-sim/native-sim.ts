import { randomInt } from 'node:crypto';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import { DOORBELL_SLOTS, DoorbellSlot, DEFAULT_RING_BYTES } from '../src/connector/ring-layout.js';
import { createDoorbell, createRing } from '../src/connector/ring.js';
import type { ControlReply, ControlRequest, SimWorkerData } from './control-protocol.js';
import { validateFaults } from './sim-engine.js';
import { SimBusyError, SimClosedError, SimControlError } from './sim-errors.js';
import type { SimCounters, SimFaults, SimHeapUsage, SimSnapshot } from './sim-types.js';

export interface NativeSimOptions {
  /** Seed of the fault-injection PRNG. @default 1 */
  readonly seed?: number;
  /** Data bytes of each ring (request, reply, producer rings). @default 1048576 */
  readonly ringBytes?: number;
  /** Microseconds the sim thread keeps polling its request rings before it sleeps; 0 = sleep at once. @default 50 */
  readonly spinMicros?: number;
}

/** The shared memory a ring connector attaches to. */
export interface SimRings {
  readonly request: SharedArrayBuffer;
  readonly reply: SharedArrayBuffer;
  /** Rung by every request producer (and by control calls) to wake the sim thread. */
  readonly doorbell: SharedArrayBuffer;
  readonly ringBytes: number;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function validate(options: unknown): Required<NativeSimOptions> {
  if (options === undefined) return { seed: 1, ringBytes: DEFAULT_RING_BYTES, spinMicros: 50 };
  if (typeof options !== 'object' || options === null) throw new TypeError(`options: expected an object, received ${options === null ? 'null' : typeof options}`);
  const o = options as Record<string, unknown>;
  const seed = o['seed'] ?? 1;
  if (typeof seed !== 'number' || !Number.isInteger(seed)) throw new TypeError(`seed: expected an integer, received ${String(seed)}`);
  const ringBytes = o['ringBytes'] ?? DEFAULT_RING_BYTES;
  if (typeof ringBytes !== 'number') throw new TypeError(`ringBytes: expected a number, received ${typeof ringBytes}`);
  const spinMicros = o['spinMicros'] ?? 50;
  if (typeof spinMicros !== 'number' || !Number.isInteger(spinMicros)) throw new TypeError(`spinMicros: expected an integer, received ${String(spinMicros)}`);
  if (spinMicros < 0 || spinMicros > 100_000) throw new RangeError(`spinMicros: expected 0..100000, received ${spinMicros}`);
  return { seed, ringBytes, spinMicros };
}

class SimEngineHandle {
  readonly worker: Worker;
  readonly rings: SimRings;
  readonly #bell: Int32Array;
  readonly #port: MessagePort;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #nextId = 1;
  closed = false;
  attached = false;
  /** SharedArrayBuffers do not keep their identity across threads: producer rings get ids. */
  readonly ringIds = new Map<SharedArrayBuffer, number>();
  nextRingId = 1;
  readonly exited: Promise<void>;

  constructor(opts: Required<NativeSimOptions>) {
    const request = createRing(opts.ringBytes);
    const reply = createRing(opts.ringBytes);
    const doorbell = createDoorbell();
    this.rings = { request, reply, doorbell, ringBytes: opts.ringBytes };
    this.#bell = new Int32Array(doorbell, 0, DOORBELL_SLOTS);
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    const data: SimWorkerData = { controlPort: port2, requestRing: request, replyRing: reply, doorbell, seed: opts.seed, epoch: randomInt(1, 0x7fffffff), spinMicros: opts.spinMicros };
    this.worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: data, transferList: [port2] });
    port1.on('message', (r: ControlReply) => this.#onReply(r));
    this.exited = new Promise((resolve) => {
      this.worker.once('exit', () => {
        this.#fail(new SimClosedError('native-sim thread exited'));
        port1.close();
        resolve();
      });
    });
    this.worker.on('error', (err) => this.#fail(new SimClosedError(`native-sim thread failed: ${err.message}`)));
  }

  #fail(err: Error): void {
    this.closed = true;
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
  }

  #onReply(r: ControlReply): void {
    const p = this.#pending.get(r.id);
    if (!p) return;
    this.#pending.delete(r.id);
    if (r.ok) p.resolve(r.value);
    else p.reject(new SimControlError(r.code, r.message));
  }

  call(req: DistributiveOmit<ControlRequest, 'id'>, transfer: readonly MessagePort[] = []): Promise<unknown> {
    if (this.closed) return Promise.reject(new SimClosedError());
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#port.postMessage({ ...req, id }, transfer as MessagePort[]);
      // The ring loop polls its control port when woken: ring the doorbell after posting.
      Atomics.add(this.#bell, DoorbellSlot.BELL, 1);
      Atomics.notify(this.#bell, DoorbellSlot.BELL);
    });
  }
}

/** The simulated VPP running in its own worker thread (N1). Create it with `startNativeSim`. */
export class NativeSim {
  readonly #e: SimEngineHandle;

  private constructor(e: SimEngineHandle) {
    this.#e = e;
  }

  /** @internal use startNativeSim */
  static async start(options?: NativeSimOptions): Promise<NativeSim> {
    const e = new SimEngineHandle(validate(options));
    await e.call({ op: 'hello' });
    return new NativeSim(e);
  }

  get closed(): boolean {
    return this.#e.closed;
  }

  /** Full state of the simulated dataplane (N5). */
  async snapshot(): Promise<SimSnapshot> {
    return (await this.#e.call({ op: 'snapshot' })) as SimSnapshot;
  }

  /** Message, injected-error and protocol-error counters (N5). */
  async counters(): Promise<SimCounters> {
    return (await this.#e.call({ op: 'counters' })) as SimCounters;
  }

  /** The sim thread's heap; `collect` runs a full GC there first (diagnostics, for benchmarks). */
  async heapUsage(collect = false): Promise<SimHeapUsage> {
    if (typeof collect !== 'boolean') throw new TypeError(`collect: expected a boolean, received ${typeof collect}`);
    return (await this.#e.call({ op: 'heap', collect })) as SimHeapUsage;
  }

  /** Changes fault injection (N4); fields left out keep their setting. */
  async setFaults(faults: SimFaults): Promise<void> {
    await this.#e.call({ op: 'faults', faults: validateFaults(faults) });
  }

  /** Loses all state, like a VPP restart; resolves with the new epoch. */
  async restart(): Promise<number> {
    return (await this.#e.call({ op: 'restart' })) as number;
  }

  /** The shared memory of the connector's rings (diagnostics and test hooks; do not write into
   * a ring that has a live producer). */
  get rings(): SimRings {
    return this.#e.rings;
  }

  /** The rings of the one ring connector; throws SimBusyError if one is attached already. */
  attachConnector(): SimRings {
    if (this.#e.closed) throw new SimClosedError();
    if (this.#e.attached) throw new SimBusyError();
    this.#e.attached = true;
    return this.#e.rings;
  }

  detachConnector(): void {
    this.#e.attached = false;
  }

  /** Adds a request ring (SPSC, its own producer) that the sim thread consumes too. */
  async attachRequestRing(ring: SharedArrayBuffer): Promise<void> {
    if (!(ring instanceof SharedArrayBuffer)) throw new TypeError(`ring: expected a SharedArrayBuffer, received ${typeof ring}`);
    if (this.#e.ringIds.has(ring)) return;
    const ringId = this.#e.nextRingId++;
    this.#e.ringIds.set(ring, ringId);
    await this.#e.call({ op: 'attach-ring', ring, ringId });
  }

  async detachRequestRing(ring: SharedArrayBuffer): Promise<void> {
    const ringId = this.#e.ringIds.get(ring);
    if (ringId === undefined) return;
    this.#e.ringIds.delete(ring);
    await this.#e.call({ op: 'detach-ring', ringId });
  }

  /** Switches the sim thread to the postMessage baseline transport on `port` (or back to rings). */
  async serve(transport: 'ring' | 'postMessage', port?: MessagePort): Promise<void> {
    if (transport === 'ring') await this.#e.call({ op: 'serve-rings' });
    else if (!port) throw new TypeError('port: expected a MessagePort for the postMessage transport, received undefined');
    else await this.#e.call({ op: 'serve-postmessage', port }, [port]);
  }

  /** Stops the sim thread; twice is harmless. */
  async close(): Promise<void> {
    if (!this.#e.closed) {
      try {
        await this.#e.call({ op: 'close' });
      } catch {
        // Already gone: nothing to stop gracefully.
      }
      this.#e.closed = true;
      await this.#e.worker.terminate();
    }
    await this.#e.exited;
  }
}

/** Starts the simulated VPP in its own worker thread (N1). */
export function startNativeSim(options?: NativeSimOptions): Promise<NativeSim> {
  return NativeSim.start(options);
}
