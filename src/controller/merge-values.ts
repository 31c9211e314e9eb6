import type { Value } from '../api/values.js';

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function mergeObjects(internal: Record<string, unknown>, external: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...internal };
  for (const key of Object.keys(external)) {
    const ext = external[key];
    const int = Object.hasOwn(out, key) ? out[key] : undefined;
    // A define, not an assignment: an own "__proto__" key (JSON.parse makes them) stays a key.
    Object.defineProperty(out, key, { value: isPlainObject(int) && isPlainObject(ext) ? mergeObjects(int, ext) : ext, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/**
 * Merges external configuration into an internal value: plain objects are merged deeply, the
 * external value wins on conflicts, arrays (and anything else) are replaced. Inputs are not modified.
 */
export function mergeValues(internal: Value | null | undefined, external: Value | null | undefined): Value | null {
  if (internal === null || internal === undefined) return external ?? null;
  if (external === null || external === undefined) return internal;
  return mergeObjects(internal, external);
}
