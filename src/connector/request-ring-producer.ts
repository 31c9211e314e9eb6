// The worker-side producer of a request ring (importable from worker threads).
import { makeContext, SEQUENCE_MASK } from './context.js';
import { FrameCodec } from './frame-codec.js';
import { RingWriter } from './ring.js';

/**
 * The producer end of a request ring handed out by `VppConnector.createProducerRing()`, for use in
 * a worker thread: encodes requests with the channel's contexts and writes them into the ring.
 * Replies come back to the connector's `onReply` listeners of that channel.
 */
export class RequestRingProducer {
  readonly #writer: RingWriter;
  readonly #codec = new FrameCodec();
  readonly #channel: number;
  #sequence = 0;

  constructor(ring: SharedArrayBuffer, doorbell: SharedArrayBuffer, channel: number) {
    this.#writer = new RingWriter(ring, doorbell);
    this.#channel = channel;
  }

  /**
   * Stages one request; returns its context, or -1 when the ring is full right now (commit, then
   * wait with `waitForSpace`). Throws FrameTooLargeError for a message that can never fit.
   */
  send(name: string, fields?: Readonly<Record<string, unknown>>): number {
    const seq = (this.#sequence + 1) & SEQUENCE_MASK;
    const context = makeContext(this.#channel, seq);
    if (!this.#writer.write(this.#codec.encodeRequest(name, context, fields))) return -1;
    this.#sequence = seq;
    return context;
  }

  /** Publishes staged requests with one doorbell ring. */
  commit(): void {
    this.#writer.commit();
  }

  /** Blocks until the sim consumed something (worker threads only). */
  waitForSpace(timeoutMs = 50): void {
    this.#writer.waitForSpaceSync(timeoutMs);
  }
}
