// Frames encoded by a diff task before their wave runs, and copied into a producer ring when it
// does (importable from workers). The context of a frame is only known when it is copied (it names
// the ring's channel and sequence), so each frame is encoded with a placeholder context of fixed
// width that the copy overwrites in place.
import type { FrameCodec } from '../connector/frame-codec.js';
import type { RingWriter } from '../connector/ring.js';
import { FrameTooLargeError, InvalidMessageError } from '../connector/errors.js';
import type { BinapiRequest } from '../scheduler/binapi-client.js';
import type { EncodeOutcome, RequestSink } from './shard-work.js';
import { TaskMetadata, isRefusedRequest } from './shard-work.js';
import { toShared } from './state-snapshot.js';

/**
 * msgpack writes this context as 0xce + 4 bytes, whatever the real one will be. It is the second
 * field of every request, after the record id (and, for a shape outside the catalog, msgpackr's
 * inline record definition: key names) and the message name; UTF-8 never holds 0xff, so its first
 * occurrence is the context.
 */
export const CONTEXT_PLACEHOLDER = 0xffffffff;

/** One segment's frames and what settling them needs, as a diff task hands them to the main thread. */
export interface PreEncoded extends EncodeOutcome {
  /** Payloads back to back (shared memory). */
  readonly bytes: Uint8Array;
  /** Per frame: where its payload ends in `bytes`, and where its context's 4 bytes start. */
  readonly ends: Uint32Array;
  readonly contextAt: Uint32Array;
  /** Metadata keys the descriptors read while encoding; null: they looked metadata up by value (all of it). */
  readonly reads: string[] | null;
  /** The segment's op codes and shard positions (`OpSegment.pos`): its keys, or the ops again. */
  readonly ops: Uint8Array;
  readonly pos: Int32Array;
  /** The highest id the diff task had allocated when these frames were done; -1 for none. */
  readonly allocated: number;
}

/** Whether frames encoded with the metadata known before a sync are still right now. */
export function stillValid(pre: Pick<PreEncoded, 'reads'>, changed: ReadonlySet<string>): boolean {
  if (changed.size === 0) return true;
  if (pre.reads === null) return false;
  for (const k of pre.reads) if (changed.has(k)) return false;
  return true;
}

/** A task's metadata that records which keys were read. */
export class RecordingMetadata extends TaskMetadata {
  readonly reads = new Set<string>();
  readAll = false;

  override get(key: string): number | undefined {
    this.reads.add(key);
    return super.get(key);
  }

  override keyOf(keyPrefix: string, index: number): string | undefined {
    this.readAll = true;
    return super.keyOf(keyPrefix, index);
  }
}

/** Encodes requests one after the other into a growing buffer, remembering where each frame's context is. */
/**
 * One request as a frame payload, refused as `RequestSink` says: InvalidMessageError when the codec
 * cannot write it, FrameTooLargeError when it is larger than `maxPayload`.
 */
export function encodeFrame(codec: FrameCodec, req: BinapiRequest, context: number, maxPayload: number): Uint8Array {
  let frame: Uint8Array;
  try {
    frame = codec.encodeRequest(req.name, context, req.fields);
  } catch (err) {
    throw isRefusedRequest(err) ? err : new InvalidMessageError(`cannot encode ${String(req.name)}: ${err instanceof Error ? err.message : String(err)}`, err);
  }
  if (frame.length > maxPayload) throw new FrameTooLargeError(frame.length, maxPayload);
  return frame;
}

export class FrameBatch implements RequestSink {
  readonly #codec: FrameCodec;
  readonly #maxPayload: number;
  #bytes = new Uint8Array(1 << 16);
  #pos = 0;
  #ends = new Uint32Array(1024);
  #contextAt = new Uint32Array(1024);
  #frames = 0;

  /** `maxPayload`: the largest frame the rings these frames go to take. */
  constructor(codec: FrameCodec, maxPayload = Infinity) {
    this.#codec = codec;
    this.#maxPayload = maxPayload;
  }

