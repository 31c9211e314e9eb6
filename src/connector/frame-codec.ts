// msgpackr encoding of binary-API messages (importable from any thread).
import { Packr } from 'msgpackr';
import { catalogShapesFor, catalogStructures } from './catalog-structures.js';
import { RecordReader } from './record-reader.js';
import { RecordWriter } from './record-writer.js';
import { requestMessage } from './request-message.js';

const SHARED = catalogStructures().length;

export interface FrameCodecOptions {
  /**
   * Write catalog-shaped messages with the RecordWriter (same bytes as msgpackr, written without
   * msgpackr's key-transition walk); false sends every message through msgpackr's `pack`.
   * @default true, unless the environment variable ENGINE_RECORD_WRITER is 'off'
   */
  readonly recordWriter?: boolean;
  /**
   * Read frames of catalog records with the RecordReader (the same values as msgpackr's `unpack`,
   * without its general reader); false decodes every frame with msgpackr.
   * @default true, unless the environment variable ENGINE_RECORD_READER is 'off'
   */
  readonly recordReader?: boolean;
}

/**
 * One direction's codec. Each side builds its own from the same fixed structures list, so no
 * structure is ever negotiated; `maxSharedStructures` pins the shared set to that list, and any
 * other shape is defined inline in its own message (works with or without the native accelerator).
 * The list is handed over through `getStructures`: msgpackr (2.1) sets up record ids above 32
 * (two-byte ids) correctly only for structures loaded that way, not for `structures`.
 */
export class FrameCodec {
  readonly #packr: Packr;
  readonly #writer: RecordWriter | null;
  readonly #reader: RecordReader | null;

  constructor(options: FrameCodecOptions = {}) {
    this.#packr = new Packr({
      useRecords: true,
      getStructures: catalogStructures,
      // Never called while the shared set is full; if it were, false makes msgpackr reload the
      // fixed list instead of sharing a structure the other side does not know.
      saveStructures: () => false,
      maxSharedStructures: SHARED,
      moreTypes: false,
    });
    const on = options.recordWriter ?? process.env['ENGINE_RECORD_WRITER'] !== 'off';
    this.#writer = on ? new RecordWriter(catalogStructures(), catalogShapesFor) : null;
    const read = options.recordReader ?? process.env['ENGINE_RECORD_READER'] !== 'off';
    this.#reader = read ? new RecordReader(catalogStructures()) : null;
  }

  /** Encodes one message; the bytes stay valid until they are copied (they are not reused). */
  encode(message: unknown): Uint8Array {
    if (this.#writer !== null && typeof message === 'object' && message !== null) {
      const bytes = this.#writer.write(message as Record<string, unknown>);
      if (bytes !== undefined) return bytes;
    }
    return this.#packr.pack(message);
  }

  /** Encodes the request `requestMessage(name, context, fields)` builds, from the fields when the writer takes them. */
  encodeRequest(name: string, context: number, fields: Readonly<Record<string, unknown>> | undefined): Uint8Array {
    if (this.#writer !== null) {
      const bytes = this.#writer.writeRequest(name, context, fields);
      if (bytes !== undefined) return bytes;
    }
    return this.encode(requestMessage(name, context, fields));
  }

  /** Decodes one frame payload; throws on malformed bytes. */
  decode(bytes: Uint8Array): unknown {
    if (this.#reader !== null) {
      const v = this.#reader.read(bytes);
      if (v !== undefined) return v;
    }
    return this.#packr.unpack(bytes);
  }
}
