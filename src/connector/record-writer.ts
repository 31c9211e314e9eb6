// A msgpack writer for the catalog's shared record structures (importable from any thread).
import { writeAsciiString } from './ascii-string.js';

/** Thrown while writing when a value is outside what the writer takes; `write` then declines. */
const DECLINE = Symbol('decline');

const CHUNK = 64 * 1024;

/**
 * Checks that an object's own enumerable keys are the shape's, in order, and if so writes the
 * record: id, then each value (a message's name, its first value, from `name`, encoded once).
 * Compiled per shape, so each one sees objects of one hidden class and V8 keeps its key walk and
 * field reads monomorphic.
 */
type WriteFields = (o: Record<string, unknown>, sink: ByteSink, name: Uint8Array | null) => boolean;

/**
 * The same for a request given as name, context and fields (no message object is built): the
 * fields' own keys must be the shape's after `_msgname` and `context`, in order.
 */
type WriteRequest = (fields: Readonly<Record<string, unknown>>, sink: ByteSink, name: Uint8Array, context: number) => boolean;

const NO_FIELDS: Readonly<Record<string, unknown>> = Object.freeze({});

/** One shared structure and, per key, the shapes an object under that key may take (last match first). */
interface Shape {
  readonly keys: readonly string[];
  readonly nested: Shape[][];
  write: WriteFields;
  /** Null for shapes that are not a request's (`_msgname`, `context`, fields). */
  writeRequest: WriteRequest | null;
}

/**
 * Writes binary-API messages as msgpack records, byte for byte what msgpackr (`useRecords`, the
 * same shared structures, no float32) writes, so msgpackr decodes them — without msgpackr's walk of
 * its key-transition tree for every object: a message's shape is found from its `_msgname`, a
 * nested object's from the key it sits under (last match first), and either is checked by comparing
 * keys in order.
 * It takes plain objects of a shared structure, arrays, ASCII strings under 256 bytes, booleans,
 * null and 32-bit integers; anything else (a float, an unlisted shape, undefined, a long or
 * non-ASCII string) makes `write` return undefined, and the caller falls back to msgpackr.
 */
export class RecordWriter {
  readonly #sink = new ByteSink();
  readonly #shapesFor: (name: string) => ReadonlyArray<readonly string[]>;
  /** Shapes by their keys joined with ','. */
  readonly #byKeys = new Map<string, Shape>();
  /** `_msgname` → the shapes a message of that name may take (last match first) and the name's encoded bytes. */
  readonly #byName = new Map<string, { shapes: Shape[]; name: Uint8Array }>();

  /**
   * `structures` in msgpackr's shared order (entry i has record id 0x40 + i); `shapesFor` names the
   * structures a message of a given `_msgname` may take (none: msgpackr writes it).
   */
  constructor(structures: ReadonlyArray<readonly string[]>, shapesFor: (name: string) => ReadonlyArray<readonly string[]>) {
    this.#shapesFor = shapesFor;
    const twoByte = structures.length > 32;
    const shapes: Shape[] = structures.map((keys) => ({ keys, nested: [], write: () => false, writeRequest: null }));
    for (const s of shapes) this.#byKeys.set(s.keys.join(','), s);
    // A nested object may take any shape that is not a whole message.
    const inner = shapes.filter((s) => s.keys[0] !== '_msgname');
    shapes.forEach((s, i) => {
      for (let k = 0; k < s.keys.length; k++) s.nested.push([...inner]);
      const id = 0x40 + i;
      const ids = twoByte && id >= 0x60 ? [((id - 0x60) & 0x1f) + 0x60, (id - 0x60) >> 5] : [id];
      s.write = compile(s, ids);
      if (s.keys[0] === '_msgname' && s.keys[1] === 'context') s.writeRequest = compileRequest(s, ids);
    });
  }

  /** The encoded bytes (valid until copied; never overwritten), or undefined when the writer declines. */
  write(message: Record<string, unknown>): Uint8Array | undefined {
    const name = message['_msgname'];
    if (typeof name !== 'string') return undefined;
    const entry = this.#entry(name);
    if (entry === undefined) return undefined;
    const sink = this.#sink;
    sink.begin();
    try {
      sink.object(message, entry.shapes, entry.name);
    } catch (e) {
      if (e !== DECLINE) throw e;
      sink.abandon();
      return undefined;
    }
    return sink.end();
  }

