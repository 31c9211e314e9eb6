import type { Descriptor } from './descriptor.js';
import { DescriptorRegistrationError } from './errors.js';

const REQUIRED = ['validate', 'dependencies', 'create', 'delete'] as const;
const OPTIONAL = ['dependenciesOfKey', 'equivalent', 'needsRecreate', 'configure', 'update', 'retrieve'] as const;

/** Registered descriptors, found by the longest key prefix that matches a key. */
export class DescriptorRegistry {
  /** Sorted by prefix length, longest first. */
  #byPrefix: Descriptor[] = [];
  /** The last descriptor found whose prefix no longer prefix extends (so a hit on it is final). */
  #last: Descriptor | undefined;
  readonly #extended = new Set<Descriptor>();
  /** Registration order, then retrieve dependencies first. */
  #retrieveOrder: Descriptor[] = [];
  readonly #byName = new Map<string, Descriptor>();

  register(d: Descriptor): void {
    if (typeof d !== 'object' || d === null) throw new TypeError(`descriptor must be an object, received ${String(d)}`);
    if (typeof d.name !== 'string' || d.name === '') throw new TypeError(`descriptor.name must be a non-empty string, received ${String(d.name)}`);
    if (typeof d.keyPrefix !== 'string' || d.keyPrefix === '') {
      throw new TypeError(`descriptor.keyPrefix must be a non-empty string, received ${String(d.keyPrefix)}`);
    }
    for (const m of REQUIRED) {
      if (typeof d[m] !== 'function') throw new TypeError(`descriptor ${d.name}: ${m} must be a function, received ${typeof d[m]}`);
    }
    // Optional members too: a wrong one would otherwise fail every resync or commit that meets it.
    for (const m of OPTIONAL) {
      if (d[m] !== undefined && typeof d[m] !== 'function') throw new TypeError(`descriptor ${d.name}: ${m} must be a function when given, received ${typeof d[m]}`);
    }
    const deps = d.retrieveDependencies;
    if (deps !== undefined && (!Array.isArray(deps) || deps.some((n) => typeof n !== 'string'))) {
      throw new TypeError(`descriptor ${d.name}: retrieveDependencies must be an array of descriptor names`);
    }
    for (const flag of ['threadBound', 'droppedWithDependencies'] as const) {
      if (d[flag] !== undefined && typeof d[flag] !== 'boolean') throw new TypeError(`descriptor ${d.name}: ${flag} must be a boolean when given, received ${typeof d[flag]}`);
    }
    if (this.#byName.has(d.name)) throw new DescriptorRegistrationError(`a descriptor named ${d.name} is already registered`);
    for (const other of this.#byName.values()) {
      if (other.keyPrefix === d.keyPrefix) {
        throw new DescriptorRegistrationError(`descriptor ${d.name}: key prefix ${d.keyPrefix} is already handled by ${other.name}`);
      }
    }
    this.#byName.set(d.name, d);
    this.#byPrefix = [...this.#byName.values()].sort((a, b) => b.keyPrefix.length - a.keyPrefix.length);
    this.#extended.clear();
    for (const a of this.#byPrefix) {
      for (const b of this.#byPrefix) if (a !== b && b.keyPrefix.startsWith(a.keyPrefix)) this.#extended.add(a);
    }
    this.#last = undefined;
    this.#retrieveOrder = this.#orderForRetrieve();
  }

  /** The descriptor of a key, or undefined (an unimplemented key). */
  forKey(key: string): Descriptor | undefined {
    // Keys come in runs of one kind: try the last hit first.
    const last = this.#last;
    if (last !== undefined && key.startsWith(last.keyPrefix)) return last;
    for (const d of this.#byPrefix) {
      if (key.startsWith(d.keyPrefix)) {
        // Only a final hit is remembered: then the check above needs no second look.
        if (!this.#extended.has(d)) this.#last = d;
        return d;
      }
    }
    return undefined;
  }

  prefixOf(key: string): string {
    return this.forKey(key)?.keyPrefix ?? '';
  }

  get retrieveOrder(): readonly Descriptor[] {
    return this.#retrieveOrder;
  }

  #orderForRetrieve(): Descriptor[] {
    const out: Descriptor[] = [];
    const seen = new Set<string>();
    const visit = (d: Descriptor, path: Set<string>): void => {
      if (seen.has(d.name) || path.has(d.name)) return;
      path.add(d.name);
      for (const dep of d.retrieveDependencies ?? []) {
        const dd = this.#byName.get(dep);
        if (dd) visit(dd, path);
      }
      seen.add(d.name);
      out.push(d);
    };
    for (const d of this.#byName.values()) visit(d, new Set());
    return out;
  }
}
