// The embedded stack a flood runs against by default: the engine's default stack (native-sim in its
// own thread + VppConnector + Scheduler + resync orchestrator, dataplane restarts re-aligned through
// the controller's loop) under a Controller; or, with `dataplane: 'inline'`, the simulated VPP's
// engine called in this thread under a Scheduler and a Controller.
import { HealingResync, HealingResyncType, type KVScheduler } from '../api/index.js';
import { Controller } from '../controller/index.js';
import { startDefaultStack } from '../engine/index.js';
import { Scheduler, type BinapiClient } from '../scheduler/index.js';
import { InlineDataplane } from './inline-dataplane.js';
import type { FloodStack, FloodStackInit } from './stack.js';

interface Dataplane {
  readonly client: BinapiClient;
  setFaults(errorRate: number, seed: number): Promise<void>;
  restart(): Promise<void>;
  stats(): Promise<Record<string, unknown>>;
}

function inlineDataplane(seed: number): Dataplane {
  const dp = new InlineDataplane(seed);
  return {
    client: dp,
    setFaults: (errorRate, s) => Promise.resolve(dp.engine.setFaults({ errorRate, seed: s }, Date.now())),
    restart: () => Promise.resolve(dp.restart()),
    stats: () => Promise.resolve({ sim: dp.engine.counters() }),
  };
}

export async function createFloodStack(init: FloodStackInit): Promise<FloodStack> {
  return init.dataplane === 'inline' ? inlineStack(init) : threadStack(init);
}

async function threadStack(init: FloodStackInit): Promise<FloodStack> {
  const stack = await startDefaultStack({ sim: { seed: init.seed } });
  let controller: Controller;
  try {
    controller = new Controller({ handlers: init.handlers, scheduler: init.wrapScheduler(stack.scheduler), config: init.controllerConfig, statusCheck: init.statusCheck });
  } catch (err) {
    await stack.close();
    throw err;
  }
  stack.attach(controller);
  return {
    controller,
    dump: (view) => stack.scheduler.dump('', view),
    setFaults: (errorRate, seed) => stack.sim.setFaults({ errorRate, seed }),
    async restart() {
      await stack.sim.restart();
      await stack.connector.ping();
    },
    async stats() {
      return { sim: await stack.sim.counters(), connector: stack.connector.stats() };
    },
    async close() {
      await controller.close();
      await stack.close();
    },
  };
}

async function inlineStack(init: FloodStackInit): Promise<FloodStack> {
  const dataplane = inlineDataplane(init.seed);
  const scheduler = new Scheduler({ connector: dataplane.client });
  let controller: Controller;
  try {
    const committed: KVScheduler = init.wrapScheduler(scheduler);
    controller = new Controller({ handlers: init.handlers, scheduler: committed, config: init.controllerConfig, statusCheck: init.statusCheck });
  } catch (err) {
    await scheduler.close();
    throw err;
  }
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
    dump: (view) => scheduler.dump('', view),
    setFaults: (errorRate, seed) => dataplane.setFaults(errorRate, seed),
    restart: () => dataplane.restart(),
    stats: () => dataplane.stats(),
    async close() {
      closed = true;
      stopRestartWatch();
      await controller.close();
      await scheduler.close();
    },
  };
}