  /**
   * The bytes of `{ _msgname: name, context, ...fields }` written straight from the fields, when
   * their keys are a catalog shape's in its order and every value is one the writer takes; else
   * undefined (the caller builds the message and encodes it the general way).
   */
  writeRequest(name: string, context: number, fields: Readonly<Record<string, unknown>> | undefined): Uint8Array | undefined {
    const entry = this.#entry(name);
    if (entry === undefined) return undefined;
    const sink = this.#sink;
    sink.begin();
    try {
      const shapes = entry.shapes;
      const f = fields ?? NO_FIELDS;
      for (let c = 0; c < shapes.length; c++) if ((shapes[c] as Shape).writeRequest?.(f, sink, entry.name, context) === true) return sink.end();
    } catch (e) {
      if (e !== DECLINE) throw e;
    }
    sink.abandon();
    return undefined;
  }

  /** The shapes a message of this name may take and its encoded name; undefined when there are none. */
  #entry(name: string): { shapes: Shape[]; name: Uint8Array } | undefined {
    let entry = this.#byName.get(name);
    if (entry === undefined) {
      const bytes = this.#sink.encodedString(name);
      if (bytes === undefined) return undefined;
      const shapes = this.#shapesFor(name).flatMap((keys) => this.#byKeys.get(keys.join(',')) ?? []);
      this.#byName.set(name, (entry = { shapes, name: bytes }));
    }
    return entry.shapes.length === 0 ? undefined : entry;
  }
}

/** Builds a shape's WriteFields; keys go into the source as JSON string literals only. */
function compile(shape: Shape, ids: readonly number[]): WriteFields {
  const keys = shape.keys;
  const lines = keysThenId('o', 0, keys.length, ids);
  keys.forEach((key, i) => {
    lines.push(i === 0 && key === '_msgname' ? `if (name !== null) sink.raw(name); else sink.value(${read('o', key)}, N[0]);` : fieldLine('o', key, i));
  });
  lines.push('return true;');
  return build('o, sink, name', keys, shape.nested, lines) as WriteFields;
}

/** Builds a request shape's WriteRequest: the name's bytes and the context, then the fields. */
function compileRequest(shape: Shape, ids: readonly number[]): WriteRequest {
  const keys = shape.keys;
  const lines = [...keysThenId('f', 2, keys.length, ids), 'sink.raw(name);', 'sink.number(context);'];
  for (let i = 2; i < keys.length; i++) lines.push(fieldLine('f', keys[i] as string, i));
  lines.push('return true;');
  return build('f, sink, name, context', keys, shape.nested, lines) as WriteRequest;
}

/**
 * The start of a compiled writer: `object`'s own keys must be the shape's from index `first` on,
 * in order (nothing is written otherwise), then the record id.
 */
function keysThenId(object: string, first: number, count: number, ids: readonly number[]): string[] {
  return [
    `let i = ${first};`,
    'let v;',
    `for (const k in ${object}) { if (k !== K[i]) return false; i++; }`,
    `if (i !== ${count}) return false;`,
    `sink.id(${ids.join(', ')});`,
  ];
}

function read(object: string, key: string): string {
  return `${object}[${JSON.stringify(key)}]`;
}

/**
 * Per-field type checks give each field its own call sites, which V8 inlines; `value` is the
 * general (megamorphic) path for objects, arrays and the rest.
 */
function fieldLine(object: string, key: string, i: number): string {
  return `v = ${read(object, key)}; if (typeof v === 'string') sink.string(v); else if (typeof v === 'number') sink.number(v); else sink.value(v, N[${i}]);`;
}

function build(params: string, keys: readonly string[], nested: Shape[][], lines: readonly string[]): unknown {
  const make = new Function('K', 'N', `return function writeFields(${params}) {\n${lines.join('\n')}\n};`) as (k: readonly string[], n: Shape[][]) => unknown;
  return make(keys, nested);
}

/** The bytes being written: chunks are never reused, so views handed out stay valid. */
class ByteSink {
  #buf = new Uint8Array(CHUNK);
  #view = new DataView(this.#buf.buffer);
  #pos = 0;
  /** Where the message being written starts. */
  #start = 0;

  begin(): void {
    this.#start = this.#pos;
  }

  abandon(): void {
    this.#pos = this.#start;
  }

  end(): Uint8Array {
    return this.#buf.subarray(this.#start, this.#pos);
  }

  /** A string's msgpack bytes, or undefined when it is not one this writer takes. */
  encodedString(s: string): Uint8Array | undefined {
    this.begin();
    try {
      this.value(s, []);
      return this.#buf.slice(this.#start, this.#pos);
    } catch (e) {
      if (e !== DECLINE) throw e;
      return undefined;
    } finally {
      this.abandon();
    }
  }

