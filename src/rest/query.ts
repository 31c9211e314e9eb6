import { BadQueryError } from './errors.js';

/** `uint`: a non-negative integer; `seconds`: a non-negative decimal (Unix time); `string`: as is. */
export type ParamKind = 'uint' | 'seconds' | 'string';

const UINT = /^\d{1,15}$/;
const SECONDS = /^\d{1,12}(\.\d{1,9})?$/;

/**
 * Checks a query string against the parameters an endpoint accepts: an unknown or repeated
 * parameter, or a malformed or negative number, is a `BadQueryError`.
 */
export function parseQuery<const S extends Record<string, ParamKind>>(
  raw: unknown,
  spec: S,
): { [K in keyof S]?: S[K] extends 'string' ? string : number } {
  const out: Record<string, string | number> = {};
  if (raw === null || typeof raw !== 'object') return out as never;
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    const kind = Object.hasOwn(spec, name) ? spec[name] : undefined;
    if (kind === undefined) {
      const known = Object.keys(spec);
      throw new BadQueryError(`unknown query parameter "${name}"${known.length ? ` (expected one of: ${known.join(', ')})` : ' (this endpoint takes none)'}`);
    }
    if (typeof value !== 'string') throw new BadQueryError(`query parameter "${name}" must be given once`);
    if (kind === 'string') {
      out[name] = value;
    } else if (kind === 'uint') {
      if (!UINT.test(value)) throw new BadQueryError(`query parameter "${name}" must be a non-negative integer, received ${JSON.stringify(value)}`);
      out[name] = Number(value);
    } else {
      if (!SECONDS.test(value)) throw new BadQueryError(`query parameter "${name}" must be non-negative Unix seconds, received ${JSON.stringify(value)}`);
      out[name] = Number(value);
    }
  }
  return out as never;
}
