// A PlanInput over plain maps, for tests of the pure planner (no scheduler, no connector).
import type { Value } from '../../src/api/values.js';
import type { PlanInput } from '../../src/scheduler/index.js';
import { THING_PREFIX, thingDescriptor } from './scheduler-fake-dataplane.js';

export interface PlanInputOptions {
  /** Keys whose last operation failed (`view().dirty`). */
  readonly dirty?: ReadonlySet<string>;
  /** Counts view() calls: the planner must touch only what a change reaches. */
  readonly counter?: { views: number };
}

/** The planner's view of `applied` and `desired` thing values (test/helpers/scheduler-fake-dataplane). */
export function planInput(applied: Map<string, Value>, desired: Map<string, Value>, o: PlanInputOptions = {}): PlanInput {
  const d = thingDescriptor();
  const dependents = new Map<string, Set<string>>();
  for (const m of [applied, desired]) {
    for (const [k, v] of m) {
      for (const dep of d.dependencies(k, v)) {
        if (!dependents.has(dep)) dependents.set(dep, new Set());
        dependents.get(dep)?.add(k);
      }
    }
  }
  return {
    view(key) {
      if (o.counter) o.counter.views++;
      if (!applied.has(key) && !desired.has(key)) return undefined;
      return o.dirty?.has(key) ? { want: desired.get(key), applied: applied.get(key), dirty: true } : { want: desired.get(key), applied: applied.get(key) };
    },
    dependents: (key) => dependents.get(key),
    descriptor: (key) => (key.startsWith(THING_PREFIX) ? d : undefined),
  };
}