  /** Writes `o` as the first candidate shape it matches, which then moves to the front. */
  object(o: Record<string, unknown>, candidates: Shape[], name: Uint8Array | null): void {
    for (let c = 0; c < candidates.length; c++) {
      const shape = candidates[c] as Shape;
      if (!shape.write(o, this, name)) continue;
      if (c > 0) {
        candidates.copyWithin(1, 0, c);
        candidates[0] = shape;
      }
      return;
    }
    throw DECLINE;
  }

  id(b0: number, b1?: number): void {
    this.#reserve(2);
    this.#buf[this.#pos++] = b0;
    if (b1 !== undefined) this.#buf[this.#pos++] = b1;
  }

  raw(bytes: Uint8Array): void {
    this.#reserve(bytes.length);
    this.#buf.set(bytes, this.#pos);
    this.#pos += bytes.length;
  }

  value(v: unknown, nested: Shape[]): void {
    switch (typeof v) {
      case 'string':
        this.string(v);
        return;
      case 'number':
        this.number(v);
        return;
      case 'boolean':
        this.#reserve(1);
        this.#buf[this.#pos++] = v ? 0xc3 : 0xc2;
        return;
      case 'object':
        if (v === null) {
          this.#reserve(1);
          this.#buf[this.#pos++] = 0xc0;
        } else if (Array.isArray(v)) {
          if (v.constructor !== Array) throw DECLINE;
          this.#arrayHeader(v.length);
          for (let i = 0; i < v.length; i++) this.value(v[i], nested);
        } else if (v.constructor === Object) {
          this.object(v as Record<string, unknown>, nested, null);
        } else throw DECLINE;
        return;
      default:
        throw DECLINE;
    }
  }

  /** Ensures `n` free bytes: a full chunk is left to the views handed out and a new one started. */
  #reserve(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    const partial = this.#buf.subarray(this.#start, this.#pos);
    this.#buf = new Uint8Array(Math.max(CHUNK, 2 * (partial.length + n)));
    this.#view = new DataView(this.#buf.buffer);
    this.#buf.set(partial);
    this.#pos = partial.length;
    this.#start = 0;
  }

  #arrayHeader(n: number): void {
    this.#reserve(5);
    const b = this.#buf;
    if (n < 0x10) b[this.#pos++] = 0x90 | n;
    else if (n < 0x10000) {
      b[this.#pos++] = 0xdc;
      b[this.#pos++] = n >> 8;
      b[this.#pos++] = n & 0xff;
    } else {
      b[this.#pos++] = 0xdd;
      this.#view.setUint32(this.#pos, n);
      this.#pos += 4;
    }
  }

  /** Integers as msgpackr writes them with records on (0x40–0x7f are record ids, so fixints stop at 0x3f). */
  number(v: number): void {
    this.#reserve(5);
    const b = this.#buf;
    if (v >>> 0 === v) {
      if (v < 0x40) b[this.#pos++] = v;
      else if (v < 0x100) {
        b[this.#pos++] = 0xcc;
        b[this.#pos++] = v;
      } else if (v < 0x10000) {
        b[this.#pos++] = 0xcd;
        b[this.#pos++] = v >> 8;
        b[this.#pos++] = v & 0xff;
      } else {
        b[this.#pos++] = 0xce;
        this.#view.setUint32(this.#pos, v);
        this.#pos += 4;
      }
    } else if (v >> 0 === v) {
      if (v >= -0x20) b[this.#pos++] = 0x100 + v;
      else if (v >= -0x80) {
        b[this.#pos++] = 0xd0;
        b[this.#pos++] = v + 0x100;
      } else if (v >= -0x8000) {
        b[this.#pos++] = 0xd1;
        this.#view.setInt16(this.#pos, v);
        this.#pos += 2;
      } else {
        b[this.#pos++] = 0xd2;
        this.#view.setInt32(this.#pos, v);
        this.#pos += 4;
      }
    } else throw DECLINE;
  }

  /** ASCII strings under 256 bytes; anything longer or wider is left to msgpackr. */
  string(s: string): void {
    if (s.length >= 0x100) throw DECLINE;
    this.#reserve(s.length + 2);
    const p = writeAsciiString(this.#buf, this.#pos, s);
    if (p < 0) throw DECLINE;
    this.#pos = p;
  }
}
