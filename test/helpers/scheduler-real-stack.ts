// The real stack for descriptor and invariant tests: native-sim + VppConnector + Scheduler.
import type { ExecutionContext } from 'ava';
import { startNativeSim, type NativeSim } from '../../native-sim/index.js';
import { VppConnector } from '../../src/connector/index.js';
import { Scheduler } from '../../src/scheduler/index.js';

export interface RealStack {
  readonly sim: NativeSim;
  readonly connector: VppConnector;
  readonly s: Scheduler;
}

export async function realStack(t: ExecutionContext, seed = 1, replyTimeout = 2000): Promise<RealStack> {
  const sim = await startNativeSim({ seed });
  const connector = await VppConnector.connect(sim, { replyTimeout });
  const s = new Scheduler({ connector });
  t.teardown(async () => {
    await s.close();
    await connector.close();
    await sim.close();
  });
  return { sim, connector, s };
}

/** A dump as a plain object with sorted keys, so two views compare regardless of order. */
export function sorted(m: ReadonlyMap<string, unknown>): Record<string, unknown> {
  return Object.fromEntries([...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Asserts that the dataplane (sb) equals the desired state (nb), whatever the order. */
export async function inSync(t: ExecutionContext, s: Scheduler, prefix = ''): Promise<void> {
  t.deepEqual(sorted(await s.dump(prefix, 'sb')), sorted(await s.dump(prefix, 'nb')));
}
