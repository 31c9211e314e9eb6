/**
 * Named slots of the shared-memory rings (one SharedArrayBuffer per ring, one per doorbell).
 *
 * Ring SharedArrayBuffer:
 *
 *   0                       HEADER_BYTES                                  HEADER_BYTES + capacity
 *   ├─ Int32 header ────────┼─ data: frames ───────────────────────────────┤
 *   │ HEAD TAIL WRITER_WAIT │ [len u32][payload][pad→4] [len][payload] ...  │
 *   │ CAPACITY FRAMES ...   │ [WRAP_MARKER] → next frame starts at data[0]  │
 *
 * HEAD (byte offset of the next write, producer-owned) and TAIL (byte offset of the next read,
 * consumer-owned) are in [0, capacity). HEAD === TAIL means empty; the producer always leaves
 * FRAME_ALIGN bytes free so a full ring is never mistaken for an empty one.
 *
 * Doorbell SharedArrayBuffer (one per consumer that reads several rings):
 *
 *   │ BELL SLEEPING CONTROL │
 */

/** Int32 slot indices of the ring header. */
export const RingSlot = Object.freeze({
  /** Next byte offset the producer writes (published with Atomics.store after the bytes). */
  HEAD: 0,
  /** Next byte offset the consumer reads (published after the frame was decoded). */
  TAIL: 1,
  /** 1 while the producer waits for space: tells the consumer to notify TAIL. */
  WRITER_WAITING: 2,
  /** Data capacity in bytes, written once at creation. */
  CAPACITY: 3,
  /** Frames ever committed by the producer (wraps at 2^32; statistics only). */
  FRAMES_WRITTEN: 4,
  /** 1 while the consumer is parked on HEAD: tells the producer to notify HEAD. */
  READER_WAITING: 5,
} as const);

/** Int32 slot indices of a doorbell (shared by all producers of one consumer). */
export const DoorbellSlot = Object.freeze({
  /** Incremented by a producer after it committed frames; the consumer waits on it. */
  BELL: 0,
  /** 1 while the consumer sleeps on BELL: producers notify only then. */
  SLEEPING: 1,
  /** Incremented when a control message was posted, so the consumer polls its control port. */
  CONTROL: 2,
} as const);

export const HEADER_SLOTS = 16;
export const HEADER_BYTES = HEADER_SLOTS * 4;
export const DOORBELL_SLOTS = 4;
export const DOORBELL_BYTES = DOORBELL_SLOTS * 4;
/** Bytes of the length prefix in front of every frame. */
export const FRAME_HEADER_BYTES = 4;
/** Frames start on 4-byte boundaries so the length prefix can be read as one aligned word. */
export const FRAME_ALIGN = 4;
/** A length prefix with this value means "the rest of the data area is padding: continue at 0". */
export const WRAP_MARKER = 0xffffffff;
/** Smallest and default ring data capacity in bytes. */
export const MIN_RING_BYTES = 256;
export const DEFAULT_RING_BYTES = 1 << 20;
/** Largest capacity: offsets must fit an Int32 slot. */
export const MAX_RING_BYTES = 1 << 30;

/** Largest frame (prefix + payload + padding) a ring of `capacity` bytes accepts. */
export function maxFrameBytes(capacity: number): number {
  // Half the ring (minus the guard) always fits, either before the end or after a wrap. Aligned
  // down: frames take whole FRAME_ALIGN units, and a capacity of 4 (mod 8) halves to 2 (mod 4).
  return ((capacity >>> 1) - FRAME_ALIGN) & ~(FRAME_ALIGN - 1);
}
