// The main thread's cost per update event without the transport: controller, 3 handlers putting 5
// route keys each, scheduler, route descriptors, over a client double that answers every request
// at once in-process (no rings, no sim thread, no encoding). It is the part of e2e.events that the
// controller and the scheduler own; CPU time per event is reported (the machines are shared, so
// wall-clock rates of this process alone would be noisier), beside the controller alone (the same
// events and handlers committed to a scheduler that does nothing) as the baseline.
import { DBResync, type KVScheduler } from '../../src/api/index.js';
import { Controller } from '../../src/controller/index.js';
import { Scheduler } from '../../src/scheduler/index.js';
import { CountedUpdate, UpdateBatch } from '../counted-update.js';
import { NoopScheduler } from '../noop-scheduler.js';
import { HANDLERS, InstantClient, KEYS, SLOTS, routeUpdateHandlers } from '../route-updates.js';
import { figure, median, type BenchSuite } from '../figure.js';

/** CPU µs per event (median of `rounds` batches of `n`) through a controller over `scheduler`. */
async function measure(scheduler: KVScheduler, n: number, rounds: number, check: (n: number) => void): Promise<number> {
  const batch = new UpdateBatch();
  const controller = new Controller({ handlers: routeUpdateHandlers(), scheduler, config: { eventQueueSize: 100_000 } });
  await controller.start();
  try {
    const resync = new DBResync();
    await new Promise<void>((resolve) => {
      resync.done = () => resolve();
      controller.pushEvent(resync);
    });
    let id = 0;
    const run = async (count: number): Promise<void> => {
      const finished = batch.expect(count);
      for (let i = 0; i < count; i++) controller.pushEvent(new CountedUpdate(id++, batch, 'Route Update'));
      await finished;
      if (batch.errors > 0) throw new Error(`schedcpu: ${batch.errors} events failed: ${batch.firstError?.message}`);
      check(count);
    };
    // Warm-up: every slot of every handler is created, then re-created with the other preference.
    await run(Math.max(n, Math.ceil((2 * SLOTS) / KEYS)));
    const perEvent: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const c0 = process.cpuUsage();
      await run(n);
      const c = process.cpuUsage(c0);
      perEvent.push((c.user + c.system) / n);
    }
    return median(perEvent);
  } finally {
    await controller.close();
  }
}

export const suite: BenchSuite = {
  name: 'schedcpu',
  async run({ quick }) {
    const n = quick ? 1000 : 5000;
    const rounds = quick ? 3 : 7;
    const client = new InstantClient();
    const scheduler = new Scheduler({ connector: client });
    const full = await measure(scheduler, n, rounds, (count) => {
      // Past the warm-up every put changes its route's preference: at least one request per key.
      if (client.sent < count * HANDLERS * KEYS) throw new Error(`schedcpu: ${client.sent} requests for ${count} events`);
      client.sent = 0;
    });
    await scheduler.close();
    const noop = new NoopScheduler();
    const loop = await measure(noop, n, rounds, (count) => {
      if (noop.keys !== count * HANDLERS * KEYS) throw new Error(`schedcpu: ${noop.keys} keys committed for ${count} events`);
      noop.keys = 0;
    });
    process.stderr.write(`  controller + scheduler + descriptors ${full.toFixed(1)} µs CPU per event; controller alone ${loop.toFixed(1)} µs\n`);
    return {
      'schedcpu.event-cpu': figure(full, loop, 'µs CPU/event', 'for the record: value = with the scheduler over an instant client, baseline = controller alone'),
    };
  },
};
