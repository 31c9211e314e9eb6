// Builds wire messages (importable from worker threads).
import { lookup } from '../binapi/messages.js';
import { REQUEST_FIELDS } from './catalog-structures.js';

/**
 * `{ _msgname, context, ...fields }` with the catalog's fields first, in catalog order, so the
 * message matches a pre-declared msgpackr record; other fields follow; undefined fields are left out.
 */
export function requestMessage(name: string, context: number, fields: Readonly<Record<string, unknown>> | undefined): Record<string, unknown> {
  const m: Record<string, unknown> = { _msgname: name, context };
  if (fields !== undefined) {
    const known = lookup(REQUEST_FIELDS, name);
    if (known !== undefined) for (const k of known) if (fields[k] !== undefined) m[k] = fields[k];
    for (const k in fields) if (!(k in m) && fields[k] !== undefined) m[k] = fields[k];
  }
  return m;
}
