/**
 * Numeric metadata of applied values (an interface's sw_if_index, an ACL's acl_index, a bridge
 * domain's bd_id), readable by other descriptors. Only kinds that have metadata pay for it.
 */
export interface MetadataReader {
  /** The metadata of an applied key. */
  get(key: string): number | undefined;
  /** The key of `keyPrefix` whose metadata is `index` (e.g. sw_if_index -> interface key). */
  keyOf(keyPrefix: string, index: number): string | undefined;
}

/** A reader that can also hand out fresh ids for descriptors that allocate their own (bd_id). */
export interface MetadataAllocator extends MetadataReader {
  /** A number no key of `keyPrefix` uses (nor has used since this store was created, below 2²⁴). */
  allocate(keyPrefix: string): number;
}

/** Allocated ids stay within 24 bits (VPP's bd_id). */
const MAX_ALLOCATED = 0xffffff;

export class MetadataStore implements MetadataAllocator {
  readonly #byKey = new Map<string, number>();
  readonly #byPrefix = new Map<string, Map<number, string>>();
  readonly #maxByPrefix = new Map<string, number>();
  /** Per prefix: ids found in use on the dataplane, and ids handed out past the top (not set yet). */
  readonly #outside = new Map<string, Set<number>>();
  /** Per prefix: where the search for a free id goes on, once past the top. */
  readonly #cursor = new Map<string, number>();
  #highest = 0;
  readonly #prefixOf: (key: string) => string;

  /** `prefixOf` maps a key to its descriptor's key prefix. */
  constructor(prefixOf: (key: string) => string) {
    this.#prefixOf = prefixOf;
  }

  get(key: string): number | undefined {
    return this.#byKey.get(key);
  }

  keyOf(keyPrefix: string, index: number): string | undefined {
    return this.#byPrefix.get(keyPrefix)?.get(index);
  }

  allocate(keyPrefix: string): number {
    const next = (this.#maxByPrefix.get(keyPrefix) ?? 0) + 1;
    if (next > MAX_ALLOCATED) return this.#reuse(keyPrefix);
    this.#raise(keyPrefix, next);
    return next;
  }

  /**
   * Past the top of the id space (a long life of creates, or an id at the top found on the
   * dataplane): the next id that no key of the prefix holds, that was not found in use, and that
   * was not handed out already.
   */
  #reuse(prefix: string): number {
    const held = this.#byPrefix.get(prefix);
    const outside = this.#outsideOf(prefix);
    let id = this.#cursor.get(prefix) ?? 0;
    for (let n = 0; n < MAX_ALLOCATED; n++) {
      id = id >= MAX_ALLOCATED ? 1 : id + 1;
      if (held?.has(id) || outside.has(id)) continue;
      outside.add(id);
      this.#cursor.set(prefix, id);
      return id;
    }
    throw new RangeError(`${prefix}: every id up to ${MAX_ALLOCATED} is in use`);
  }

  /** The highest number any prefix has used, allocated or reserved (a floor for ids made elsewhere). */
  highest(): number {
    return this.#highest;
  }

  #raise(prefix: string, index: number): void {
    if (index > (this.#maxByPrefix.get(prefix) ?? 0)) this.#maxByPrefix.set(prefix, index);
    if (index > this.#highest) this.#highest = index;
  }

  /** Makes `allocate(keyPrefix)` hand out numbers above `index` (found in use on the dataplane). */
  reserve(keyPrefix: string, index: number): void {
    this.#raise(keyPrefix, index);
    this.#outsideOf(keyPrefix).add(index);
  }

  #outsideOf(prefix: string): Set<number> {
    let outside = this.#outside.get(prefix);
    if (!outside) this.#outside.set(prefix, (outside = new Set()));
    return outside;
  }

  set(key: string, index: number): void {
    this.delete(key);
    const prefix = this.#prefixOf(key);
    this.#byKey.set(key, index);
    let rev = this.#byPrefix.get(prefix);
    if (!rev) this.#byPrefix.set(prefix, (rev = new Map()));
    rev.set(index, key);
    this.#raise(prefix, index);
    // Held by a key now: no longer needs keeping out of the search.
    this.#outside.get(prefix)?.delete(index);
  }

  delete(key: string): void {
    const old = this.#byKey.get(key);
    if (old === undefined) return;
    this.#byKey.delete(key);
    const rev = this.#byPrefix.get(this.#prefixOf(key));
    if (rev?.get(old) === key) rev.delete(old);
  }

  /** Forgets every key of a prefix (the dataplane was re-read); allocation stays monotonic. */
  clearPrefix(keyPrefix: string): void {
    const rev = this.#byPrefix.get(keyPrefix);
    if (!rev) return;
    for (const key of rev.values()) this.#byKey.delete(key);
    rev.clear();
  }
}
