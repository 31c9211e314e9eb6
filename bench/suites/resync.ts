// resync.1m.wall / resync.1m.lag: a full resync (10 % of the values changed) through the offload
// pool vs the same work inline on the main thread, both from the same snapshot bytes to native-sim.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { startNativeSim } from '../../native-sim/index.js';
import { VppConnector } from '../../src/connector/index.js';
import { interfaceKey, routeKey } from '../../src/descriptors/index.js';
import { OffloadPool, StateSnapshot, type SyncMode, type SyncResult } from '../../src/offload/index.js';
import { type BenchSuite, type Figure, figure, median } from '../figure.js';

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

/**
 * A resync that re-creates an interface (its MTU removed) must re-create the routes through it:
 * every route is checked for a dependency on it (by key, see `dependenciesOfKey`). Measured against
 * the same resync with the interface's MTU changed in place (nothing to cascade), alternating.
 */
async function cascade(n: number, rounds: number): Promise<{ recreate: number; update: number }> {
  const sim = await startNativeSim({ ringBytes: 1 << 22 });
  const connector = await VppConnector.connect(sim, { replyTimeout: 60_000, pingInterval: 0 });
  const pool = await OffloadPool.start({ connector, threads: 2, workers: true, rings: true });
  try {
    const loop = (mtu: number | null): [string, Record<string, unknown>] => [
      interfaceKey('loop1'),
      { name: 'loop1', type: 'SOFTWARE_LOOPBACK', enabled: true, ipAddresses: ['172.16.1.1/24'], ...(mtu === null ? {} : { mtu }) },
    ];
    const state = (mtu: number | null): StateSnapshot => {
      function* gen(): Generator<[string, Record<string, unknown>]> {
        yield loop(mtu);
        for (let i = 0; i < n; i++) {
          const v: Record<string, unknown> = { vrfId: 0, dstNetwork: `${10 + (i >>> 16)}.${(i >>> 8) & 255}.${i & 255}.0/24`, weight: 1, preference: 0 };
          if (i % 100 === 0) v['outgoingInterface'] = 'loop1';
          else v['nextHopAddr'] = '192.168.0.1';
          yield [routeKey(v as { vrfId: number; dstNetwork: string }), v];
        }
      }
      return StateSnapshot.fromEntries(gen(), SHARDS);
    };
    const [withMtu, otherMtu, noMtu] = [state(1500), state(1400), state(null)];
    let applied = (await pool.sync(withMtu, StateSnapshot.empty(SHARDS), { mode: 'pool' })).applied;
    const through = Math.ceil(n / 100);
    const times: { recreate: number[]; update: number[] } = { recreate: [], update: [] };
    const step = async (to: StateSnapshot, ops: number, into: number[] | null): Promise<void> => {
      const t0 = performance.now();
      const r = await pool.sync(to, applied, { mode: 'pool' });
      into?.push(performance.now() - t0);
      if (r.errors.length > 0 || r.ops !== ops) throw new Error(`cascade: ${r.ops} ops (want ${ops}), ${r.errors.length} errors: ${r.errors[0]?.error.message}`);
      applied = r.applied;
    };
    for (let r = 0; r < rounds; r++) {
      await step(noMtu, 2 * (1 + through), times.recreate); // loop1 and the routes through it, deleted and created
      await step(withMtu, 1, null);
      await step(otherMtu, 1, times.update);
      await step(withMtu, 1, null);
    }
    const routesVia = (await sim.snapshot()).routes.filter((x) => x.paths.some((p) => p.sw_if_index === pool.metadata.get(interfaceKey('loop1')))).length;
    if (routesVia !== through) throw new Error(`cascade: ${routesVia} routes through loop1, want ${through}`);
    return { recreate: median(times.recreate), update: median(times.update) };
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
      // Its own ids: the size runs below publish resync.scale.* from their own, longer measurements.
      out[`resync.sweep.${n}.wall`] = figure(m.pool.wall, m.inline.wall, 'ms');
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
    const routes = quick ? 10_000 : 60_000;
    const c = await cascade(routes, quick ? 2 : 5);
    process.stderr.write(`  cascade: interface re-created ${c.recreate.toFixed(0)} ms, updated in place ${c.update.toFixed(0)} ms\n`);
    out['resync.cascade'] = figure(c.recreate, c.update, 'ms', `for the record: ${routes} routes, ${routes / 100} through the interface`);
    return out;
  },
};
