/**
 * Binary-API contexts as govpp builds them: channel id in the high 16 bits, a per-channel sequence
 * number in the low 16 bits. Sequences wrap; "older" is decided with serial-number arithmetic.
 */
export const SEQUENCE_MASK = 0xffff;
const HALF = 0x8000;

export function makeContext(channel: number, sequence: number): number {
  return ((channel << 16) | (sequence & SEQUENCE_MASK)) >>> 0;
}

export function channelOf(context: number): number {
  return context >>> 16;
}

export function sequenceOf(context: number): number {
  return context & SEQUENCE_MASK;
}

/** True when sequence `a` was issued before `b` (modulo 2^16, within half the space). */
export function sequenceBefore(a: number, b: number): boolean {
  const d = (b - a) & SEQUENCE_MASK;
  return d !== 0 && d < HALF;
}
