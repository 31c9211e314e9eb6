import type { Value } from '../api/values.js';
import { KeyRecord, NO_DEPS } from './key-record.js';
import type { DescriptorRegistry } from './registry.js';
import { dependenciesOf } from './descriptor.js';

/**
 * Per-key records plus the dependents index (dependency key -> keys whose desired or applied
 * value depends on it), so that a change costs O(its dependencies), never O(state).
 */
export class StateStore {
  readonly records = new Map<string, KeyRecord>();
  readonly #dependents = new Map<string, Set<string>>();
  readonly #registry: DescriptorRegistry;

  constructor(registry: DescriptorRegistry) {
    this.#registry = registry;
  }

  get(key: string): KeyRecord | undefined {
    return this.records.get(key);
  }

  getOrCreate(key: string): KeyRecord {
    let rec = this.records.get(key);
    if (!rec) this.records.set(key, (rec = new KeyRecord(key)));
    return rec;
  }

  dependents(key: string): ReadonlySet<string> | undefined {
    return this.#dependents.get(key);
  }

  /**
   * Sets desired and/or applied, keeping the dependents index in step; `desiredDeps`: the desired
   * value's dependencies when the caller computed them already.
   */
  set(key: string, rec: KeyRecord, desired: Value | undefined, applied: Value | undefined, desiredDeps?: readonly string[]): void {
    const oldD = rec.desired;
    const oldA = rec.applied;
    if (oldD === desired && oldA === applied) return;
    // The record keeps each value's dependencies: only a value new to it has them computed (the
    // same object is often both desired and applied).
    const depsOldD = rec.depsD;
    const depsOldA = rec.depsA;
    const depsNewD = desired === oldD ? depsOldD : desired === oldA ? depsOldA : desiredDeps !== undefined ? (desiredDeps.length === 0 ? NO_DEPS : desiredDeps) : this.#depsOf(key, desired);
    const depsNewA = applied === oldA ? depsOldA : applied === desired ? depsNewD : applied === oldD ? depsOldD : this.#depsOf(key, applied);
    rec.desired = desired;
    rec.applied = applied;
    rec.depsD = depsNewD;
    rec.depsA = depsNewA;
    if (depsOldD.length + depsOldA.length + depsNewD.length + depsNewA.length === 0) return;
    const before = union(depsOldD, depsOldA);
    const after = union(depsNewD, depsNewA);
    for (const d of before) if (!after.includes(d)) this.#unlink(d, key);
    for (const d of after) if (!before.includes(d)) this.#link(d, key);
  }

  /** Forgets a record that is neither desired nor applied. */
  drop(key: string): void {
    const rec = this.records.get(key);
    if (!rec) return;
    for (const d of union(rec.depsD, rec.depsA)) this.#unlink(d, key);
    this.records.delete(key);
  }

  #depsOf(key: string, value: Value | undefined): readonly string[] {
    if (value === undefined) return NO_DEPS;
    const d = this.#registry.forKey(key);
    if (d === undefined) return NO_DEPS;
    try {
      const deps = dependenciesOf(d, key, value);
      return deps.length === 0 ? NO_DEPS : deps;
    } catch {
      return NO_DEPS; // an invalid value has no usable dependencies
    }
  }

  #link(dep: string, key: string): void {
    let s = this.#dependents.get(dep);
    if (!s) this.#dependents.set(dep, (s = new Set()));
    s.add(key);
  }

  #unlink(dep: string, key: string): void {
    const s = this.#dependents.get(dep);
    if (!s) return;
    s.delete(key);
    if (s.size === 0) this.#dependents.delete(dep);
  }
}

function union(a: readonly string[], b: readonly string[]): readonly string[] {
  if (a === b || b.length === 0) return a;
  if (a.length === 0) return b;
  const out = a.slice();
  for (const d of b) if (!out.includes(d)) out.push(d);
  return out;
}
