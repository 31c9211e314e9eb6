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
