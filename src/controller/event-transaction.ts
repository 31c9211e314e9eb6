import type { UpdateOperations } from '../api/transactions.js';
import type { Value } from '../api/values.js';
import { findNonPlain } from '../api/plain-value.js';
import { InvalidValueError } from '../scheduler/errors.js';

function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string') throw new TypeError(`transaction key must be a string, received ${typeof key}`);
}

/**
 * The transaction handlers build for one event: the handlers' own (internal) values, `null` = delete.
 * For resync events it holds the whole internal desired state.
 */
export class EventTransaction implements UpdateOperations {
  readonly values = new Map<string, Value | null>();
  readonly #allowDelete: boolean;

  constructor(allowDelete: boolean) {
    this.#allowDelete = allowDelete;
  }

  put(key: string, value: Value): void {
    checkKey(key);
    if (value === null || value === undefined) {
      throw new TypeError(`transaction value for "${key}" must be an object, received ${String(value)}; use delete() to remove a key`);
    }
    // Refused here, where the handler that made it is named: such a value could be neither sent to
    // the dataplane, nor copied by getConfig(), nor shown by the REST API.
    // (A value or part frozen all the way down and found plain before is not walked again: see
    // findNonPlain.)
    const bad = typeof value === 'object' ? findNonPlain(value) : '(value)';
    if (bad !== null) throw new InvalidValueError(key, `not plain serializable data at ${bad}`);
    this.values.set(key, value);
  }

  get(key: string): Value | undefined {
    return this.values.get(key) ?? undefined;
  }

  delete(key: string): void {
    checkKey(key);
    if (!this.#allowDelete) throw new TypeError('delete() is not allowed in a resync transaction: leave the key out instead');
    this.values.set(key, null);
  }

  /** Whether the transaction mentions the key at all (set or deleted). */
  has(key: string): boolean {
    return this.values.has(key);
  }
}
