// msgpackr encoding of binary-API messages (importable from any thread).
import { Packr } from 'msgpackr';
import { catalogStructures } from './catalog-structures.js';

const SHARED = catalogStructures().length;

/**
 * One direction's codec. Each side builds its own from the same fixed structures list, so no
 * structure is ever negotiated; `maxSharedStructures` pins the shared set to that list, and any
 * other shape is defined inline in its own message (works with or without the native accelerator).
 * The list is handed over through `getStructures`: msgpackr (2.1) sets up record ids above 32
 * (two-byte ids) correctly only for structures loaded that way, not for `structures`.
 */
export class FrameCodec {
  readonly #packr: Packr;

  constructor() {
    this.#packr = new Packr({
      useRecords: true,
      getStructures: catalogStructures,
      // Never called while the shared set is full; if it were, false makes msgpackr reload the
      // fixed list instead of sharing a structure the other side does not know.
      saveStructures: () => false,
      maxSharedStructures: SHARED,
      moreTypes: false,
    });
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
