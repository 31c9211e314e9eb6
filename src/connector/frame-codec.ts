// msgpackr encoding of binary-API messages (importable from any thread).
import { Packr } from 'msgpackr';
import { catalogStructures } from './catalog-structures.js';

/**
 * One direction's codec. Each side builds its own from the same fixed structures list, so no
 * structure is ever negotiated; `maxSharedStructures` pins the shared set to that list, and any
 * other shape is defined inline in its own message (works with or without the native accelerator).
 */
export class FrameCodec {
  readonly #packr: Packr;

  constructor() {
    // Exactly the shared list: an id the list leaves free would be taken for an undeclared shape.
    const structures = catalogStructures();
    this.#packr = new Packr({ useRecords: true, structures, maxSharedStructures: structures.length, moreTypes: false });
  }

  /** Encodes one message; the bytes stay valid until they are copied (they are not reused). */
  encode(message: unknown): Uint8Array {
    return this.#packr.pack(message);
  }

  /** Decodes one frame payload; throws on malformed bytes. */
  decode(bytes: Uint8Array): unknown {
    return this.#packr.unpack(bytes);
  }
}
