import test from 'ava';
import type { NativeSim } from '../native-sim/index.js';
import { DBResync, Engine, type EventHandler, KubeStateChange, type ResyncOperations, type UpdateOperations } from '../src/index.js';

const LOOPS = 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const loop = (name: string, i: number) => ({ name, type: 'SOFTWARE_LOOPBACK', enabled: true, ipAddresses: [`10.${i}.0.1/24`], vrf: 0 });

/** Puts LOOPS loopbacks on every resync; an update waits for `gate`, then adds one more. */
class GatedHandler implements EventHandler {
  gate: Promise<void> = Promise.resolve();
  toString(): string {
    return 'loops';
  }
  handlesEvent(): boolean {
    return true;
  }
  resync(_e: unknown, _k: unknown, _c: number, txn: ResyncOperations): void {
    for (let i = 0; i < LOOPS; i++) txn.put(`config/vpp/v2/interfaces/loop${i}`, loop(`loop${i}`, i));
  }
  async update(ev: unknown, txn: UpdateOperations): Promise<void> {
    if (!(ev instanceof KubeStateChange)) return;
    await this.gate;
    txn.put('config/vpp/v2/interfaces/extra', loop('extra', 200));
  }
  revert(): void {}
}

async function tags(sim: NativeSim): Promise<string[]> {
  return (await sim.snapshot()).interfaces.map((i) => i.tag).filter(Boolean).sort();
}

async function dumps(sim: NativeSim): Promise<number> {
  return (await sim.counters()).messages['sw_interface_dump'] ?? 0;
}

test('R2 R3 V5: a second restart while the first restart resync is still in the loop (past ackTimeout) is re-aligned too', async (t) => {
  const handler = new GatedHandler();
  const engine = await Engine.start({ handlers: [handler], stack: { connector: { pingInterval: 20 }, orchestrator: { acceptTimeout: 100, ackTimeout: 200 } } });
  t.teardown(() => engine.close());
  const runs: string[] = [];
  engine.stack.orchestrator.onResync((info) => void runs.push(info.outcomes.map((o) => `${o.name}:${o.outcome}`).join(',')));
  engine.controller.pushEvent(new DBResync());
  while ((await tags(engine.sim)).length < LOOPS) await sleep(5);
  let open!: () => void;
  handler.gate = new Promise((r) => (open = r));
  engine.controller.pushEvent(new KubeStateChange({ key: 'x', resource: 'pod', newValue: { a: 1 } }));
  await sleep(20);
  // Restart A: its resync waits behind the gated event, longer than ackTimeout.
  await engine.sim.restart();
  while (runs.length < 1) await sleep(5);
  await engine.sim.setFaults({ latencyMs: 40 });
  const before = await dumps(engine.sim);
  open();
  // Restart B lands after A's resync read the dataplane: only a resync of its own puts it back.
  while ((await dumps(engine.sim)) <= before) await sleep(1);
  await engine.sim.restart();
  while (runs.length < 2) await sleep(5);
  await engine.sim.setFaults({ latencyMs: 0 });
  t.false(runs[1]?.includes('skipped'), `run 2: ${runs[1]}`);
  const deadline = Date.now() + 10_000;
  let nb = await engine.scheduler.dump('', 'nb');
  let sb = await engine.scheduler.dump('', 'sb');
  while (JSON.stringify([...sb]) !== JSON.stringify([...nb]) && Date.now() < deadline) {
    await sleep(50);
    nb = await engine.scheduler.dump('', 'nb');
    sb = await engine.scheduler.dump('', 'sb');
  }
  t.deepEqual(sb, nb);
  t.is(nb.size, LOOPS + 1);
});
