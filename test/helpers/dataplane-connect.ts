// Starts a real native-sim thread and a connector on it; closes both after the test.
import type { ExecutionContext } from 'ava';
import { type NativeSim, type NativeSimOptions, startNativeSim } from '../../native-sim/index.js';
import { type ConnectorOptions, type ConnectorState, VppConnector } from '../../src/connector/index.js';

export async function connected(
  t: ExecutionContext,
  simOptions: NativeSimOptions = {},
  options: ConnectorOptions = {},
): Promise<{ sim: NativeSim; c: VppConnector }> {
  const sim = await startNativeSim(simOptions);
  t.teardown(() => sim.close());
  const c = await VppConnector.connect(sim, { pingInterval: 0, ...options });
  t.teardown(() => c.close());
  return { sim, c };
}

/** Resolves at the next transition of the connector into `state`. */
export function nextState(c: VppConnector, state: ConnectorState): Promise<void> {
  return new Promise((resolve) => {
    const off = c.onStateChange((s) => {
      if (s === state) {
        off();
        resolve();
      }
    });
  });
}
