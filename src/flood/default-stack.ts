// The embedded stack a flood runs against by default: native-sim (own thread) + VppConnector +
// Scheduler with the built-in descriptors + Controller. A dataplane restart is answered with a
// downstream healing resync through the controller's loop.
import { HealingResync, HealingResyncType } from '../api/index.js';
import { VppConnector } from '../connector/index.js';
import { Controller } from '../controller/index.js';
import { Scheduler } from '../scheduler/index.js';
import { startNativeSim } from '../../native-sim/index.js';
import type { FloodStack, FloodStackInit } from './stack.js';

export async function createDefaultStack(init: FloodStackInit): Promise<FloodStack> {
  const sim = await startNativeSim({ seed: init.seed });
  let connector: VppConnector | undefined;
  let scheduler: Scheduler | undefined;
  try {
    connector = await VppConnector.connect(sim);
    scheduler = new Scheduler({ connector });
    const controller = new Controller({
      handlers: init.handlers,
      scheduler: init.wrapScheduler(scheduler),
      config: init.controllerConfig,
    });
    const conn = connector;
    const sched = scheduler;
    let closed = false;
    const stopRestartWatch = conn.onRestart(() => {
      if (closed) return;
      try {
        controller.pushEvent(new HealingResync(HealingResyncType.Periodic));
      } catch {
        // Queue full or closing: the after-error healing the failed operations schedule covers it.
      }
    });
    return {
      controller,
      dump: (view) => sched.dump('', view),
      setFaults: (errorRate, seed) => sim.setFaults({ errorRate, seed }),
      async restart() {
        await sim.restart();
        await conn.ping();
      },
      async stats() {
        return { sim: await sim.counters(), connector: conn.stats() };
      },
      async close() {
        closed = true;
        stopRestartWatch();
        await controller.close();
        await sched.close();
        await conn.close();
        await sim.close();
      },
    };
  } catch (err) {
    await scheduler?.close();
    await connector?.close();
    await sim.close();
    throw err;
  }
}
