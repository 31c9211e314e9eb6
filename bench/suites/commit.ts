// Single-key update commits through Scheduler -> VppConnector -> native-sim and back:
// latency p50/p99, how it scales from 1,000 to 1,000,000 applied keys, and the memory those keys take.
// The 1,000,000 keys are routes committed through the real stack (in chunks), so they are applied
// on the simulated dataplane too; RSS growth therefore counts the scheduler AND the sim's copy.
// The scheduler's own share is measured first, on a scheduler whose client answers every request
// at once in-process (no sim, no rings): the same records, nothing else.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Bench } from 'tinybench';
import { type BenchSuite, type Figure, figure, median } from '../figure.js';
import { InstantClient } from '../route-updates.js';
import { startNativeSim, type NativeSim } from '../../native-sim/index.js';
import { VppConnector } from '../../src/connector/index.js';
import { Scheduler } from '../../src/scheduler/index.js';
import { interfaceKey, routeKey } from '../../src/descriptors/index.js';
import type { Value } from '../../src/api/values.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function rssMB(): number {
  gc();
  gc();
  return process.memoryUsage().rss / 1024 / 1024;
}

function route(i: number): [string, Value] {
  const dst = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`;
  const v = { vrfId: 0, dstNetwork: dst, nextHopAddr: '192.168.0.1', weight: 1, preference: 0 };
  return [routeKey(v), v];
}

async function populate(s: Scheduler, from: number, to: number, chunk = 20_000): Promise<void> {
  for (let start = from; start < to; start += chunk) {
    const m = new Map<string, Value>();
    for (let i = start; i < Math.min(to, start + chunk); i++) {
      const [k, v] = route(i);
      m.set(k, v);
    }
    const r = await s.commit(m, { description: 'populate' });
    if (r.error) throw new Error(`populate failed: ${r.error.message}`);
  }
}

/** p50/p99 (µs) of an async operation, measured by tinybench after a warm-up. */
async function latency(name: string, quick: boolean, fn: () => Promise<void>, ms = quick ? 300 : 3000): Promise<{ p50: number; p99: number }> {
  const bench = new Bench({ time: ms, iterations: ms, warmupTime: quick ? 100 : 500, warmupIterations: 300 });
  bench.add(name, fn);
  await bench.run();
  const res = bench.tasks[0]?.result as { latency?: { p50: number; p99: number } } | undefined;
  if (!res?.latency) throw new Error(`benchmark ${name} failed: ${JSON.stringify(bench.tasks[0]?.result)}`);
  return { p50: res.latency.p50 * 1000, p99: res.latency.p99 * 1000 };
}

const BENCH_IF = interfaceKey('bench0');
const benchIf = (enabled: boolean): Map<string, Value> =>
  new Map([[BENCH_IF, { name: 'bench0', type: 'SOFTWARE_LOOPBACK', enabled, ipAddresses: ['10.255.0.1/24'], vrf: 0 }]]);

/** Single-key updates: the interface's admin state toggled, one binary-API request each. */
async function measureUpdates(s: Scheduler, quick: boolean, ms?: number): Promise<{ p50: number; p99: number }> {
  const up = benchIf(true);
  const down = benchIf(false);
  let flip = false;
  const r = await latency(
    'single-key update',
    quick,
    async () => {
      flip = !flip;
      const res = await s.commit(flip ? down : up, {});
      // Verified inside the benchmark: the update ran and succeeded.
      if (res.error) throw res.error;
    },
    ms,
  );
  if (s.getStatus(BENCH_IF)?.state !== 'configured') throw new Error('bench interface is not configured');
  return r;
}

/** Baseline, same run: the same request sent straight through the connector (no scheduler). */
async function measureRaw(connector: VppConnector, swIfIndex: number, quick: boolean): Promise<{ p50: number; p99: number }> {
  let flip = 0;
  return latency('raw requestBatch', quick, async () => {
    flip ^= 1;
    const [reply] = await connector.requestBatch([{ name: 'sw_interface_set_flags', fields: { sw_if_index: swIfIndex, flags: flip } }]);
    if (reply instanceof Error) throw reply;
  });
}

/**
 * Heap growth (MB, after GC) of a scheduler holding `n` applied routes, over an instant in-process
 * client. Heap, not RSS: it runs after the whole-stack figure, whose freed pages RSS would hide.
 */
async function schedulerOnlyMemory(n: number): Promise<number> {
  const instant = new InstantClient();
  rssMB(); // collects garbage
  const before = process.memoryUsage().heapUsed;
  const s = new Scheduler({ connector: instant, historySize: 100 });
  await populate(s, 0, n);
  const applied = (await s.dump('config/vpp/v2/route/', 'cached')).size;
  if (applied !== n) throw new Error(`expected ${n} applied routes, found ${applied}`);
  rssMB();
  const grown = (process.memoryUsage().heapUsed - before) / 1024 / 1024;
  await s.close();
  return grown;
}

interface Stack {
  readonly sim: NativeSim;
  readonly connector: VppConnector;
  readonly s: Scheduler;
  close(): Promise<void>;
}

/** native-sim + connector + scheduler with the bench interface and 1,000 routes applied. */
async function startStack(): Promise<Stack> {
  const sim = await startNativeSim({ seed: 1 });
  const connector = await VppConnector.connect(sim, { replyTimeout: 60_000 });
  const s = new Scheduler({ connector, historySize: 100 });
  await s.commit(benchIf(true), {});
  await populate(s, 0, 1000);
  return {
    sim,
    connector,
    s,
    async close() {
      await s.close();
      await connector.close();
      await sim.close();
    },
  };
}

/**
 * update.scale: single-key p50 on `big` (10⁶ keys applied) over p50 on a second stack with 10³,
 * measured in alternating rounds (medians), so the machine's speed, which drifts by up to 2× over
 * minutes here, moves both sides alike.
 */
async function scaleRatio(big: Stack, quick: boolean): Promise<{ large: number; small: number }> {
  const small = await startStack();
  try {
    const rounds = quick ? 2 : 6;
    const ms = quick ? 200 : 800;
    const l: number[] = [];
    const sm: number[] = [];
    for (let r = 0; r < rounds; r++) {
      sm.push((await measureUpdates(small.s, quick, ms)).p50);
      l.push((await measureUpdates(big.s, quick, ms)).p50);
    }
    process.stderr.write(`  update.scale rounds (µs p50): 1k ${sm.map((x) => x.toFixed(1)).join(' ')}; big ${l.map((x) => x.toFixed(1)).join(' ')}\n`);
    return { large: median(l), small: median(sm) };
  } finally {
    await small.close();
  }
}

export const suite: BenchSuite = {
  name: 'commit',
  async run({ quick }) {
    const big = quick ? 100_000 : 1_000_000;
    const tagBig = quick ? '100k' : '1m';
    const stack = await startStack();
    const { sim, connector, s } = stack;
    const out: Record<string, Figure> = {};
    try {
      const ifs = await connector.dump('sw_interface_dump', {});
      const sw = ifs.find((d) => d.tag === 'bench0')?.sw_if_index;
      if (typeof sw !== 'number') throw new Error('bench interface not found on the dataplane');
      const raw = await measureRaw(connector, sw, quick);
      const small = await measureUpdates(s, quick);
      out['commit.latency.p50'] = figure(small.p50, raw.p50, 'µs', '<= 30 (baseline: bare connector round trip)', small.p50 <= 30);
      out['commit.latency.p99'] = figure(small.p99, raw.p99, 'µs', '<= 300 (baseline: bare connector round trip)', small.p99 <= 300);

      const simBefore = await sim.heapUsage(true);
      const rssBefore = rssMB();
      const heapBefore = process.memoryUsage().heapUsed;
      const t0 = performance.now();
      await populate(s, 1000, big + 1000);
      const populateS = (performance.now() - t0) / 1000;
      // First as before (only this isolate collected), then with the sim isolate's garbage gone too:
      // decoded messages left in the sim thread are not state, but RSS counts them until its GC runs.
      const grownNoSimGc = rssMB() - rssBefore;
      const simAfter = await sim.heapUsage(true);
      const grown = rssMB() - rssBefore;
      const heapGrown = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024;
      const applied = (await s.dump('config/vpp/v2/route/', 'cached')).size;
      if (applied !== big + 1000) throw new Error(`expected ${big + 1000} applied routes, found ${applied}`);
      process.stderr.write(`commit: populated ${big} routes through the sim in ${populateS.toFixed(1)} s\n`);

      const scale = await scaleRatio(stack, quick);
      const tag = tagBig;
      out['update.scale'] = figure(scale.large, scale.small, 'µs p50', `<= 1.5 (${tag} vs 1k applied, alternating rounds)`, scale.large / scale.small <= 1.5);
      out[`memory.${tag}`] = figure(grown, null, 'MB RSS', quick ? 'for the record (scheduler + sim)' : '<= 600 (scheduler + sim)', quick ? undefined : grown <= 600);
      out[`memory.${tag}.heap`] = figure(heapGrown, null, 'MB heap', 'for the record: main-thread heap (scheduler + connector)');
      out[`memory.${tag}.nosimgc`] = figure(grownNoSimGc, null, 'MB RSS', 'for the record: RSS growth before the sim isolate is collected');
      out[`memory.${tag}.sim`] = figure((simAfter.live - simBefore.live) / 1024 / 1024, null, 'MB heap', 'for the record: live sim-isolate heap growth (its state)');
      out[`memory.${tag}.sim.garbage`] = figure((simAfter.used - simAfter.live) / 1024 / 1024, null, 'MB heap', 'for the record: sim-isolate garbage its GC had not yet reclaimed');
    } finally {
      await stack.close();
    }
    const schedulerMB = await schedulerOnlyMemory(big);
    out[`memory.${tagBig}.scheduler`] = figure(schedulerMB, null, 'MB heap', quick ? 'for the record' : '<= 600 (scheduler alone)', quick ? undefined : schedulerMB <= 600);
    return out;
  },
};
