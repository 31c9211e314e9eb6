import type { CloseGuard } from './close-guard.js';
import { EngineError } from '../api/errors.js';
import type { Value } from '../api/values.js';
import { deepEqual } from './value-equality.js';
import type { BinapiClient, BinapiRequest, Reply } from './binapi-client.js';
import { descriptorThrew, shapeOf, type CreatePlan, type Descriptor } from './descriptor.js';
import { DescriptorError, OperationInterruptedError } from './errors.js';
import type { MetadataStore } from './metadata-store.js';
import type { PlannedOp } from './planner.js';
import { adoptExisting, isAlreadyExists } from './adopt.js';
import { YIELD_CHUNK, yieldToLoop } from './loop-yield.js';

/**
 * Requests per slice of a big wave: building and encoding one costs a few µs (tens on a loaded
 * machine), so a slice holds the event loop about as long as YIELD_CHUNK keys of the cheaper loops.
 */
const WAVE_SLICE = 256;

/** How an op ended: `error` null = success; `skipped` = a dependency failed, nothing was sent. */
export interface OpOutcome {
  readonly index: number;
  readonly error: Error | null;
  readonly skipped: boolean;
  /** A create that failed after its create wave went through (in its configure wave): the object exists. */
  readonly halfMade: boolean;
}

export interface ExecuteOptions {
  readonly client: BinapiClient;
  readonly metadata: MetadataStore;
  descriptor(key: string): Descriptor | undefined;
  /** Stop starting new waves after the first failure (revert mode). */
  readonly stopOnError: boolean;
  /** Settles (rejects) when the scheduler closes, failing the wave in flight. */
  readonly closed: CloseGuard;
  /** Called once per op, in completion order; `outcome` is only valid during the call (it is reused). */
  onOutcome(op: PlannedOp, outcome: OpOutcome): void;
}

const Stage = Object.freeze({
  Waiting: 0,
  Create: 1,
  Configure: 2,
  Single: 3,
  Done: 4,
  /** Create found the object already there (ours, read back): update it from what it holds. */
  AdoptUpdate: 5,
  /** Create found the object already there in a form update cannot reach: delete, then create. */
  AdoptDelete: 6,
  AdoptDeleting: 7,
} as const);

/**
 * Runs a plan wave by wave: each wave is one `requestBatch` (one promise for all its ops). An op
 * becomes ready when every op it waits for succeeded; the requests of an op are built when it
 * becomes ready, so they can use metadata (sw_if_index...) that earlier waves returned.
 */
