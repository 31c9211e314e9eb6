import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { NativeSim } from '../../native-sim/native-sim.js';
import { FrameCodec } from './frame-codec.js';
import { requestMessage } from './request-message.js';
import { RingReader, RingWriter, type RingCorruption, ringUsedBytes } from './ring.js';
import { RingSlot } from './ring-layout.js';
import { waitAsync } from './wait-async.js';
import { RecentWaits } from './adaptive-spin.js';

/** What the connector engine needs from a way of moving messages to the sim thread and back. */
export interface Transport {
  /** Stages one request (as `requestMessage` builds it); false when there is no room now. Throws on an unencodable message. */
  write(name: string, context: number, fields: Readonly<Record<string, unknown>> | undefined): boolean;
  /** Publishes staged messages (one wake-up per batch). */
  commit(): void;
  /** Resolves once room may have appeared (replies consumed by the sim). */
  waitForSpace(): Promise<void>;
  /** Called after a commit: deliver replies that are ready now (ring: bounded spin). */
  afterSend(inFlight: () => number): void;
  close(): Promise<void>;
  usage(): { requestUsed: number; requestBytes: number; replyUsed: number; replyBytes: number };
}

export interface TransportSink {
  /** One decoded reply (any shape: the engine validates it). */
  onMessage(message: unknown): void;
  /** Called after a batch of replies was delivered. */
  onDrained(): void;
  /** A reply frame that could not be decoded or framed (V6). */
  onProtocolError(reason: string): void;
}

/** SharedArrayBuffer rings: the fast path. */
/** Replies decoded per RingReader.drain call, and the time one drain() may hold the event loop. */
const DRAIN_CHUNK = 1024;
const DRAIN_BUDGET_MS = 4;
/** Spin this much (µs) beyond the longest recent round trip it covers: the next one may be a little longer. */
const SPIN_MARGIN_MICROS = 20;

