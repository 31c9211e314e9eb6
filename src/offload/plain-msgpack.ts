// Bytes written straight into one growable buffer: a shard's keys and plain msgpack values, without
// an allocation per entry (importable from workers).
import { Packr } from 'msgpackr';
import { writeAsciiString } from '../connector/ascii-string.js';

/** Thrown while writing when a value holds something `value` does not write itself: msgpackr then writes it. */
const DECLINE = Symbol('decline');

/**
 * One plain (no records) msgpackr per thread: it writes what the plain writer declines (undefined,
 * long or non-ASCII strings, class instances...) and reads shard values back.
 */
export const plainPackr = new Packr({ useRecords: false, moreTypes: false });
const encoder = new TextEncoder();
const FLOAT_BYTES = new Uint8Array(8);
const FLOAT = new DataView(FLOAT_BYTES.buffer);

// Integers and array headers as msgpackr writes them: each takes a position with room reserved
// and returns the position after what it wrote (the connector's record writer has its own, tuned
// for records, where fixints stop at 0x3f).

/** A type byte and a 16-bit big-endian number. */
function tag16(b: Uint8Array, pos: number, tag: number, v: number): number {
  b[pos] = tag;
  b[pos + 1] = (v >> 8) & 0xff;
  b[pos + 2] = v & 0xff;
  return pos + 3;
}

/** A type byte and a 32-bit big-endian number. */
function tag32(b: Uint8Array, pos: number, tag: number, v: number): number {
  b[pos] = tag;
  b[pos + 1] = v >>> 24;
  b[pos + 2] = (v >> 16) & 0xff;
  b[pos + 3] = (v >> 8) & 0xff;
  b[pos + 4] = v & 0xff;
  return pos + 5;
}

/** Writes a 32-bit integer in its smallest form; returns -1 when `v` is not one. The caller has reserved 5 bytes. */
function writeInteger(b: Uint8Array, pos: number, v: number): number {
  if (v >>> 0 === v) {
    if (v < 0x80) {
      b[pos] = v;
      return pos + 1;
    }
    if (v < 0x100) {
      b[pos] = 0xcc;
      b[pos + 1] = v;
      return pos + 2;
    }
    return v < 0x10000 ? tag16(b, pos, 0xcd, v) : tag32(b, pos, 0xce, v);
  }
  if (v >> 0 !== v) return -1;
  if (v >= -0x20) {
    b[pos] = 0x100 + v;
    return pos + 1;
  }
  if (v >= -0x80) {
    b[pos] = 0xd0;
    b[pos + 1] = v + 0x100;
    return pos + 2;
  }
  return v >= -0x8000 ? tag16(b, pos, 0xd1, v) : tag32(b, pos, 0xd2, v);
}

/** Writes an array header (fixarray, array16, array32). The caller has reserved 5 bytes. */
function writeArrayHeader(b: Uint8Array, pos: number, n: number): number {
  if (n < 0x10) {
    b[pos] = 0x90 | n;
    return pos + 1;
  }
  return n < 0x10000 ? tag16(b, pos, 0xdc, n) : tag32(b, pos, 0xdd, n);
}

/** A growable byte buffer that is written once and copied out. */
export class ByteBuffer {
  bytes: Uint8Array;
  pos = 0;
  readonly #writeValues: boolean;

  /**
   * `writeValues`: write plain values here (false: every value through msgpackr's `pack`, the same
   * bytes; the off switch, shared with the connector's record writer).
   */
  constructor(initial: number, writeValues = process.env['ENGINE_RECORD_WRITER'] !== 'off') {
    this.bytes = new Uint8Array(Math.max(64, initial));
    this.#writeValues = writeValues;
  }

  /** Room for `n` more bytes. */
  reserve(n: number): void {
    if (this.pos + n <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.pos + n));
    grown.set(this.bytes.subarray(0, this.pos));
    this.bytes = grown;
  }

  /** Zero bytes up to the next multiple of 4. */
  align4(): void {
    this.reserve(3);
    while ((this.pos & 3) !== 0) this.bytes[this.pos++] = 0;
  }

  /** A string's UTF-8 bytes (ASCII copied here, the rest through TextEncoder). */
  utf8(s: string): void {
    const n = s.length;
    this.reserve(3 * n);
    const b = this.bytes;
    let p = this.pos;
    let wide = 0;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      wide |= c;
      b[p++] = c;
    }
    if (wide < 0x80) this.pos = p;
    else this.pos += encoder.encodeInto(s, b.subarray(this.pos)).written;
  }

  /**
   * A value as plain msgpack (maps with string keys, no records): byte for byte what msgpackr
   * (`useRecords: false`) writes, so they depend on the value alone. Plain objects, arrays, ASCII
   * strings under 256 bytes, numbers, booleans and null are written here; a value holding
   * anything else is written by msgpackr as a whole.
   */
  value(v: unknown): void {
    if (this.#writeValues) {
      const start = this.pos;
      try {
        this.#value(v);
        return;
      } catch (e) {
        if (e !== DECLINE) throw e;
        this.pos = start;
      }
    }
    const packed = plainPackr.pack(v);
    this.reserve(packed.length);
    this.bytes.set(packed, this.pos);
    this.pos += packed.length;
  }

  #value(v: unknown): void {
    switch (typeof v) {
      case 'string':
        return this.#string(v);
      case 'number':
        return this.#number(v);
      case 'boolean':
        this.reserve(1);
        this.bytes[this.pos++] = v ? 0xc3 : 0xc2;
        return;
      case 'object': {
        if (v === null) {
          this.reserve(1);
          this.bytes[this.pos++] = 0xc0;
          return;
        }
        if (Array.isArray(v)) {
          this.reserve(5);
          this.pos = writeArrayHeader(this.bytes, this.pos, v.length);
          for (let i = 0; i < v.length; i++) this.#value(v[i]);
          return;
        }
        const proto = Object.getPrototypeOf(v) as unknown;
        if (proto !== Object.prototype && proto !== null) throw DECLINE;
        // msgpackr (without variableMapSize) writes every map with a 16-bit size; so do we.
        const o = v as Record<string, unknown>;
        this.reserve(3);
        const at = this.pos;
        this.pos += 3;
        let n = 0;
        for (const k in o) {
          if (!Object.hasOwn(o, k)) continue;
          this.#string(k);
          this.#value(o[k]);
          n++;
        }
        if (n > 0xffff) throw DECLINE;
        const b = this.bytes;
        b[at] = 0xde;
        b[at + 1] = n >> 8;
        b[at + 2] = n & 0xff;
        return;
      }
      default:
        throw DECLINE;
    }
  }

  /** 32-bit integers in their smallest form (fixints to 0x7f: no records here), every other number as a big-endian float64. */
  #number(v: number): void {
    this.reserve(9);
    const p = writeInteger(this.bytes, this.pos, v);
    if (p >= 0) {
      this.pos = p;
      return;
    }
    FLOAT.setFloat64(0, v);
    const b = this.bytes;
    b[this.pos++] = 0xcb;
    for (let i = 0; i < 8; i++) b[this.pos++] = FLOAT_BYTES[i] as number;
  }

  /** ASCII strings under 256 bytes, as msgpackr writes them (fixstr, then str8). */
  #string(s: string): void {
    if (s.length >= 0x100) throw DECLINE;
    this.reserve(s.length + 2);
    const p = writeAsciiString(this.bytes, this.pos, s);
    if (p < 0) throw DECLINE;
    this.pos = p;
  }
}
