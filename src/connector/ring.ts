// Single-producer single-consumer byte ring over a SharedArrayBuffer (importable from any thread).
import { FrameTooLargeError } from './errors.js';
import { waitAsync } from './wait-async.js';
import {
  DEFAULT_RING_BYTES,
  DOORBELL_SLOTS,
  DoorbellSlot,
  FRAME_ALIGN,
  FRAME_HEADER_BYTES,
  HEADER_BYTES,
  HEADER_SLOTS,
  MAX_RING_BYTES,
  MIN_RING_BYTES,
  RingSlot,
  WRAP_MARKER,
  maxFrameBytes,
} from './ring-layout.js';

function align(n: number): number {
  return (n + FRAME_ALIGN - 1) & ~(FRAME_ALIGN - 1);
}

/** Creates a ring with `capacity` data bytes (rounded up to FRAME_ALIGN). */
export function createRing(capacity = DEFAULT_RING_BYTES): SharedArrayBuffer {
  if (!Number.isInteger(capacity) || capacity < MIN_RING_BYTES || capacity > MAX_RING_BYTES) {
    throw new RangeError(`ringBytes: expected an integer in ${MIN_RING_BYTES}..${MAX_RING_BYTES}, received ${String(capacity)}`);
  }
  const cap = align(capacity);
  const sab = new SharedArrayBuffer(HEADER_BYTES + cap);
  new Int32Array(sab, 0, HEADER_SLOTS)[RingSlot.CAPACITY] = cap;
  return sab;
}

export function createDoorbell(): SharedArrayBuffer {
  return new SharedArrayBuffer(DOORBELL_SLOTS * 4);
}

function view(ring: SharedArrayBuffer): { header: Int32Array; data: Uint8Array; words: Uint32Array; cap: number } {
  const header = new Int32Array(ring, 0, HEADER_SLOTS);
  const cap = header[RingSlot.CAPACITY] ?? 0;
  if (cap < MIN_RING_BYTES || cap % FRAME_ALIGN !== 0 || HEADER_BYTES + cap !== ring.byteLength) {
    throw new TypeError(`ring: not a ring SharedArrayBuffer (capacity slot ${cap}, ${ring.byteLength} bytes)`);
  }
  return { header, data: new Uint8Array(ring, HEADER_BYTES, cap), words: new Uint32Array(ring, HEADER_BYTES, cap / 4), cap };
}

/** Bytes published and not yet consumed. */
export function ringUsedBytes(ring: SharedArrayBuffer): number {
  const header = new Int32Array(ring, 0, HEADER_SLOTS);
  const cap = header[RingSlot.CAPACITY] ?? 0;
  return (Atomics.load(header, RingSlot.HEAD) - Atomics.load(header, RingSlot.TAIL) + cap) % cap;
}

export function ringCapacity(ring: SharedArrayBuffer): number {
  return new Int32Array(ring, 0, HEADER_SLOTS)[RingSlot.CAPACITY] ?? 0;
}

/**
 * The producer side. `write` stages frames (invisible to the consumer), `commit` publishes all staged
 * frames with one store of HEAD and at most one notify: batching costs one wake-up per batch
 * (callers commit the start of a batch early, so that wake-up overlaps the rest of their work).
 */
export class RingWriter {
  readonly #header: Int32Array;
  readonly #data: Uint8Array;
  readonly #words: Uint32Array;
  readonly #cap: number;
  readonly #maxFrame: number;
  readonly #bell: Int32Array | null;
  /** Local (staged) head; equals the published HEAD after commit. */
  #head: number;
  #staged = 0;
  /** Free bytes known at the last read of TAIL, less what was staged since; -1: read it again. */
  #free = -1;

  constructor(ring: SharedArrayBuffer, doorbell?: SharedArrayBuffer) {
    const v = view(ring);
    this.#header = v.header;
    this.#data = v.data;
    this.#words = v.words;
    this.#cap = v.cap;
    this.#maxFrame = maxFrameBytes(v.cap);
    this.#bell = doorbell ? new Int32Array(doorbell, 0, DOORBELL_SLOTS) : null;
    this.#head = Atomics.load(this.#header, RingSlot.HEAD);
  }

  get capacity(): number {
    return this.#cap;
  }

  /** Largest payload `write` accepts. */
  get maxPayloadBytes(): number {
    return this.#maxFrame - FRAME_HEADER_BYTES;
  }

