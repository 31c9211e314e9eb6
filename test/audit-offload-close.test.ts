// Failure-path audit of the offload pool: close() and a dead connector while a sync or a wave is in
// flight must fail the work cleanly (typed per-key errors) and never leave a task or close() hanging.
import test from 'ava';
import { StateSnapshot, WorkerTaskError, shardOf } from '../src/offload/index.js';
import type { PoolOp } from '../src/scheduler/op-pool.js';
import { CRASH_PREFIX } from './fixtures/offload-crash-descriptors.js';
import { route, startOffloadStack, type Entry } from './helpers/offload-stack.js';

// More shards than threads: segments of one wave queue for the producer rings the workers write into.
const SHARDS = 4;
const THREADS = 2;

async function warmed(stallTimeout: number) {
  const s = await startOffloadStack({ inlineThreshold: 0, workers: true, rings: true, threads: THREADS, stallTimeout });
  // Workers loaded first, so the sync below meets the stall and not the workers' start-up.
  await s.pool.sync(StateSnapshot.fromEntries([route(999)], SHARDS), StateSnapshot.empty(SHARDS), { mode: 'pool' });
  await s.pool.sync(StateSnapshot.empty(SHARDS), StateSnapshot.fromEntries([route(999)], SHARDS), { mode: 'pool' });
  return s;
}

test('S5 V3: close() during a pooled sync that meets a stalled dataplane fails the unanswered keys and resolves (rings retired, none left waiting)', async (t) => {
  const s = await warmed(150);
  t.teardown(() => s.close());
  await s.sim.setFaults({ stallMs: 3000 });
  const desired = StateSnapshot.fromEntries(Array.from({ length: 400 }, (_, i) => route(i)), SHARDS);
  const inFlight = s.pool.sync(desired, StateSnapshot.empty(SHARDS));
  const closed = s.pool.close();
  const r = await inFlight;
  await closed;
  t.true(r.errors.length > 0);
  for (const e of r.errors) t.is((e.error as { code?: string }).code, 'ERR_REPLY_TIMEOUT', `${e.key}: ${e.error.message}`);
  t.is(new Map(r.applied.entries()).size, 400 - r.errors.length, 'every key is either applied or reported failed');
});

test('S5 V3: a wave in flight when the connector closes fails its ops with typed errors; the pool still closes', async (t) => {
  const s = await warmed(150);
  t.teardown(() => s.close());
  await s.sim.setFaults({ stallMs: 3000 });
  // More ops than one segment per thread: some segments wait for a ring.
  const ops: PoolOp[] = Array.from({ length: 6000 }, (_, i) => {
    const [key, value] = route(i);
    return { op: 'create', key, value };
  });
  const wave = s.pool.executeWave(ops, []);
  await s.connector.close();
  const r = await wave;
  t.is(r.errors.length, ops.length);
  t.true(r.errors.every((e) => e !== null && typeof (e as { code?: unknown }).code === 'string'), 'every op has a typed error');
  await s.pool.close();
});

test('S5: workers that die mid-task while the pool is closing are replaced until the sync is done; every key of theirs fails with WorkerTaskError', async (t) => {
  const descriptorsModule = new URL('./fixtures/offload-crash-descriptors.js', import.meta.url).href;
  const s = await startOffloadStack({ inlineThreshold: 0, workers: true, rings: true, threads: THREADS, descriptorsModule });
  t.teardown(() => s.close());
  // One key per shard that kills its worker while encoding: every segment of the wave crashes, and
  // the segments beyond the first THREADS wait for a ring the crashed ones held.
  const bad: Entry[] = [];
  const covered = new Set<number>();
  for (let i = 0; covered.size < SHARDS; i++) {
    const key = `${CRASH_PREFIX}k${i}`;
    if (covered.has(shardOf(key, SHARDS))) continue;
    covered.add(shardOf(key, SHARDS));
    bad.push([key, { action: 'exit', when: 'encode' }]);
  }
  const inFlight = s.pool.sync(StateSnapshot.fromEntries(bad, SHARDS), StateSnapshot.empty(SHARDS));
  const closed = s.pool.close();
  const r = await inFlight;
  await closed;
  t.deepEqual(r.errors.map((e) => e.key).sort(), bad.map(([k]) => k).sort());
  for (const e of r.errors) t.true(e.error instanceof WorkerTaskError, `${e.key}: ${e.error.message}`);
  t.is(r.applied.size, 0, 'nothing recorded as applied');
});

test('S5: a wave accepted before close() runs to the end: close() waits for it, even while its ops are still being checked', async (t) => {
  const s = await startOffloadStack({ workers: true, rings: true, threads: THREADS });
  t.teardown(() => s.close());
  const [key, value] = route(1);
  const wave = s.pool.executeWave([{ op: 'create', key, value }]);
  const closed = s.pool.close();
  t.deepEqual((await wave).errors, [null]);
  await closed;
  t.is((await s.sim.snapshot()).routes.filter((r) => r.prefix === '10.0.1.0/24').length, 1);
  await t.throwsAsync(s.pool.executeWave([{ op: 'create', key, value }]), { code: 'ERR_OFFLOAD_CLOSED' });
});

test('S5: a malformed wave queued behind a sync is refused with a TypeError when its turn comes; the pool goes on', async (t) => {
  const s = await startOffloadStack({ workers: true, rings: true, threads: THREADS });
  t.teardown(() => s.close());
  const sync = s.pool.sync(StateSnapshot.fromEntries([route(2)], SHARDS), StateSnapshot.empty(SHARDS), { mode: 'pool' });
  const bad = s.pool.executeWave([{ op: 'rename', key: 'k', value: {} } as unknown as PoolOp]);
  await t.throwsAsync(bad, { instanceOf: TypeError });
  const [key, value] = route(3);
  for (const idsAbove of [-1, 1.5, Number.NaN]) await t.throwsAsync(s.pool.executeWave([{ op: 'create', key, value }], [], idsAbove), { instanceOf: TypeError, message: /idsAbove/ });
  t.is((await sync).errors.length, 0);
  t.deepEqual((await s.pool.executeWave([{ op: 'create', key, value }])).errors, [null]);
});

for (const [mode, rings] of [['inline', true], ['pool', false]] as const) {
  test(`S5 V3: a sync (${mode}${rings ? '' : ', rings off'}) whose connector closes mid-way resolves with every unsent or unanswered key failed, typed, not a rejection`, async (t) => {
    const s = await startOffloadStack({ inlineThreshold: 0, workers: true, rings, threads: THREADS, stallTimeout: 500 });
    t.teardown(() => s.close());
    await s.sim.setFaults({ latencyMs: 300 });
    const entries = Array.from({ length: 2000 }, (_, i) => route(i));
    const run = s.pool.sync(StateSnapshot.fromEntries(entries, SHARDS), StateSnapshot.empty(SHARDS), { mode });
    setTimeout(() => void s.connector.close(), 100);
    const r = await run;
    t.true(r.errors.length > 0);
    for (const e of r.errors) t.is((e.error as { code?: string }).code, 'ERR_CONNECTOR_CLOSED', `${e.key}: ${e.error.message}`);
    t.is(new Map(r.applied.entries()).size, 2000 - r.errors.length);
  });
}
