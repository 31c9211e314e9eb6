// resync.1m.wall / resync.1m.lag: a full resync (10 % of the values changed) through the offload
// pool vs the same work inline on the main thread, both from the same snapshot bytes to native-sim.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { startNativeSim } from '../../native-sim/index.js';
import { VppConnector } from '../../src/connector/index.js';
import { routeKey } from '../../src/descriptors/index.js';
import { OffloadPool, StateSnapshot, type SyncMode, type SyncResult } from '../../src/offload/index.js';
import { type BenchSuite, type Figure, figure } from '../figure.js';

const SHARDS = 8;

setFlagsFromString('--expose-gc');
/** Collects the garbage of building the snapshots, so a run's lag is its own. */
const collect = runInNewContext('gc') as () => void;

/** Route i; `variant` changes the preference of every 10th route (an in-place multipath update). */
function routes(n: number, variant: number): StateSnapshot {
  function* gen(): Generator<[string, Record<string, unknown>]> {
    for (let i = 0; i < n; i++) {
      const v = {
        vrfId: 0,
        dstNetwork: `${10 + (i >>> 16)}.${(i >>> 8) & 255}.${i & 255}.0/24`,
        nextHopAddr: '192.168.0.1',
        weight: 1,
        preference: i % 10 === 0 ? variant : 0,
      };
      yield [routeKey(v), v];
    }
  }
  return StateSnapshot.fromEntries(gen(), SHARDS);
}

interface Run {
  readonly wall: number;
  readonly lag: number;
  /** The diff phase of `wall` (the rest is the wave through native-sim). */
  readonly diff: number;
}

async function timed(pool: OffloadPool, from: StateSnapshot, to: StateSnapshot, mode: SyncMode, n: number): Promise<Run> {
  collect();
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const t0 = performance.now();
  const r: SyncResult = await pool.sync(to, from, { mode });
  const wall = performance.now() - t0;
  h.disable();
  // Verify inside the benchmark: every changed route was updated in place (one op each), nothing failed.
  const want = Math.ceil(n / 10);
  if (r.errors.length > 0 || r.ops !== want) throw new Error(`resync ${mode}: ${r.ops} ops (want ${want}), ${r.errors.length} errors: ${r.errors[0]?.error.message}`);
  return { wall, lag: h.max / 1e6, diff: r.diffMs };
}

async function measure(n: number, reps: number): Promise<{ pool: Run; inline: Run }> {
  const sim = await startNativeSim({ ringBytes: 1 << 22 });
  const connector = await VppConnector.connect(sim, { replyTimeout: 60_000, pingInterval: 0 });
  const pool = await OffloadPool.start({ connector, threads: 2, workers: true, rings: true });
  try {
    const a = routes(n, 0);
    const b = routes(n, 7);
    const init = await pool.sync(a, StateSnapshot.empty(SHARDS), { mode: 'pool' });
    if (init.errors.length > 0) throw new Error(`initial sync: ${init.errors[0]?.error.message}`);
    // Warm-up, then alternate directions and modes so both see the same states.
    await timed(pool, a, b, 'inline', n);
    await timed(pool, b, a, 'pool', n);
    let best: { pool: Run; inline: Run } | null = null;
    for (let i = 0; i < reps; i++) {
      const inl = await timed(pool, a, b, 'inline', n);
      const pl = await timed(pool, b, a, 'pool', n);
      if (!best) best = { pool: pl, inline: inl };
      else best = { pool: pl.wall < best.pool.wall ? pl : best.pool, inline: inl.wall < best.inline.wall ? inl : best.inline };
    }
    return best as { pool: Run; inline: Run };
  } finally {
    await pool.close();
    await connector.close();
    await sim.close();
  }
}

export const suite: BenchSuite = {
  name: 'resync',
  async run({ quick }) {
    const out: Record<string, Figure> = {};
    // Crossover: the smallest size from which the pool is never slower than inline (keys in the
    // snapshot; the default inlineThreshold is this figure, rounded). "Slower" means by more than
    // 5 %: two runs of the same size differ by that much on this machine. Sizes above the largest
    // tried are covered by the 10⁵/10⁶ runs below, where the pool always won.
    const small = quick ? [100, 1_000] : [1_000, 3_000, 10_000, 30_000, 100_000];
    let crossover = Infinity;
    for (let k = small.length - 1; k >= 0; k--) {
      const n = small[k] as number;
      const m = await measure(n, 3);
      process.stderr.write(`  ${n} keys: pool ${m.pool.wall.toFixed(1)} ms, inline ${m.inline.wall.toFixed(1)} ms\n`);
      out[`resync.scale.${n}.wall`] = figure(m.pool.wall, m.inline.wall, 'ms');
      if (m.pool.wall > 1.05 * m.inline.wall) break;
      crossover = n;
    }
    out['resync.crossover'] = figure(crossover, null, 'keys');
    const sizes = quick ? [10_000] : [10_000, 100_000, 1_000_000];
    for (const n of sizes) {
      // Three alternating pairs at every size: one pair at 10⁶ keys put a minute's drift into the ratio.
      const reps = 3;
      const m = await measure(n, reps);
      process.stderr.write(
        `  ${n} keys: pool ${m.pool.wall.toFixed(0)} ms (diff ${m.pool.diff.toFixed(0)}, lag ${m.pool.lag.toFixed(1)}), inline ${m.inline.wall.toFixed(0)} ms (diff ${m.inline.diff.toFixed(0)}, lag ${m.inline.lag.toFixed(1)})\n`,
      );
      out[`resync.scale.${n}.wall`] = figure(m.pool.wall, m.inline.wall, 'ms');
      out[`resync.scale.${n}.lag`] = figure(m.pool.lag, m.inline.lag, 'ms');
      // Where the wall time goes: the diff (split over the workers in the pool run), then the wave.
      out[`resync.scale.${n}.diff`] = figure(m.pool.diff, m.inline.diff, 'ms');
      out[`resync.scale.${n}.wave`] = figure(m.pool.wall - m.pool.diff, m.inline.wall - m.inline.diff, 'ms');
      if (n === sizes[sizes.length - 1]) {
        const id = '1m'; // under --quick the same ids hold the small run (for the record only)
        // A quick run is not the 1M-key run: it carries no target, so it can never read as met.
        out[`resync.${id}.wall`] = quick
          ? figure(m.pool.wall, m.inline.wall, 'ms')
          : figure(m.pool.wall, m.inline.wall, 'ms', 'ratio <= 0.7, value <= 2000', m.pool.wall / m.inline.wall <= 0.7 && m.pool.wall <= 2000);
        out[`resync.${id}.lag`] = quick ? figure(m.pool.lag, m.inline.lag, 'ms') : figure(m.pool.lag, m.inline.lag, 'ms', 'value <= 20', m.pool.lag <= 20);
      }
    }
    return out;
  },
};
