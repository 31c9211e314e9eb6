// A wave of thousands of requests goes out in slices (256 requests) with the event loop
// running between them; replies must still land on their own ops. Real native-sim, no pool.
import test from 'ava';
import type { Value } from '../src/api/values.js';
import { startNativeSim } from '../native-sim/index.js';
import { VppConnector } from '../src/connector/index.js';
import { ROUTE_PREFIX, routeKey } from '../src/descriptors/index.js';
import { Scheduler } from '../src/scheduler/index.js';
import { YIELD_CHUNK } from '../src/scheduler/loop-yield.js';

const N = 3 * YIELD_CHUNK + 100;

function routes(preference: number): Map<string, Value> {
  const m = new Map<string, Value>();
  for (let i = 0; i < N; i++) {
    const v = { vrfId: 0, dstNetwork: `10.${(i >>> 8) & 255}.${i & 255}.0/24`, nextHopAddr: '192.168.0.1', weight: 1, preference };
    m.set(routeKey(v), v);
  }
  return m;
}

async function stack(t: import('ava').ExecutionContext) {
  const sim = await startNativeSim();
  const connector = await VppConnector.connect(sim, { pingInterval: 0, replyTimeout: 60_000 });
  const s = new Scheduler({ connector });
  t.teardown(async () => {
    await s.close();
    await connector.close();
    await sim.close();
  });
  return { sim, s };
}

test('S1 S5: a wave of several slices with injected errors: every reply lands on its own key, the event loop runs in between', async (t) => {
  const { sim, s } = await stack(t);
  await sim.setFaults({ errorRate: 0.2, messages: ['ip_route_add_del'], seed: 7 });
  // Event-loop turns while the commit runs: slices of the plan and of the wave let them through.
  let turns = 0;
  let running = true;
  const tick = (): void => {
    turns++;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  const r = await s.commit(routes(0), {});
  running = false;
  t.not(r.error, null, 'some creates failed');
  const failed = new Set(r.error?.kvErrors.map((e) => e.key));
  t.true(failed.size > N / 10 && failed.size < N / 3, `${failed.size} of ${N} failed (error rate 0.2)`);
  t.true(turns > 3, `${turns} event-loop turns during the commit`);
  // The dataplane holds exactly the routes the scheduler reports configured.
  const onSim = new Set((await sim.snapshot()).routes.filter((x) => x.prefix.startsWith('10.')).map((x) => x.prefix));
  let configured = 0;
  for (const [key, v] of routes(0)) {
    const state = s.getStatus(key)?.state;
    const prefix = (v as { dstNetwork: string }).dstNetwork;
    if (failed.has(key)) {
      t.not(state, 'configured', key);
      t.false(onSim.has(prefix), `${key} failed but is on the dataplane`);
    } else {
      t.is(state, 'configured', key);
      t.true(onSim.has(prefix), `${key} configured but not on the dataplane`);
      configured++;
    }
  }
  t.is(configured + failed.size, N);
  // Healed: a full resync without faults converges, and the sb dump equals the desired state.
  await sim.setFaults({ errorRate: 0 });
  const heal = await s.commit(routes(0), { resync: 'full' });
  t.is(heal.error, null, String(heal.error?.message));
  const sorted = (m: ReadonlyMap<string, Value>): Array<[string, Value]> => [...m].sort(([a], [b]) => (a < b ? -1 : 1));
  const sb = await s.dump(ROUTE_PREFIX, 'sb');
  t.is(sb.size, N);
  t.deepEqual(sorted(sb), sorted(await s.dump(ROUTE_PREFIX, 'nb')));
});
