// A msgpack reader for frames made of the catalog's shared record structures (importable from any thread).

/** Thrown while reading when the bytes hold something the reader leaves to msgpackr. */
const DECLINE = Symbol('decline');

/** Strings remembered by the interning cache; a power of two. */
const CACHE_SLOTS = 4096;
/** Longer strings are built, not looked up (names, addresses and tags are shorter). */
const CACHE_MAX_LENGTH = 48;

/** Builds one structure's object from the values read in order. */
type ReadRecord = (r: RecordReader) => Record<string, unknown>;

/**
 * Reads what the RecordWriter (or msgpackr with the same shared structures) writes — records of the
 * shared structures, arrays, ASCII strings, null, booleans, integers up to 32 bits and float64 —
 * into the same values msgpackr's `unpack` gives, without its general reader: each structure's
 * object is built by a function compiled for it (one hidden class per structure), and short strings
 * come from a small interning cache keyed by their bytes, so a message name or an address seen
 * before costs a byte comparison instead of a new string.
 * Anything else (maps, record definitions, extensions, binary, 64-bit integers, float32, non-ASCII
 * strings, trailing bytes) makes `read` return undefined, and the caller falls back to msgpackr.
 */
export class RecordReader {
  readonly #records: ReadRecord[];
  readonly #cache: Array<Interned | undefined> = new Array<Interned | undefined>(CACHE_SLOTS);
  #buf: Uint8Array = new Uint8Array(0);
  #view: DataView = new DataView(this.#buf.buffer);
  #pos = 0;
  #end = 0;

  /** `structures` in msgpackr's shared order (entry i has record id 0x40 + i, two bytes from i = 32). */
  constructor(structures: ReadonlyArray<readonly string[]>) {
    this.#records = structures.map(compile);
  }

  /** The decoded message, or undefined when the reader declines these bytes. */
  read(bytes: Uint8Array): unknown {
    this.#buf = bytes;
    this.#pos = 0;
    this.#end = bytes.length;
    try {
      const v = this.value();
      return this.#pos === this.#end ? v : undefined;
    } catch (e) {
      if (e !== DECLINE) throw e;
      return undefined;
    } finally {
      // Do not keep the caller's frame (often a view of a ring) alive.
      this.#buf = EMPTY;
    }
  }

  /** Reads one value at the current position (called by the compiled record builders). */
  value(): unknown {
    if (this.#pos >= this.#end) throw DECLINE;
    const b = this.#buf;
    const t = b[this.#pos++] as number;
    if (t < 0x40) return t;
    if (t < 0x80) return this.#record(t - 0x40);
    if (t >= 0xe0) return t - 0x100;
    if (t >= 0xa0 && t < 0xc0) return this.#string(t - 0xa0);
    if (t >= 0x90 && t < 0xa0) return this.#array(t - 0x90);
    switch (t) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xcb:
        return this.#dv().getFloat64(this.#take(8) + b.byteOffset);
      case 0xcc:
        return b[this.#take(1)];
      case 0xcd:
        return this.#dv().getUint16(this.#take(2) + b.byteOffset);
      case 0xce:
        return this.#dv().getUint32(this.#take(4) + b.byteOffset);
      case 0xd0:
        return this.#dv().getInt8(this.#take(1) + b.byteOffset);
      case 0xd1:
        return this.#dv().getInt16(this.#take(2) + b.byteOffset);
      case 0xd2:
        return this.#dv().getInt32(this.#take(4) + b.byteOffset);
      case 0xd9:
        return this.#string(b[this.#take(1)] as number);
      case 0xdc:
        return this.#array(this.#dv().getUint16(this.#take(2) + b.byteOffset));
      default:
        throw DECLINE;
    }
  }

  /** A DataView of the frame's buffer, made only when a multi-byte number is read. */
  #dv(): DataView {
    const buffer = this.#buf.buffer;
    if (this.#view.buffer !== buffer) this.#view = new DataView(buffer);
    return this.#view;
  }

  /** Moves past `n` bytes and returns where they start. */
  #take(n: number): number {
    const at = this.#pos;
    if (at + n > this.#end) throw DECLINE;
    this.#pos = at + n;
    return at;
  }

  #record(first: number): Record<string, unknown> {
    // msgpackr's two-byte ids: index 32 + low bits, then a byte holding the high bits.
    const i = first < 32 ? first : first + ((this.#buf[this.#take(1)] as number) << 5);
    const read = this.#records[i];
    if (read === undefined) throw DECLINE;
    return read(this);
  }

  #array(n: number): unknown[] {
    if (n > this.#end - this.#pos) throw DECLINE; // every element takes a byte at least
    const a = new Array<unknown>(n);
    for (let i = 0; i < n; i++) a[i] = this.value();
    return a;
  }

  #string(n: number): string {
    const at = this.#take(n);
    const b = this.#buf;
    if (n > CACHE_MAX_LENGTH || n < 2) return ascii(b, at, n);
    // A cheap key (length, first and last two bytes), as msgpackr's key cache does; a hit is
    // confirmed byte by byte, which also proves the bytes ASCII (cached strings are).
    const slot = ((n << 7) ^ (b[at] as number) ^ ((b[at + 1] as number) << 3) ^ ((b[at + n - 2] as number) << 5) ^ ((b[at + n - 1] as number) << 8)) & (CACHE_SLOTS - 1);
    const known = this.#cache[slot];
    if (known !== undefined && sameBytes(known.bytes, b, at, n)) return known.s;
    const s = ascii(b, at, n);
    this.#cache[slot] = { s, bytes: b.slice(at, at + n) };
    return s;
  }
}

/** A string the cache holds, with its bytes (comparing bytes is faster than comparing characters). */
interface Interned {
  readonly s: string;
  readonly bytes: Uint8Array;
}

const EMPTY = new Uint8Array(0);

function sameBytes(known: Uint8Array, b: Uint8Array, at: number, n: number): boolean {
  if (known.length !== n) return false;
  for (let i = 0; i < n; i++) if (known[i] !== b[at + i]) return false;
  return true;
}

/** The ASCII string of `n` bytes at `at` (a flat one, so comparing against it later is fast); declines any other. */
function ascii(b: Uint8Array, at: number, n: number): string {
  let wide = 0;
  for (let i = at; i < at + n; i++) wide |= b[i] as number;
  if (wide >= 0x80) throw DECLINE;
  return String.fromCharCode.apply(null, b.subarray(at, at + n) as unknown as number[]);
}

/** One structure's builder: an object literal with the keys in order (msgpackr's keys, '__proto__' renamed as it does). */
function compile(keys: readonly string[]): ReadRecord {
  const fields = keys.map((k) => `${JSON.stringify(k === '__proto__' ? '__proto_' : k)}: r.value()`);
  return new Function('r', `return { ${fields.join(', ')} };`) as ReadRecord;
}
