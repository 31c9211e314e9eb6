// Values that can no longer change: what was found about one (plain, valid, normalized) stays true,
// so a value shared by many keys or puts is checked once.

/** Whether `v` is frozen throughout, with data properties only (no getter that could answer differently). */
export function isDeepFrozen(v: object): boolean {
  if (!Object.isFrozen(v)) return false;
  for (const k of Object.keys(v)) {
    const d = Object.getOwnPropertyDescriptor(v, k);
    if (d === undefined || !('value' in d)) return false;
    const child: unknown = d.value;
    if (typeof child === 'object' && child !== null && !isDeepFrozen(child)) return false;
  }
  return true;
}

/** Freezes a plain value all the way down and returns it. */
export function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const child of Object.values(v)) deepFreeze(child);
  }
  return v;
}