  sendAll(reqs: readonly BinapiRequest[]): void {
    const frames = reqs.map((r) => encodeFrame(this.#codec, r, CONTEXT_PLACEHOLDER, this.#maxPayload));
    for (const frame of frames) this.#append(frame);
  }

  #append(frame: Uint8Array): void {
    const at = contextOffset(frame);
    if (this.#pos + frame.length > this.#bytes.length) {
      const grown = new Uint8Array(Math.max(2 * this.#bytes.length, this.#pos + frame.length));
      grown.set(this.#bytes.subarray(0, this.#pos));
      this.#bytes = grown;
    }
    if (this.#frames === this.#ends.length) {
      this.#ends = grow(this.#ends);
      this.#contextAt = grow(this.#contextAt);
    }
    this.#bytes.set(frame, this.#pos);
    this.#contextAt[this.#frames] = this.#pos + at;
    this.#pos += frame.length;
    this.#ends[this.#frames++] = this.#pos;
  }

  /** The frames so far, in shared memory. */
  finish(): { bytes: Uint8Array; ends: Uint32Array; contextAt: Uint32Array } {
    return {
      bytes: toShared(this.#bytes.subarray(0, this.#pos)),
      ends: this.#ends.slice(0, this.#frames),
      contextAt: this.#contextAt.slice(0, this.#frames),
    };
  }
}

function grow(a: Uint32Array<ArrayBuffer>): Uint32Array<ArrayBuffer> {
  const g = new Uint32Array(2 * a.length);
  g.set(a);
  return g;
}

/** Offset of the 4 context bytes: right after the first 0xce ff ff ff ff. */
function contextOffset(frame: Uint8Array): number {
  const n = frame.length - 4;
  for (let i = 0; i < n; i++) {
    if (frame[i] === 0xce && frame[i + 1] === 0xff && frame[i + 2] === 0xff && frame[i + 3] === 0xff && frame[i + 4] === 0xff) return i + 1;
  }
  throw new Error('pre-encoded request: placeholder context not found');
}

/**
 * Stages one frame; when the ring is full, publishes what is staged (the sim can only free space it
 * can see) and blocks this worker thread (never the main one) until there is room, failing after
 * `stallTimeout` ms without any. True when it had to publish.
 */
export function writeWaiting(writer: RingWriter, frame: Uint8Array, stallTimeout: number): boolean {
  if (writer.write(frame)) return false;
  writer.commit();
  const until = performance.now() + stallTimeout;
  while (!writer.write(frame)) {
    if (performance.now() > until) throw new Error(`request ring stalled for ${stallTimeout} ms`);
    writer.waitForSpaceSync(20);
  }
  return true;
}

/**
 * Frames a producer stages before it publishes them, so the sim starts applying while the producer
 * still copies or encodes (the worker's encode sink uses it too).
 */
export const COMMIT_EVERY = 128;

/**
 * Copies pre-encoded frames into a ring, each with its context (channel, sequence after
 * `context(frame)`) written over the placeholder, waiting for room as `writeWaiting` does.
 */
export function copyFrames(
  frames: { readonly bytes: Uint8Array; readonly ends: Uint32Array; readonly contextAt: Uint32Array },
  writer: RingWriter,
  context: (frame: number) => number,
  stallTimeout: number,
): number {
  const { bytes, ends, contextAt } = frames;
  let start = 0;
  let since = 0;
  for (let f = 0; f < ends.length; f++) {
    const end = ends[f] as number;
    const at = contextAt[f] as number;
    const c = context(f);
    bytes[at] = c >>> 24;
    bytes[at + 1] = (c >>> 16) & 0xff;
    bytes[at + 2] = (c >>> 8) & 0xff;
    bytes[at + 3] = c & 0xff;
    if (writeWaiting(writer, bytes.subarray(start, end), stallTimeout)) since = 0;
    if (++since >= COMMIT_EVERY) {
      writer.commit();
      since = 0;
    }
    start = end;
  }
  writer.commit();
  return ends.length;
}
