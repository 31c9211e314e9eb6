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
  /** A number no key of `keyPrefix` uses or has used since this store was created. */
  allocate(keyPrefix: string): number;
}

export class MetadataStore implements MetadataAllocator {
  readonly #byKey = new Map<string, number>();
  readonly #byPrefix = new Map<string, Map<number, string>>();
  readonly #maxByPrefix = new Map<string, number>();
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
    this.#raise(keyPrefix, next);
    return next;
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
  }

  set(key: string, index: number): void {
    this.delete(key);
    const prefix = this.#prefixOf(key);
    this.#byKey.set(key, index);
    let rev = this.#byPrefix.get(prefix);
    if (!rev) this.#byPrefix.set(prefix, (rev = new Map()));
    rev.set(index, key);
    this.#raise(prefix, index);
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