  /** Free bytes as seen now (staged frames count as used). */
  freeBytes(): number {
    if (this.#staged === 0) this.#head = Atomics.load(this.#header, RingSlot.HEAD);
    const used = (this.#head - Atomics.load(this.#header, RingSlot.TAIL) + this.#cap) % this.#cap;
    return this.#cap - used - FRAME_ALIGN;
  }

  /**
   * Stages one frame. Returns false (writing nothing) when the ring has no room now; throws
   * FrameTooLargeError when it never could.
   */
  write(payload: Uint8Array): boolean {
    return this.#put(payload, payload.length);
  }

  /** Test hook: stages a frame whose length prefix says `declaredLength` (may lie). */
  writeRaw(payload: Uint8Array, declaredLength: number): boolean {
    return this.#put(payload, declaredLength);
  }

  #put(payload: Uint8Array, declared: number): boolean {
    // HEAD is ours: re-reading it at the start of a batch lets several writer objects share a ring.
    if (this.#staged === 0) {
      this.#head = Atomics.load(this.#header, RingSlot.HEAD);
      this.#free = -1;
    }
    const total = align(FRAME_HEADER_BYTES + payload.length);
    if (total > this.#maxFrame) throw new FrameTooLargeError(payload.length, this.maxPayloadBytes);
    let at = this.#head;
    const toEnd = this.#cap - at;
    const need = total <= toEnd ? total : toEnd + total;
    // Free space only grows while we write (the consumer frees it): TAIL is read again only when
    // the room known from the last read runs out.
    if (need > this.#free) {
      this.#free = this.freeBytes();
      if (need > this.#free) return false;
    }
    if (total > toEnd) {
      this.#words[at >>> 2] = WRAP_MARKER;
      at = 0;
    }
    this.#words[at >>> 2] = declared >>> 0;
    this.#data.set(payload, at + FRAME_HEADER_BYTES);
    at += total;
    this.#head = at === this.#cap ? 0 : at;
    this.#free -= need;
    this.#staged++;
    return true;
  }

  /** Frames staged since the last commit. */
  get staged(): number {
    return this.#staged;
  }

  /** Publishes staged frames and wakes the consumer if it sleeps. */
  commit(): void {
    if (this.#staged === 0) return;
    Atomics.add(this.#header, RingSlot.FRAMES_WRITTEN, this.#staged);
    this.#staged = 0;
    // The frame bytes are written before this seq-cst store, so a consumer that sees HEAD sees them.
    Atomics.store(this.#header, RingSlot.HEAD, this.#head);
    if (this.#bell) {
      // Bump the bell after HEAD: a consumer that read the bell before checking the rings either
      // sees HEAD or finds the bell changed and does not sleep.
      Atomics.add(this.#bell, DoorbellSlot.BELL, 1);
      if (Atomics.load(this.#bell, DoorbellSlot.SLEEPING) !== 0) Atomics.notify(this.#bell, DoorbellSlot.BELL);
    } else if (Atomics.load(this.#header, RingSlot.READER_WAITING) !== 0) {
      Atomics.notify(this.#header, RingSlot.HEAD);
    }
  }

  /** Blocks (worker threads only) until TAIL moves or `timeoutMs` passes. */
  waitForSpaceSync(timeoutMs: number): void {
    const tail = this.#flagWaiting();
    if (tail !== null) Atomics.wait(this.#header, RingSlot.TAIL, tail, timeoutMs);
    Atomics.store(this.#header, RingSlot.WRITER_WAITING, 0);
  }

  /** Resolves when TAIL moved (main thread safe: Atomics.waitAsync, never a blocking wait). */
  async waitForSpace(timeoutMs?: number): Promise<void> {
    const tail = this.#flagWaiting();
    if (tail !== null) {
      const r = waitAsync(this.#header, RingSlot.TAIL, tail, timeoutMs);
      if (r.async) await r.value;
    }
    Atomics.store(this.#header, RingSlot.WRITER_WAITING, 0);
  }

  /** Sets WRITER_WAITING, then reads TAIL: the consumer stores TAIL before reading the flag, so
   * either we see its new TAIL or it sees the flag and notifies. Returns null if TAIL already moved. */
  #flagWaiting(): number | null {
    Atomics.store(this.#header, RingSlot.WRITER_WAITING, 1);
    return Atomics.load(this.#header, RingSlot.TAIL);
  }
}

/** Why the reader discarded bytes (V6). */
export type RingCorruption = { readonly kind: 'bad-length'; readonly length: number; readonly available: number };

/** The consumer side. */
export class RingReader {
  readonly #header: Int32Array;
  readonly #data: Uint8Array;
  readonly #words: Uint32Array;
  readonly #cap: number;
  #tail: number;

  constructor(ring: SharedArrayBuffer) {
    const v = view(ring);
    this.#header = v.header;
    this.#data = v.data;
    this.#words = v.words;
    this.#cap = v.cap;
    this.#tail = Atomics.load(this.#header, RingSlot.TAIL);
  }

  get capacity(): number {
    return this.#cap;
  }

  hasData(): boolean {
    return Atomics.load(this.#header, RingSlot.HEAD) !== this.#tail;
  }

  /** The published HEAD (for waitAsync on new data). */
  head(): number {
    return Atomics.load(this.#header, RingSlot.HEAD);
  }

  /**
   * Hands every published frame to `onFrame` (the view is only valid during the call), then
   * releases the space with one TAIL store. A frame whose length is impossible means the stream
   * is corrupt: everything published is discarded and reported through `onCorrupt`.
   * Returns the number of frames delivered; stops early after `max` frames.
   */
  drain(onFrame: (payload: Uint8Array) => void, onCorrupt: (c: RingCorruption) => void, max = Infinity): number {
    const head = Atomics.load(this.#header, RingSlot.HEAD);
    let tail = this.#tail;
    let n = 0;
    try {
      while (tail !== head && n < max) {
        let len = this.#words[tail >>> 2] as number;
        if (len === WRAP_MARKER) {
          // A real wrap marker is followed by data written from offset 0, which stays behind it
          // (HEAD < TAIL). With HEAD ahead it can only be garbage: jumping back would read frames
          // consumed long ago again (and again, round and round).
          if (head > tail) {
            const available = head - tail;
            tail = head;
            onCorrupt({ kind: 'bad-length', length: len, available });
            break;
          }
          tail = 0;
          if (tail === head) break;
          len = this.#words[0] as number;
        }
        // A frame never straddles the end, so it must fit before HEAD or, past it, before the end
        // (which also bounds it by the bytes published).
        const contiguous = head > tail ? head - tail : this.#cap - tail;
        // The raw length first: align() works in 32-bit ints, and a garbage length near 2^31 would
        // wrap to a small total and be taken for a frame (the same bytes again and again).
        const total = len > contiguous - FRAME_HEADER_BYTES ? Infinity : align(FRAME_HEADER_BYTES + len);
        if (total > contiguous) {
          const available = (head - tail + this.#cap) % this.#cap;
          tail = head;
          onCorrupt({ kind: 'bad-length', length: len, available });
          break;
        }
        const start = tail + FRAME_HEADER_BYTES;
        tail += total;
        if (tail === this.#cap) tail = 0;
        n++;
        onFrame(this.#data.subarray(start, start + len));
      }
    } finally {
      this.#release(tail);
    }
    return n;
  }

  #release(tail: number): void {
    if (tail === this.#tail) return;
    this.#tail = tail;
    // Store TAIL before reading WRITER_WAITING (the writer does the opposite): no lost wake-up.
    Atomics.store(this.#header, RingSlot.TAIL, tail);
    if (Atomics.load(this.#header, RingSlot.WRITER_WAITING) !== 0) Atomics.notify(this.#header, RingSlot.TAIL);
  }

  /** Marks the reader as parked (producers notify HEAD) and returns HEAD to wait on. */
  park(): number {
    Atomics.store(this.#header, RingSlot.READER_WAITING, 1);
    return Atomics.load(this.#header, RingSlot.HEAD);
  }

  unpark(): void {
    Atomics.store(this.#header, RingSlot.READER_WAITING, 0);
  }

  /** The header, for Atomics.waitAsync on HEAD. */
  get header(): Int32Array {
    return this.#header;
  }
}

/** Test hook (V6): writes raw bytes as one frame, with a possibly false length prefix, and publishes. */
export function writeRawFrame(ring: SharedArrayBuffer, bytes: Uint8Array, declaredLength = bytes.length, doorbell?: SharedArrayBuffer): boolean {
  const w = new RingWriter(ring, doorbell);
  const ok = w.writeRaw(bytes, declaredLength);
  w.commit();
  return ok;
}
