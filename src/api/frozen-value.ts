// Values that can no longer change: what was found about one (plain, valid, normalized) stays true,
// so a value shared by many keys or puts is checked once. (Internal: not exported from the package.)

/** Objects found frozen all the way down: frozen stays frozen, so the answer is kept. */
const deepFrozen = new WeakSet<object>();

/**
 * Whether `v` is frozen throughout, with data properties only (no getter that could answer
 * differently). Deeper than `maxDepth` counts as not frozen: it ends cycles without a visited set.
 */
export function isDeepFrozen(v: object, maxDepth = 64): boolean {
  if (deepFrozen.has(v)) return true;
  if (maxDepth === 0 || !Object.isFrozen(v)) return false;
  for (const k of Object.keys(v)) {
    const d = Object.getOwnPropertyDescriptor(v, k);
    if (d === undefined || !('value' in d)) return false;
    const child: unknown = d.value;
    if (typeof child === 'object' && child !== null && !isDeepFrozen(child, maxDepth - 1)) return false;
  }
  deepFrozen.add(v);
  return true;
}

/** Objects found plain and deep-frozen: plain for good (see `findNonPlain`). */
const plainForGood = new WeakSet<object>();

export function isKnownPlain(v: object): boolean {
  return plainForGood.has(v);
}

/** Notes an object just found plain: kept when it can no longer change. */
export function notePlain(v: object): void {
  if (Object.isFrozen(v) && isDeepFrozen(v)) plainForGood.add(v);
}

/** Freezes a plain value all the way down and returns it. */
export function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const child of Object.values(v)) deepFreeze(child);
  }
  return v;
}
