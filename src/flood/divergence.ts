// Divergence: how many keys differ between two states (desired vs dataplane, model vs desired).
import type { Value } from '../api/index.js';

export interface Divergence {
  /** missing + extra + differing */
  readonly total: number;
  /** In the expected state, absent from the actual one. */
  readonly missing: number;
  /** In the actual state, absent from the expected one. */
  readonly extra: number;
  /** In both, with different values. */
  readonly differing: number;
  /** Up to 10 examples, e.g. `missing config/vpp/v2/...`. */
  readonly sample: readonly string[];
}

/** Structural equality of plain values: object key order does not matter, array order does. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameValue(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  for (const k of ka) if (!sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  return true;
}

export function compareStates(expected: ReadonlyMap<string, Value>, actual: ReadonlyMap<string, Value>): Divergence {
  let missing = 0;
  let extra = 0;
  let differing = 0;
  const sample: string[] = [];
  const note = (what: string): void => {
    if (sample.length < 10) sample.push(what);
  };
  for (const [key, value] of expected) {
    const other = actual.get(key);
    if (other === undefined) {
      missing++;
      note(`missing ${key}`);
    } else if (!sameValue(value, other)) {
      differing++;
      note(`differing ${key}: expected ${JSON.stringify(value)}, got ${JSON.stringify(other)}`);
    }
  }
  for (const key of actual.keys()) {
    if (!expected.has(key)) {
      extra++;
      note(`extra ${key}`);
    }
  }
  return { total: missing + extra + differing, missing, extra, differing, sample };
}