export class RingTransport implements Transport {
  readonly #sim: NativeSim;
  readonly #requestRing: SharedArrayBuffer;
  readonly #replyRing: SharedArrayBuffer;
  readonly #writer: RingWriter;
  readonly #reader: RingReader;
  readonly #encoder = new FrameCodec();
  readonly #decoder = new FrameCodec();
  readonly #sink: TransportSink;
  readonly #spinMicros: number;
  /** The sim's doorbell, for producer rings that feed the same sim thread. */
  readonly doorbell: SharedArrayBuffer;
  readonly ringBytes: number;
  #parked = false;
  #closed = false;
  /** A drain stopped at its time budget with replies left: the rest is delivered from setImmediate. */
  #resumeScheduled = false;
  /** Inside drain(), and whether a nested call asked for another round. */
  #draining = false;
  #drainAgain = false;
  readonly #resume = (): void => {
    this.#resumeScheduled = false;
    this.drain();
    this.#park();
  };
  /** Round trips (send → first reply), learnt from spins and wake-ups. */
  readonly #rtt = new RecentWaits();
  /** When the last batch was sent and no reply came since; -1 when none is awaited. */
  #sentAt = -1;
  readonly #onFrame = (payload: Uint8Array): void => {
    let msg: unknown;
    try {
      msg = this.#decoder.decode(payload);
    } catch (err) {
      this.#sink.onProtocolError(`undecodable reply frame (${payload.length} bytes): ${(err as Error).message}`);
      return;
    }
    this.#sink.onMessage(msg);
  };
  readonly #onCorrupt = (c: RingCorruption): void => {
    this.#sink.onProtocolError(`corrupt reply ring: frame length ${c.length} with ${c.available} bytes available`);
  };
  readonly #onWake = (): void => {
    this.#parked = false;
    // After close() the ring's READER_WAITING flag belongs to the next connector on this sim: a
    // late wake of ours must not clear it (the sim would stop waking that one).
    if (this.#closed) return;
    this.#reader.unpark();
    this.drain();
    this.#park();
  };

  constructor(sim: NativeSim, sink: TransportSink, spinMicros: number) {
    const rings = sim.attachConnector();
    this.#sim = sim;
    this.#requestRing = rings.request;
    this.#replyRing = rings.reply;
    this.doorbell = rings.doorbell;
    this.ringBytes = rings.ringBytes;
    this.#writer = new RingWriter(rings.request, rings.doorbell);
    this.#reader = new RingReader(rings.reply);
    this.#sink = sink;
    this.#spinMicros = spinMicros;
    this.#park();
  }

  write(name: string, context: number, fields: Readonly<Record<string, unknown>> | undefined): boolean {
    return this.#writer.write(this.#encoder.encodeRequest(name, context, fields));
  }

  commit(): void {
    this.#writer.commit();
  }

  waitForSpace(): Promise<void> {
    return this.#writer.waitForSpace();
  }

  /**
   * Delivers the reply frames published so far, for at most DRAIN_BUDGET_MS: a steady stream of
   * replies (a large resync from worker rings) must not hold the event loop; what is left is
   * delivered from setImmediate, after other callbacks had their turn.
   */
  drain(): void {
    if (this.#closed) return;
    if (this.#draining) {
      // Re-entered from a frame's handler (a producer ring's listener that sends): the reader has
      // not released the frames it handed out, so a nested drain would deliver them again.
      this.#drainAgain = true;
      return;
    }
    const until = performance.now() + DRAIN_BUDGET_MS;
    let n = 0;
    this.#draining = true;
    try {
      for (;;) {
        this.#drainAgain = false;
        const k = this.#reader.drain(this.#onFrame, this.#onCorrupt, DRAIN_CHUNK);
        n += k;
        if ((k < DRAIN_CHUNK && !this.#drainAgain) || performance.now() >= until) break;
      }
    } finally {
      this.#draining = false;
    }
    // From here the reader has released everything: what onDrained sends may drain again.
    if (n > 0) {
      if (this.#sentAt >= 0) {
        this.#rtt.add((performance.now() - this.#sentAt) * 1000);
        this.#sentAt = -1;
      }
      this.#sink.onDrained();
    }
    if (!this.#resumeScheduled && !this.#closed && this.#reader.hasData()) {
      this.#resumeScheduled = true;
      setImmediate(this.#resume);
    }
  }

  afterSend(inFlight: () => number): void {
    // Sent from a frame's handler: the drain under way goes round again; spinning here could only
    // wait for frames it holds.
    if (this.#spinMicros === 0 || this.#draining) return;
    const start = performance.now();
    if (this.#sentAt < 0) this.#sentAt = start;
    // A reply usually comes back within one round trip: spinning that long beats parking (~55 µs
    // to wake from waitAsync, plus the sim's futex wake). Spin for the learnt round trip, never
    // beyond the configured budget (it bounds how long the event loop is held). When round trips
    // do not fit the budget (a slow sim, an overloaded machine) spinning only burns CPU: park,
    // and re-try a spin now and then to notice when they fit again.
    const budget = this.#rtt.budget(this.#spinMicros, SPIN_MARGIN_MICROS);
    if (budget === 0) return;
    const end = start + budget / 1000;
    // While we spin the sim need not notify us (a futex wake per reply batch): clear the flag,
    // and set it again (then look once more) before leaving.
    this.#reader.unpark();
    let hit = false;
    try {
      do {
        if (this.#reader.hasData()) {
          hit = true;
          this.drain();
          if (inFlight() === 0) return;
        }
      } while (performance.now() < end);
    } finally {
      this.#rtt.spun(hit);
      this.#rearm();
    }
  }

  /** Restores READER_WAITING after a spin, draining whatever came in meanwhile (no lost wake-up). */
  #rearm(): void {
    if (!this.#parked || this.#closed) return;
    this.#reader.park();
    // Anything published after this check finds the flag set, so the sim notifies our waitAsync.
    if (this.#reader.hasData() && !this.#resumeScheduled) this.drain();
  }

  /** Keeps exactly one Atomics.waitAsync on the reply HEAD pending while open. */
  #park(): void {
    const until = performance.now() + DRAIN_BUDGET_MS;
    while (!this.#parked && !this.#closed) {
      // Replies streaming in (worker rings in a big resync) could keep this loop draining: after the
      // budget the rest is delivered from setImmediate, as a drain that hits its budget does.
      if (performance.now() >= until && this.#reader.hasData()) {
        if (!this.#resumeScheduled) {
          this.#resumeScheduled = true;
          setImmediate(this.#resume);
        }
        return;
      }
      // READER_WAITING is set before HEAD is read, so the sim either sees the flag and notifies,
      // or published before our read and we drain below instead of waiting.
      const head = this.#reader.park();
      if (this.#reader.hasData()) {
        this.#reader.unpark();
        this.drain();
        if (this.#resumeScheduled) return; // budget spent: #resume parks again
        continue;
      }
      const r = waitAsync(this.#reader.header, RingSlot.HEAD, head);
      if (!r.async) {
        this.#reader.unpark();
        this.drain();
        if (this.#resumeScheduled) return;
        continue;
      }
      this.#parked = true;
      void r.value.then(this.#onWake);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    // Release our pending waitAsync so nothing stays parked on a ring nobody reads anymore.
    Atomics.notify(this.#reader.header, RingSlot.HEAD);
    this.#sim.detachConnector();
  }

  usage(): { requestUsed: number; requestBytes: number; replyUsed: number; replyBytes: number } {
    return {
      requestUsed: ringUsedBytes(this.#requestRing),
      requestBytes: this.#writer.capacity,
      replyUsed: ringUsedBytes(this.#replyRing),
      replyBytes: this.#reader.capacity,
    };
  }
}

/**
 * The baseline: messages over a MessagePort, structured-cloned or as JSON text (STYLE #11: the off
 * switch). The sim answers in the encoding each request came in.
 */
export class PostMessageTransport implements Transport {
  readonly #sim: NativeSim;
  readonly #port: MessagePort;
  readonly #json: boolean;

  private constructor(sim: NativeSim, port: MessagePort, sink: TransportSink, json: boolean) {
    this.#sim = sim;
    this.#port = port;
    this.#json = json;
    port.on('message', (m: unknown) => {
      if (json) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(m as string);
        } catch {
          sink.onProtocolError('reply is not JSON text');
          return;
        }
        sink.onMessage(parsed);
      } else {
        sink.onMessage(m);
      }
      sink.onDrained();
    });
  }

  static async open(sim: NativeSim, sink: TransportSink, json = false): Promise<PostMessageTransport> {
    sim.attachConnector();
    const { port1, port2 } = new MessageChannel();
    try {
      await sim.serve('postMessage', port2);
    } catch (err) {
      sim.detachConnector();
      port1.close();
      throw err;
    }
    return new PostMessageTransport(sim, port1, sink, json);
  }

  write(name: string, context: number, fields: Readonly<Record<string, unknown>> | undefined): boolean {
    const message = requestMessage(name, context, fields);
    // Posted at once: a value structured clone (or JSON) cannot carry throws here, for this message only.
    this.#port.postMessage(this.#json ? JSON.stringify(message) : message);
    return true;
  }

  commit(): void {}

  waitForSpace(): Promise<void> {
    return Promise.resolve();
  }

  afterSend(): void {}

  async close(): Promise<void> {
    this.#port.close();
    this.#sim.detachConnector();
    if (!this.#sim.closed) {
      try {
        await this.#sim.serve('ring');
      } catch {
        // The sim went away: nothing to switch back.
      }
    }
  }

  usage(): { requestUsed: number; requestBytes: number; replyUsed: number; replyBytes: number } {
    return { requestUsed: 0, requestBytes: 0, replyUsed: 0, replyBytes: 0 };
  }
}
