import type { Value } from '../api/values.js';
import { StateCode } from './key-status.js';

/** The shared empty dependency list. */
export const NO_DEPS: readonly string[] = Object.freeze([]);

/** What the scheduler keeps per key: kept small, a million of these must fit comfortably. */
export class KeyRecord {
  /**
   * The key exactly as the store's map holds it. A commit carries new string objects for the same
   * keys; looking them up once and going on with this one makes every later map operation of the
   * transaction an identity hit instead of a character-by-character comparison.
   */
  readonly key: string;
  /** The committed value (normalized when valid); undefined = not desired. */
  desired: Value | undefined = undefined;
  /** What the dataplane holds as far as the scheduler knows. */
  applied: Value | undefined = undefined;
  state: StateCode = StateCode.Pending;
  /** The last operation failed: `applied` may not match the dataplane until re-read. */
  dirty = false;
  error: Error | undefined = undefined;
  /**
   * The dependencies of `desired` and of `applied` (kept by the state store with them): computed
   * once per new value, not again for every later change of the other one. Empty = a shared list.
   */
  depsD: readonly string[] = NO_DEPS;
  depsA: readonly string[] = NO_DEPS;

  constructor(key: string) {
    this.key = key;
  }

  /** What the planner reads (PlanKeyView): the record is its own view, so no view object per lookup. */
  get want(): Value | undefined {
    return wanted(this);
  }
}

/** The value the dataplane should hold for a record, or undefined. */
export function wanted(rec: KeyRecord): Value | undefined {
  return rec.state === StateCode.Invalid || rec.state === StateCode.Unimplemented ? undefined : rec.desired;
}
