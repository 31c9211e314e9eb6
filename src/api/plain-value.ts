import { isKnownPlain, notePlain } from './frozen-value.js';

/**
 * Where a value stops being plain, msgpack- and JSON-serializable data (API.md "Values"): the path of
 * the first offending part (`rules[2].hook`), or null when the whole value is plain. Plain = null,
 * booleans, finite numbers, strings, byte arrays, arrays and objects whose prototype is Object's or
 * null. Deeper than `maxDepth` counts as offending: it catches cycles without a visited set.
 */
export function findNonPlain(value: unknown, maxDepth = 64): string | null {
  // The common case pays for no path strings: they are built only once something is wrong.
  return isPlain(value, maxDepth) ? null : walk(value, '', maxDepth);
}

function isPlain(v: unknown, depth: number): boolean {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(v);
    case 'object': {
      if (v === null || v instanceof Uint8Array) return true;
      // A frozen part found plain before (a rule shared by many values) is not walked again.
      if (isKnownPlain(v)) return true;
      if (depth === 0) return false;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) if (!isPlain(v[i], depth - 1)) return false;
      } else {
        const proto = Object.getPrototypeOf(v) as unknown;
        if (proto !== Object.prototype && proto !== null) return false;
        for (const k in v) if (!isPlain((v as Record<string, unknown>)[k], depth - 1)) return false;
      }
      notePlain(v);
      return true;
    }
    default:
      return false;
  }
}

function walk(v: unknown, path: string, depth: number): string | null {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return null;
    case 'number':
      return Number.isFinite(v) ? null : path || '(value)';
    case 'object': {
      if (v === null || v instanceof Uint8Array) return null;
      if (depth === 0) return `${path || '(value)'} (nested too deep or cyclic)`;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) {
          const bad = walk(v[i], `${path}[${i}]`, depth - 1);
          if (bad !== null) return bad;
        }
        return null;
      }
      const proto = Object.getPrototypeOf(v) as unknown;
      if (proto !== Object.prototype && proto !== null) return `${path || '(value)'} (a ${(v as object).constructor?.name ?? 'class'} instance)`;
      for (const k in v) {
        const bad = walk((v as Record<string, unknown>)[k], path ? `${path}.${k}` : k, depth - 1);
        if (bad !== null) return bad;
      }
      return null;
    }
    default:
      // undefined, function, symbol, bigint
      return `${path || '(value)'} (${typeof v})`;
  }
}
