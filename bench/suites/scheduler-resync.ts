// scheduler-resync.*: a full resync of 100,000 route keys (10 % changed) committed through the
// Scheduler, with its offload pool (big plans encoded in worker threads writing producer rings) vs
// the same scheduler inline; wall time and the main thread's max event-loop delay.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { startNativeSim, type NativeSim } from '../../native-sim/index.js';
import type { Value } from '../../src/api/values.js';
import { VppConnector } from '../../src/connector/index.js';
import { ROUTE_PREFIX, routeKey } from '../../src/descriptors/index.js';
import { OffloadPool } from '../../src/offload/index.js';
import { Scheduler } from '../../src/scheduler/index.js';
import { type BenchSuite, type Figure, figure } from '../figure.js';

setFlagsFromString('--expose-gc');
/** Collects the garbage of earlier runs, so a run's lag is its own. */
const collect = runInNewContext('gc') as () => void;

/** Route i; every 10th route gets preference `variant` (an in-place update: one ip_route_add_del). */
function routes(n: number, variant: number): Map<string, Value> {
  const m = new Map<string, Value>();
  for (let i = 0; i < n; i++) {
    const v = { vrfId: 0, dstNetwork: `${10 + (i >>> 16)}.${(i >>> 8) & 255}.${i & 255}.0/24`, nextHopAddr: '192.168.0.1', weight: 1, preference: i % 10 === 0 ? variant : 0 };
    m.set(routeKey(v), v);
  }
  return m;
}

interface Stack {
  readonly sim: NativeSim;
  readonly connector: VppConnector;
  readonly pool: OffloadPool | null;
  readonly s: Scheduler;
  close(): Promise<void>;
}

async function stack(pooled: boolean, inlineThreshold?: number): Promise<Stack> {
  const sim = await startNativeSim({ ringBytes: 1 << 22 });
  const connector = await VppConnector.connect(sim, { replyTimeout: 120_000, pingInterval: 0 });
  const pool = pooled ? await OffloadPool.start({ connector, threads: 2, workers: true, rings: true, ...(inlineThreshold === undefined ? {} : { inlineThreshold }) }) : null;
  const s = new Scheduler({ connector, ...(pool ? { pool } : {}) });
  return {
    sim,
    connector,
    pool,
    s,
    async close() {
      await s.close();
      await pool?.close();
      await connector.close();
      await sim.close();
    },
  };
}

interface Run {
  readonly wall: number;
  readonly lag: number;
}

type Kind = 'full' | 'upstream';

async function timed(st: Stack, values: Map<string, Value>, variant: number, n: number, resync: Kind): Promise<Run> {
  collect();
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  // The histogram's timer must be running before the commit blocks, or the first block is not seen.
  await new Promise((resolve) => setTimeout(resolve, 20));
  const t0 = performance.now();
  const r = await st.s.commit(values, { resync });
  const wall = performance.now() - t0;
  h.disable();
  if (r.error) throw new Error(`${resync} resync: ${r.error.message}`);
  // Verify inside the benchmark: every changed route was updated in place (one op each), nothing else.
  const rec = st.s.getRecordedTransaction(r.seqNum);
  const want = Math.ceil(n / 10);
  if (rec?.executed.length !== want) throw new Error(`${resync} resync: ${rec?.executed.length} ops executed, want ${want}`);
  return { wall, lag: h.max / 1e6 };
}

/** The dataplane as the scheduler reads it (sb): n routes, n/10 of them with preference `variant`. */
async function verify(st: Stack, n: number, variant: number): Promise<void> {
  const sb = await st.s.dump(ROUTE_PREFIX, 'sb');
  let changed = 0;
  for (const v of sb.values()) if ((v as { preference?: number }).preference === variant) changed++;
  if (sb.size !== n || changed !== Math.ceil(n / 10)) throw new Error(`sb dump: ${sb.size} routes (want ${n}), ${changed} with preference ${variant} (want ${Math.ceil(n / 10)})`);
}

