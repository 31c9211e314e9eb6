// Reading the dataplane back after a sync's failures, as the scheduler re-reads its failed keys.
import type { Value } from '../api/values.js';
import type { Reply } from '../connector/index.js';
import type { Descriptor, RetrievedValue } from '../scheduler/descriptor.js';
import { MetadataStore } from '../scheduler/metadata-store.js';
import type { KindTable } from './shard-work.js';

/** What the dataplane holds under each key read back: its value and metadata, or null (not there). */
export type ReadBack = Map<string, RetrievedValue | null>;

export interface ReadBackSource {
  dump(name: string, fields?: Record<string, unknown>): Promise<Reply[]>;
  /** The value held for a key: restores fields the dataplane reports only when they were set. */
  hint(key: string): Value | undefined;
  /** An id found in use on the dataplane (ids handed out later stay above it). */
  reserve(id: number): void;
}

/**
 * Reads the kinds of `keys` from the dataplane (and first the kinds they name through), through
 * the descriptors `kinds` holds: a retrieve also renews what a descriptor keeps of the dataplane
 * (the ACL descriptor's interface lists). Keys of a kind without `retrieve` are left out: what the
 * sync recorded for them stands. Rejects when a dump fails.
 */
export async function readBack(keys: Iterable<string>, kinds: KindTable, src: ReadBackSource): Promise<ReadBack> {
  const wanted = new Map<Descriptor, string[]>();
  for (const key of keys) {
    const d = kinds.forKey(key);
    if (!d?.retrieve) continue;
    let list = wanted.get(d);
    if (!list) wanted.set(d, (list = []));
    list.push(key);
  }
  const out: ReadBack = new Map();
  if (wanted.size === 0) return out;
  const metadata = new MetadataStore((key) => kinds.forKey(key)?.keyPrefix ?? '');
  const ctx = { dump: src.dump, metadata, correlate: src.hint, reserve: (_pool: string, id: number) => src.reserve(id) };
  const found = new Map<string, RetrievedValue>();
  for (const d of kinds.readOrder(wanted.keys())) {
    for (const it of await (d.retrieve as NonNullable<Descriptor['retrieve']>)(ctx)) {
      if (kinds.forKey(it.key) !== d) continue; // not this kind's key
      if (it.metadata !== undefined) {
        metadata.set(it.key, it.metadata);
        src.reserve(it.metadata);
      }
      if (wanted.has(d)) found.set(it.key, it);
    }
  }
  for (const list of wanted.values()) for (const key of list) out.set(key, found.get(key) ?? null);
  return out;
}