export async function execute(ops: readonly PlannedOp[], o: ExecuteOptions): Promise<void> {
  const n = ops.length;
  if (n === 0) return;
  const waitingFor = new Int32Array(n);
  const stage = new Uint8Array(n);
  const followers: number[][] = [];
  let active: number[] = [];
  for (let i = 0; i < n; i++) {
    const op = ops[i] as PlannedOp;
    waitingFor[i] = op.after.length;
    for (const a of op.after) (followers[a] ??= []).push(i);
    if (op.after.length === 0) active.push(i);
  }
  let failed = false;
  /** Per op: the value read back when its create found the object already there. */
  const adoptedFrom: Array<Value | undefined> = [];
  const adopted = new Uint8Array(n);
  const deletedMeta: Array<number | undefined> = [];
  /** Per op: the reply field its create captures as metadata, until that create's wave ends. */
  const captures: Array<string | undefined> = [];
  for (let i = 0; i < n; i++) if ((ops[i] as PlannedOp).op === 'delete') deletedMeta[i] = o.metadata.get((ops[i] as PlannedOp).key);

  // One outcome object, refilled per op: onOutcome reads it before it returns (no garbage per op).
  const outcome: { index: number; error: Error | null; skipped: boolean; halfMade: boolean } = { index: 0, error: null, skipped: false, halfMade: false };
  const finish = (i: number, error: Error | null, skipped: boolean, next: number[]): void => {
    outcome.halfMade = error !== null && stage[i] === Stage.Configure;
    stage[i] = Stage.Done;
    const op = ops[i] as PlannedOp;
    // A re-create in the same wave may already have set the new metadata: only forget the old one.
    if (!error && op.op === 'delete' && o.metadata.get(op.key) === deletedMeta[i]) o.metadata.delete(op.key);
    outcome.index = i;
    outcome.error = error;
    outcome.skipped = skipped;
    o.onOutcome(op, outcome);
    const fl = followers[i];
    if (!fl) return;
    for (const f of fl) {
      if (stage[f] === Stage.Done) continue;
      if (error || skipped) finish(f, null, true, next);
      else if (--(waitingFor[f] as number) === 0) next.push(f);
    }
  };

  let adoptErrors: Map<number, Error> | undefined;
  while (active.length > 0) {
    let batch: BinapiRequest[] = [];
    const owner: number[] = [];
    const next: number[] = [];
    // A big wave goes out in slices of WAVE_SLICE requests, with the event loop running between
    // them (a resync's 10⁵ updates): the dataplane starts on a slice while the next is built.
    const sent: Array<Promise<Array<Reply | Error>>> = [];
    // Build this wave; ops that need no request finish at once and may ready others.
    for (let a = 0; a < active.length; a++) {
      const i = active[a] as number;
      const op = ops[i] as PlannedOp;
      let reqs: readonly BinapiRequest[];
      try {
        reqs = requestsFor(op, i, stage, o, adoptedFrom[i], captures);
      } catch (err) {
        failed = true;
        // A descriptor that cannot build its requests (e.g. missing metadata) fails its op, typed.
        const e = err instanceof EngineError ? err : new DescriptorError(o.descriptor(op.key)?.name ?? op.key, `${op.op} ${op.key}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
        finish(i, e, false, next);
        continue;
      }
      if (reqs.length === 0) {
        if (!advance(op, i, stage, o, captures)) finish(i, null, false, active);
        else active.push(i);
        continue;
      }
      for (const r of reqs) {
        batch.push(r);
        owner.push(i);
      }
      if (batch.length >= WAVE_SLICE) {
        const slice = o.closed.guard(o.client.requestBatch(batch));
        slice.catch(() => {}); // seen by Promise.all below; not unhandled while we yield
        sent.push(slice);
        batch = [];
        await yieldToLoop();
      }
    }
    if (batch.length > 0) sent.push(o.closed.guard(o.client.requestBatch(batch)));
    if (sent.length > 0) {
      let replies: Array<Reply | Error>;
      try {
        replies = sent.length === 1 ? await (sent[0] as Promise<Array<Reply | Error>>) : (await Promise.all(sent)).flat();
      } catch (err) {
        const e = err instanceof Error ? err : new DescriptorError('batch', String(err));
        for (let k = 0; k < owner.length; k++) {
          const i = owner[k] as number;
          if (stage[i] !== Stage.Done) finish(i, e, false, []);
        }
        // Whatever was still waiting fails the same way: the dataplane is unreachable or we are closing.
        for (let i = 0; i < n; i++) if (stage[i] !== Stage.Done) finish(i, e, false, []);
        return;
      }
      // Per op: the first error, and the capture from its first reply.
      let adopt: number[] | undefined;
      let k = 0;
      let slice = 0;
      while (k < owner.length) {
        if (++slice % YIELD_CHUNK === 0) await yieldToLoop();
        const i = owner[k] as number;
        const op = ops[i] as PlannedOp;
        const first = replies[k];
        let error: Error | null = null;
        for (; k < owner.length && owner[k] === i; k++) {
          const r = replies[k];
          if (r instanceof Error && !error) error = r;
        }
        if (error) {
          // "Already exists" on a create: an earlier attempt whose reply was lost (a timeout) may
          // have created it. Read it back below instead of failing on it forever.
          if (stage[i] === Stage.Create && adopted[i] === 0 && isAlreadyExists(error)) {
            adopted[i] = 1;
            (adopt ??= []).push(i);
            adoptedFrom[i] = undefined;
            (adoptErrors ??= new Map()).set(i, error);
            continue;
          }
          failed = true;
          finish(i, error, false, next);
          continue;
        }
        if (stage[i] === Stage.Create) capture(op, captures[i], first as Reply, o);
        if (advance(op, i, stage, o, captures)) next.push(i);
        else finish(i, null, false, next);
      }
      if (adopt) {
        for (const i of adopt) captures[i] = undefined;
        const found = await adoptExisting(adopt.map((i) => ops[i] as PlannedOp), o);
        for (let a = 0; a < adopt.length; a++) {
          const i = adopt[a] as number;
          const op = ops[i] as PlannedOp;
          const got = found[a];
          const original = adoptErrors?.get(i) as Error;
          if (got === undefined) {
            failed = true;
            finish(i, original, false, next);
            continue;
          }
          if (got.metadata !== undefined) o.metadata.set(op.key, got.metadata);
          const d = o.descriptor(op.key) as Descriptor;
          let method = 'equivalent';
          let same: boolean;
          let as: number = Stage.AdoptDelete;
          try {
            same = d.equivalent ? d.equivalent(op.key, got.value, op.value) : deepEqual(got.value, op.value);
            method = 'needsRecreate';
            if (!same && d.update && !d.needsRecreate?.(op.key, got.value, op.value)) as = Stage.AdoptUpdate;
          } catch (err) {
            // A user descriptor's slip fails its op, typed (the key is re-read), not the whole wave.
            failed = true;
            finish(i, descriptorThrew(d, method, op.key, err), false, next);
            continue;
          }
          if (same) {
            finish(i, null, false, next);
            continue;
          }
          adoptedFrom[i] = got.value;
          stage[i] = as;
          next.push(i);
        }
      }
    }
    if (failed && o.stopOnError) {
      for (let i = 0; i < n; i++) {
        if (stage[i] === Stage.Done) continue;
        // Half-created (its first wave ran): a failure, so the key is re-read; the rest never started.
        const half = stage[i] === Stage.Configure;
        finish(i, half ? new OperationInterruptedError((ops[i] as PlannedOp).key) : null, !half, []);
      }
      return;
    }
    active = next;
  }
}

function requestsFor(
  op: PlannedOp,
  i: number,
  stage: Uint8Array,
  o: ExecuteOptions,
  existing: Value | undefined,
  captures: Array<string | undefined>,
): readonly BinapiRequest[] {
  const d = o.descriptor(op.key);
  if (!d) throw new DescriptorError(op.key, 'no descriptor');
  switch (stage[i]) {
    case Stage.Waiting:
      if (op.op === 'delete') {
        stage[i] = Stage.Single;
        return list(d, 'delete', d.delete(op.key, op.value, o.metadata));
      }
      if (op.op === 'update') {
        stage[i] = Stage.Single;
        return list(d, 'update', (d.update as NonNullable<Descriptor['update']>)(op.key, op.old as NonNullable<PlannedOp['old']>, op.value, o.metadata));
      }
      {
        stage[i] = Stage.Create;
        const p = d.create(op.key, op.value, o.metadata) as unknown;
        if (typeof p !== 'object' || p === null || !Array.isArray((p as CreatePlan).requests)) {
          throw new DescriptorError(d.name, `create() of ${op.key} returned ${shapeOf(p)}, expected { requests: [...] }`);
        }
        const plan = p as CreatePlan;
        if (plan.metadata !== undefined) o.metadata.set(op.key, plan.metadata);
        captures[i] = plan.capture;
        return plan.requests;
      }
    case Stage.Configure:
      return d.configure ? list(d, 'configure', d.configure(op.key, op.value, o.metadata)) : NO_REQUESTS;
    case Stage.AdoptUpdate:
      stage[i] = Stage.Single;
      return list(d, 'update', (d.update as NonNullable<Descriptor['update']>)(op.key, existing as Value, op.value, o.metadata));
    case Stage.AdoptDelete:
      stage[i] = Stage.AdoptDeleting;
      return list(d, 'delete', d.delete(op.key, existing as Value, o.metadata));
    default:
      return NO_REQUESTS;
  }
}

/** A descriptor method's request list, checked: a user descriptor's slip fails its op, typed (never a TypeError later). */
function list(d: Descriptor, method: string, r: unknown): readonly BinapiRequest[] {
  if (!Array.isArray(r)) throw new DescriptorError(d.name, `${method}() returned ${shapeOf(r)}, expected an array of requests`);
  return r as readonly BinapiRequest[];
}

/** Moves an op past the wave it just finished; true if it has another wave to run. */
function advance(op: PlannedOp, i: number, stage: Uint8Array, o: ExecuteOptions, captures: Array<string | undefined>): boolean {
  if (stage[i] === Stage.AdoptDeleting) {
    // The stale object is gone: create ours as planned.
    o.metadata.delete(op.key);
    stage[i] = Stage.Waiting;
    return true;
  }
  if (stage[i] === Stage.Create) {
    captures[i] = undefined;
    if (o.descriptor(op.key)?.configure) {
      stage[i] = Stage.Configure;
      return true;
    }
  }
  return false;
}

function capture(op: PlannedOp, field: string | undefined, reply: Reply, o: ExecuteOptions): void {
  if (field === undefined) return;
  const v = reply[field];
  if (typeof v === 'number') o.metadata.set(op.key, v);
}

const NO_REQUESTS: readonly BinapiRequest[] = Object.freeze([]);
