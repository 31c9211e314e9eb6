// The embedded stack a flood runs against by default: native-sim (its own thread) + VppConnector +
// Scheduler with the built-in descriptors + Controller; or, with `dataplane: 'inline'`, the
// simulated VPP's engine called in this thread. A dataplane restart is answered with a downstream
// healing resync through the controller's loop.
import { HealingResync, HealingResyncType, type KVScheduler } from '../api/index.js';
import { VppConnector } from '../connector/index.js';
import { Controller } from '../controller/index.js';
import { Scheduler, type BinapiClient } from '../scheduler/index.js';
import { startNativeSim, type NativeSim } from '../../native-sim/index.js';
import { InlineDataplane } from './inline-dataplane.js';
import type { FloodStack, FloodStackInit } from './stack.js';

interface Dataplane {
  readonly client: BinapiClient;
  setFaults(errorRate: number, seed: number): Promise<void>;
  restart(): Promise<void>;
  stats(): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

async function threadDataplane(seed: number): Promise<Dataplane> {
  const sim: NativeSim = await startNativeSim({ seed });
  let connector: VppConnector;
  try {
    connector = await VppConnector.connect(sim);
  } catch (err) {
    await sim.close();
    throw err;
  }
  return {
    client: connector,
    setFaults: (errorRate, s) => sim.setFaults({ errorRate, seed: s }),
    async restart() {
      await sim.restart();
      await connector.ping();
    },
    async stats() {
      return { sim: await sim.counters(), connector: connector.stats() };
    },
    async close() {
      await connector.close();
      await sim.close();
    },
  };
}

function inlineDataplane(seed: number): Dataplane {
  const dp = new InlineDataplane(seed);
  return {
    client: dp,
    setFaults: (errorRate, s) => Promise.resolve(dp.engine.setFaults({ errorRate, seed: s }, Date.now())),
    restart: () => Promise.resolve(dp.restart()),
    stats: () => Promise.resolve({ sim: dp.engine.counters() }),
    close: () => Promise.resolve(),
  };
}

export async function createDefaultStack(init: FloodStackInit): Promise<FloodStack> {
  const dataplane = init.dataplane === 'inline' ? inlineDataplane(init.seed) : await threadDataplane(init.seed);
  let scheduler: Scheduler | undefined;
  try {
    scheduler = new Scheduler({ connector: dataplane.client });
    const sched = scheduler;
    const committed: KVScheduler = init.wrapScheduler(sched);
    const controller = new Controller({ handlers: init.handlers, scheduler: committed, config: init.controllerConfig });
    let closed = false;
    const stopRestartWatch = dataplane.client.onRestart(() => {
      if (closed) return;
      try {
        controller.pushEvent(new HealingResync(HealingResyncType.Periodic));
      } catch {
        // Queue full or closing: the after-error healing of the failed operations covers it.
      }
    });
    return {
      controller,
      dump: (view) => sched.dump('', view),
      setFaults: (errorRate, seed) => dataplane.setFaults(errorRate, seed),
      restart: () => dataplane.restart(),
      stats: () => dataplane.stats(),
      async close() {
        closed = true;
        stopRestartWatch();
        await controller.close();
        await sched.close();
        await dataplane.close();
      },
    };
  } catch (err) {
    await scheduler?.close();
    await dataplane.close();
    throw err;
  }
}
