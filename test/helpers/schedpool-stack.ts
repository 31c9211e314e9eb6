// Real stacks for the schedpool tests: native-sim + VppConnector + Scheduler, with an OffloadPool
// (wrapped in a counting decorator that records which waves the scheduler handed it) or without.
import type { ExecutionContext } from 'ava';
import { startNativeSim, type NativeSim } from '../../native-sim/index.js';
import type { Value } from '../../src/api/values.js';
import { VppConnector } from '../../src/connector/index.js';
import { OffloadPool, type OffloadOptions } from '../../src/offload/index.js';
import { Scheduler, type Descriptor, type OpPool, type PoolOp, type PoolWaveResult } from '../../src/scheduler/index.js';

/** Delegates to the real pool; counts the ops handed over, and can hold a wave until released. */
export class CountingPool implements OpPool {
  readonly inner: OffloadPool;
  waves = 0;
  ops = 0;
  /** Resolves when the next wave is handed over. */
  nextWave: Promise<void>;
  #signal!: () => void;

  constructor(inner: OffloadPool) {
    this.inner = inner;
    this.nextWave = this.#arm();
  }

  #arm(): Promise<void> {
    return new Promise((resolve) => (this.#signal = resolve));
  }

  get workers(): boolean {
    return this.inner.workers;
  }

  get inlineThreshold(): number {
    return this.inner.inlineThreshold;
  }

  descriptorName(key: string): string | undefined {
    return this.inner.descriptorName(key);
  }

  executeWave(ops: readonly PoolOp[], metadata: ReadonlyArray<readonly [string, number]>, idsAbove?: number): Promise<PoolWaveResult> {
    this.waves++;
    this.ops += ops.length;
    const p = this.inner.executeWave(ops, metadata, idsAbove);
    const signal = this.#signal;
    this.nextWave = this.#arm();
    signal();
    return p;
  }
}

export interface SchedStack {
  readonly sim: NativeSim;
  readonly connector: VppConnector;
  readonly s: Scheduler;
  /** Null for the inline twin. */
  readonly pool: CountingPool | null;
  close(): Promise<void>;
}

export interface SchedStackOptions {
  /** Options of the pool; null: no pool (the inline twin). */
  readonly offload: Omit<OffloadOptions, 'connector'> | null;
  readonly descriptors?: readonly Descriptor[];
  readonly pooledKinds?: readonly string[];
}

export async function schedStack(t: ExecutionContext, o: SchedStackOptions): Promise<SchedStack> {
  const sim = await startNativeSim({ seed: 1 });
  const connector = await VppConnector.connect(sim, { replyTimeout: 20_000, pingInterval: 0 });
  const pool = o.offload ? new CountingPool(await OffloadPool.start({ threads: 2, ...o.offload, connector })) : null;
  const s = new Scheduler({
    connector,
    ...(pool ? { pool } : {}),
    ...(o.descriptors ? { descriptors: o.descriptors } : {}),
    ...(o.pooledKinds ? { pooledKinds: o.pooledKinds } : {}),
  });
  let closing: Promise<void> | null = null;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await s.close();
      await pool?.inner.close();
      await connector.close();
      await sim.close();
    })());
  t.teardown(close);
  return { sim, connector, s, pool, close };
}

/** A dump as a sorted plain object, so two views compare regardless of order. */
export function sorted(m: ReadonlyMap<string, unknown>): Record<string, unknown> {
  return Object.fromEntries([...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export type Values = Map<string, Value | null>;
