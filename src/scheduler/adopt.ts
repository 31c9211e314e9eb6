import type { CloseGuard } from './close-guard.js';
import type { Value } from '../api/values.js';
import { VppRetval, retvalOf } from '../binapi/retval.js';
import type { BinapiClient } from './binapi-client.js';
import { retrievedItem, retrievedList, type Descriptor, type RetrievedValue } from './descriptor.js';
import type { MetadataReader } from './metadata-store.js';
import type { PlannedOp } from './planner.js';

/** Retvals by which the dataplane says "that object already exists". */
const ALREADY_EXISTS: ReadonlySet<number> = new Set([VppRetval.VIF_ALREADY_EXISTS, VppRetval.VALUE_EXIST, VppRetval.ENTRY_ALREADY_EXISTS, VppRetval.BD_ALREADY_EXISTS]);

/** Whether a failed create was refused because its object is already there (duck-typed retval). */
export function isAlreadyExists(err: Error): boolean {
  const retval = retvalOf(err);
  return retval !== undefined && ALREADY_EXISTS.has(retval);
}

export interface AdoptContext {
  readonly client: BinapiClient;
  readonly metadata: MetadataReader;
  descriptor(key: string): Descriptor | undefined;
  readonly closed: CloseGuard;
}

/**
 * Reads back the objects whose create was refused as "already exists": one retrieve per
 * descriptor kind. Returns, aligned with `ops`, what the dataplane holds under each op's key, or
 * undefined when it is not ours (no such key read back), not retrievable, or the read failed.
 */
export async function adoptExisting(ops: readonly PlannedOp[], o: AdoptContext): Promise<Array<RetrievedValue | undefined>> {
  const byDescriptor = new Map<Descriptor, Map<string, Value>>();
  for (const op of ops) {
    const d = o.descriptor(op.key);
    if (!d?.retrieve) continue;
    let wanted = byDescriptor.get(d);
    if (!wanted) byDescriptor.set(d, (wanted = new Map()));
    wanted.set(op.key, op.value);
  }
  const found = new Map<string, RetrievedValue>();
  for (const [d, wanted] of byDescriptor) {
    try {
      const read = (d.retrieve as NonNullable<Descriptor['retrieve']>)({
        dump: (name, fields) => o.closed.guard(o.client.dump(name, fields)),
        metadata: o.metadata,
        correlate: (key) => wanted.get(key),
      });
      // Guarded as its dumps are: a retrieve that never settles cannot hold close() up.
      for (const item of retrievedList(d, await o.closed.guard(Promise.resolve(read)))) {
        const it = retrievedItem(d, item);
        if (wanted.has(it.key)) found.set(it.key, it);
      }
    } catch {
      // Unreadable now: the ops keep their original error and the keys are re-read later.
    }
  }
  return ops.map((op) => found.get(op.key));
}
