// A msgpack reader for frames made of the catalog's shared record structures (importable from any thread).

/** Thrown while reading when the bytes hold something the reader leaves to msgpackr. */
const DECLINE = Symbol('decline');

/** Message names remembered by the interning cache; a power of two. */
const CACHE_SLOTS = 1024;

/** Builds one structure's object from the values read in order. */
type ReadRecord = (r: RecordReader) => Record<string, unknown>;

/**
 * Reads what the RecordWriter (or msgpackr with the same shared structures) writes — records of the
 * shared structures, arrays, ASCII strings, null, booleans, integers up to 32 bits and float64 —
 * into the same values msgpackr's `unpack` gives, without its general reader: each structure's
 * object is built by a function compiled for it (one hidden class per structure), and a message's
 * name comes from a small interning cache keyed by its bytes, so a name seen before costs a byte
 * comparison instead of a new string.
 * Anything else (maps, record definitions, extensions, binary, 64-bit integers, float32, non-ASCII
 * strings, trailing bytes) makes `read` return undefined, and the caller falls back to msgpackr.
 */
export class RecordReader {
  readonly #records: ReadRecord[];
  readonly #cache: Array<Interned | undefined> = new Array<Interned | undefined>(CACHE_SLOTS);
  #buf: Uint8Array = new Uint8Array(0);
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
        return float64(b, this.#take(8));
      case 0xcc:
        return b[this.#take(1)];
      case 0xcd:
        return uint16(b, this.#take(2));
      case 0xce:
        return uint32(b, this.#take(4));
      case 0xd0:
        return ((b[this.#take(1)] as number) << 24) >> 24;
      case 0xd1:
        return (uint16(b, this.#take(2)) << 16) >> 16;
      case 0xd2:
        return uint32(b, this.#take(4)) | 0;
      case 0xd9:
        return this.#string(b[this.#take(1)] as number);
      case 0xdc:
        return this.#array(uint16(b, this.#take(2)));
      default:
        throw DECLINE;
    }
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

  /** Reads a message name: a string looked up in the interning cache (the catalog's names repeat). */
  name(): unknown {
    const b = this.#buf;
    const t = b[this.#pos] as number;
    if (this.#pos >= this.#end || t < 0xa0 || t >= 0xc0) return this.value();
    this.#pos++;
    const n = t - 0xa0;
    const at = this.#take(n);
    if (n < 2) return ascii(b, at, n);
    // A cheap key (length, first and last two bytes), as msgpackr's key cache does; a hit is
    // confirmed byte by byte, which also proves the bytes ASCII (cached strings are).
    const slot = ((n << 7) ^ (b[at] as number) ^ ((b[at + 1] as number) << 3) ^ ((b[at + n - 2] as number) << 5) ^ ((b[at + n - 1] as number) << 8)) & (CACHE_SLOTS - 1);
    const known = this.#cache[slot];
    if (known !== undefined && sameBytes(known.bytes, b, at, n)) return known.s;
    const s = ascii(b, at, n);
    this.#cache[slot] = { s, bytes: b.slice(at, at + n) };
    return s;
  }

  #string(n: number): string {
    return ascii(this.#buf, this.#take(n), n);
  }
}

/** A string the cache holds, with its bytes (comparing bytes is faster than comparing characters). */
interface Interned {
  readonly s: string;
  readonly bytes: Uint8Array;
}

const EMPTY = new Uint8Array(0);

// Multi-byte numbers are big-endian; read from the bytes (a DataView per frame costs more than this).
function uint16(b: Uint8Array, at: number): number {
  return ((b[at] as number) << 8) | (b[at + 1] as number);
}

function uint32(b: Uint8Array, at: number): number {
  return (((b[at] as number) << 24) | ((b[at + 1] as number) << 16) | ((b[at + 2] as number) << 8) | (b[at + 3] as number)) >>> 0;
}

const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function float64(b: Uint8Array, at: number): number {
  for (let i = 0; i < 8; i++) F64_BYTES[LITTLE_ENDIAN ? 7 - i : i] = b[at + i] as number;
  return F64[0] as number;
}

function sameBytes(known: Uint8Array, b: Uint8Array, at: number, n: number): boolean {
  if (known.length !== n) return false;
  for (let i = 0; i < n; i++) if (known[i] !== b[at + i]) return false;
  return true;
}

/**
 * The ASCII string of `n` bytes at `at`; declines any other. Built eight characters per call, as
 * msgpackr's short-string reader does: faster than a call per character or one `apply` over a view.
 */
function ascii(b: Uint8Array, at: number, n: number): string {
  let s = '';
  let wide = 0;
  let i = at;
  const end = at + n;
  for (; i + 8 <= end; i += 8) {
    const c0 = b[i] as number, c1 = b[i + 1] as number, c2 = b[i + 2] as number, c3 = b[i + 3] as number;
    const c4 = b[i + 4] as number, c5 = b[i + 5] as number, c6 = b[i + 6] as number, c7 = b[i + 7] as number;
    wide |= c0 | c1 | c2 | c3 | c4 | c5 | c6 | c7;
    s += String.fromCharCode(c0, c1, c2, c3, c4, c5, c6, c7);
  }
  for (; i + 2 <= end; i += 2) {
    const c0 = b[i] as number, c1 = b[i + 1] as number;
    wide |= c0 | c1;
    s += String.fromCharCode(c0, c1);
  }
  if (i < end) {
    const c = b[i] as number;
    wide |= c;
    s += String.fromCharCode(c);
  }
  if (wide >= 0x80) throw DECLINE;
  return s;
}

/** One structure's builder: an object literal with the keys in order (msgpackr's keys, '__proto__' renamed as it does). */
function compile(keys: readonly string[]): ReadRecord {
  // A message's name (its first value) goes through the interning cache; other strings are built.
  const fields = keys.map((k, i) => `${JSON.stringify(k === '__proto__' ? '__proto_' : k)}: r.${i === 0 && k === '_msgname' ? 'name' : 'value'}()`);
  return new Function('r', `return { ${fields.join(', ')} };`) as ReadRecord;
}
