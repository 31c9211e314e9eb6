// Builds a Scheduler over the fake dataplane test double (see scheduler-fake-dataplane.ts).
import { Scheduler } from '../../src/scheduler/index.js';
import type { Value } from '../../src/api/values.js';
import { FakeDataplane, THING_PREFIX, thingDescriptor } from './scheduler-fake-dataplane.js';

export function fakeScheduler(historySize?: number): { dp: FakeDataplane; s: Scheduler } {
  const dp = new FakeDataplane();
  const s = new Scheduler({ connector: dp, descriptors: [thingDescriptor()], ...(historySize ? { historySize } : {}) });
  return { dp, s };
}

export function kv(entries: Record<string, Value | null>): Map<string, Value | null> {
  return new Map(Object.entries(entries).map(([k, v]) => [THING_PREFIX + k, v]));
}

export const T = (name: string): string => THING_PREFIX + name;
