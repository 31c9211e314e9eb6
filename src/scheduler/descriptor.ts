import type { Value } from '../api/values.js';
import type { BinapiRequest, Reply } from './binapi-client.js';
import type { MetadataAllocator, MetadataReader } from './metadata-store.js';
import { DescriptorError } from './errors.js';

/** What `create` sends, and where the new object's metadata comes from. */
export interface CreatePlan {
  /** Sent as one wave; the first request's reply carries `capture`, when set. */
  readonly requests: readonly BinapiRequest[];
  /** Reply field of the first request that is this key's metadata (e.g. `sw_if_index`). */
  readonly capture?: string;
  /** This key's metadata when known up front (e.g. an allocated `bd_id`). */
  readonly metadata?: number;
}

/** What a descriptor's `retrieve` may use. */
export interface RetrieveContext {
  dump(name: string, fields?: Record<string, unknown>): Promise<Reply[]>;
  /** Metadata of what the descriptors retrieved before this one (interfaces come first). */
  readonly metadata: MetadataReader;
  /** The value the scheduler holds for a key, to restore fields the dataplane does not report. */
  correlate(key: string): Value | undefined;
  /** Marks an id of an allocation pool (see `MetadataAllocator.allocate`) as used on the dataplane. */
  reserve?(pool: string, id: number): void;
}

export interface RetrievedValue {
  readonly key: string;
  /** In the normalized form `validate` returns. */
  readonly value: Value;
  readonly metadata?: number;
}

/**
 * How one kind of value reaches the dataplane (ligato's KVDescriptor). Every method is a plain
 * function of its arguments: no connector, no scheduler state, so planning can move to a worker.
 */
export interface Descriptor {
  /** Unique among registered descriptors. */
  readonly name: string;
  /** Every key of this kind starts with it; the longest matching prefix wins. */
  readonly keyPrefix: string;
  /** Names of descriptors whose values must be retrieved first (their metadata is needed). */
  readonly retrieveDependencies?: readonly string[];
  /**
   * Its requests depend on what this descriptor instance remembers across keys (the ACL
   * descriptor's interface lists): an offload pool builds them on the main thread, with one instance
   * seeing every key, never in a worker thread with an instance of its own.
   */
  readonly threadBound?: boolean;
  /**
   * The dataplane deletes a value of this kind by itself when a value it depends on is deleted (a
   * route through a deleted interface), rather than keeping it without the link (an interface
   * unnumbered to it). A resync that re-creates the dependency then does not count this value's own
   * delete failing: the value is gone all the same.
   */
  readonly droppedWithDependencies?: boolean;
  /** Checks key and value; returns the normalized value. Throws `InvalidValueError`. */
  validate(key: string, value: Value): Value;
  /** Keys that must be applied before this value can be created. */
  dependencies(key: string, value: Value): readonly string[];
  /**
   * `dependencies` as the key alone names them, the same for every valid value of the key;
   * undefined where the key does not tell. Lets a resync check an unchanged value's dependencies
   * without decoding it.
   */
  dependenciesOfKey?(key: string): readonly string[] | undefined;
  /** Default: structural equality of the normalized values. */
  equivalent?(key: string, a: Value, b: Value): boolean;
  /** Whether going from `oldValue` to `newValue` needs delete + create. Default: false. */
  needsRecreate?(key: string, oldValue: Value, newValue: Value): boolean;
  create(key: string, value: Value, metadata: MetadataAllocator): CreatePlan;
  /** Requests that need this key's own metadata, sent in the wave after `create`'s. */
  configure?(key: string, value: Value, metadata: MetadataReader): readonly BinapiRequest[];
  /** Absent = every change is a re-create. */
  update?(key: string, oldValue: Value, newValue: Value, metadata: MetadataReader): readonly BinapiRequest[];
  delete(key: string, value: Value, metadata: MetadataReader): readonly BinapiRequest[];
  /** Reads this kind's values from the dataplane; absent = not retrievable (resync trusts the applied state). */
  retrieve?(ctx: RetrieveContext): Promise<readonly RetrievedValue[]>;
}

/**
 * The readable descriptors (with `retrieve`) among `only` and the kinds they name through
 * (`retrieveDependencies`, transitively), in `order` (dependencies first): reading them in that
 * order, each retrieve resolves names through the metadata read before it.
 */
export function readClosure(order: readonly Descriptor[], only: Iterable<Descriptor>): Descriptor[] {
  const byName = new Map(order.map((d) => [d.name, d]));
  const include = new Set<Descriptor>();
  const add = (d: Descriptor): void => {
    if (include.has(d)) return;
    include.add(d);
    for (const n of d.retrieveDependencies ?? []) {
      const dd = byName.get(n);
      if (dd) add(dd);
    }
  };
  for (const d of only) add(d);
  return order.filter((d) => d.retrieve !== undefined && include.has(d));
}

/** What a descriptor method returned, named for an error message ("null", "an array", "undefined"...). */
export function shapeOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}

/**
 * `d.dependencies(key, value)` held to its contract: anything but an array of keys (a user
 * descriptor's slip) throws a TypeError here, which validation turns into the key's own error,
 * instead of being iterated as keys (a string's characters) or failing whatever meets it later.
 */
export function dependenciesOf(d: Descriptor, key: string, value: Value): readonly string[] {
  const deps = d.dependencies(key, value) as unknown;
  if (!Array.isArray(deps)) throw new TypeError(`descriptor ${d.name}: dependencies() returned ${shapeOf(deps)}, expected an array of keys`);
  for (const k of deps) if (typeof k !== 'string') throw new TypeError(`descriptor ${d.name}: dependencies() returned an array holding ${shapeOf(k)}, expected keys`);
  return deps as readonly string[];
}

/**
 * A descriptor method (`equivalent`, `needsRecreate`) that threw, as its key's typed error: a user
 * descriptor's slip fails that key, never the whole transaction.
 */
export function descriptorThrew(d: Descriptor, method: string, key: string, err: unknown): DescriptorError {
  if (err instanceof DescriptorError) return err;
  return new DescriptorError(d.name, `${method}() of ${key} threw: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

/** What `retrieve` resolved to, held to its contract: an array (its items are checked one by one, see `retrievedItem`). */
export function retrievedList(d: Descriptor, got: unknown): readonly unknown[] {
  if (!Array.isArray(got)) throw new DescriptorError(d.name, `retrieve() returned ${shapeOf(got)}, expected an array of { key, value }`);
  return got;
}

/** One item `retrieve` returned, held to its contract: `{ key: string, value: object, metadata?: number }`. */
export function retrievedItem(d: Descriptor, it: unknown): RetrievedValue {
  if (typeof it !== 'object' || it === null || Array.isArray(it)) throw new DescriptorError(d.name, `retrieve() returned an item that is ${shapeOf(it)}, expected { key, value }`);
  const { key, value, metadata } = it as { key?: unknown; value?: unknown; metadata?: unknown };
  if (typeof key !== 'string') throw new DescriptorError(d.name, `retrieve() returned an item whose key is ${shapeOf(key)}, expected a string`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new DescriptorError(d.name, `retrieve() returned ${key} with a value that is ${shapeOf(value)}, expected an object`);
  }
  if (metadata !== undefined && typeof metadata !== 'number') throw new DescriptorError(d.name, `retrieve() returned ${key} with metadata that is ${shapeOf(metadata)}, expected a number`);
  return it as RetrievedValue;
}