async function measure(n: number, reps: number, resync: Kind): Promise<{ pool: Run; inline: Run }> {
  const a = routes(n, 0);
  const b = routes(n, 7);
  const stacks = [await stack(true), await stack(false)] as const;
  try {
    for (const st of stacks) {
      const init = await st.s.commit(a, { resync: 'full' });
      if (init.error) throw new Error(`initial resync: ${init.error.message}`);
    }
    let best: { pool: Run; inline: Run } | null = null;
    // One warm-up round trip, then alternate stacks so both see the same states.
    for (let i = -1; i < reps; i++) {
      const runs: Run[] = [];
      for (const st of stacks) {
        runs.push(await timed(st, b, 7, n, resync));
        if (i === reps - 1) await verify(st, n, 7);
        await timed(st, a, 0, n, resync);
      }
      if (i < 0) continue;
      const [pl, inl] = runs as [Run, Run];
      best = best ? { pool: pl.wall < best.pool.wall ? pl : best.pool, inline: inl.wall < best.inline.wall ? inl : best.inline } : { pool: pl, inline: inl };
    }
    return best as { pool: Run; inline: Run };
  } finally {
    for (const st of stacks) await st.close();
  }
}

/**
 * A plain commit of n new routes, then one removing them: the plan is all execution (no O(state)
 * resync work), the pool forced on (threshold 0) vs inline; best of `reps`, wall ms of both commits.
 */
async function churn(n: number, reps: number): Promise<{ pool: number; inline: number }> {
  const put = routes(n, 0);
  const del = new Map<string, Value | null>([...put.keys()].map((k) => [k, null]));
  const stacks = [await stack(true, 0), await stack(false)] as const;
  try {
    const best = [Infinity, Infinity];
    for (let i = -1; i < reps; i++) {
      for (let s = 0; s < 2; s++) {
        const st = stacks[s] as Stack;
        collect();
        const t0 = performance.now();
        const a = await st.s.commit(put, {});
        const b = await st.s.commit(del, {});
        const wall = performance.now() - t0;
        const ra = st.s.getRecordedTransaction(a.seqNum);
        const rb = st.s.getRecordedTransaction(b.seqNum);
        if (a.error || b.error || ra?.executed.length !== n || rb?.executed.length !== n) throw new Error(`churn ${n}: ${a.error?.message ?? b.error?.message ?? 'wrong op count'}`);
        if (i >= 0) best[s] = Math.min(best[s] as number, wall);
      }
    }
    const left = (await stacks[0].sim.snapshot()).routes.filter((r) => r.prefix.startsWith('10.')).length;
    if (left !== 0) throw new Error(`churn ${n}: ${left} routes left on the dataplane`);
    return { pool: best[0] as number, inline: best[1] as number };
  } finally {
    for (const st of stacks) await st.close();
  }
}

export const suite: BenchSuite = {
  name: 'scheduler-resync',
  async run({ quick }) {
    const out: Record<string, Figure> = {};
    // Crossover through the scheduler: the smallest plan from which the pool is not slower.
    const sizes = quick ? [1_000, 3_000] : [300, 1_000, 3_000, 10_000, 30_000];
    let crossover = Infinity;
    for (let k = sizes.length - 1; k >= 0; k--) {
      const c = sizes[k] as number;
      const m = await churn(c, quick ? 1 : 3);
      process.stderr.write(`  churn ${c} routes: pool ${m.pool.toFixed(0)} ms, inline ${m.inline.toFixed(0)} ms\n`);
      out[`scheduler-resync.churn.${c}.wall`] = figure(m.pool, m.inline, 'ms');
      if (m.pool > m.inline) break;
      crossover = c;
    }
    out['scheduler-resync.crossover'] = figure(crossover, null, 'ops');
    const n = quick ? 10_000 : 100_000;
    const id = quick ? '10k' : '100k';
    for (const resync of ['full', 'upstream'] as const) {
      const m = await measure(n, quick ? 1 : 2, resync);
      process.stderr.write(`  ${n} keys, ${resync}: pool ${m.pool.wall.toFixed(0)} ms (lag ${m.pool.lag.toFixed(1)}), inline ${m.inline.wall.toFixed(0)} ms (lag ${m.inline.lag.toFixed(1)})\n`);
      out[`scheduler-resync.${id}.${resync}.wall`] = figure(m.pool.wall, m.inline.wall, 'ms');
      out[`scheduler-resync.${id}.${resync}.lag`] = figure(m.pool.lag, m.inline.lag, 'ms');
    }
    return out;
  },
};
