// taskTimeout bounds how long a worker task runs, not how long it waits for a free thread.
import test from 'ava';
import { StateSnapshot, shardOf, type WorkerTaskError } from '../src/offload/index.js';
import { SLOW_PREFIX } from './fixtures/offload-slow-descriptors.js';
import { startOffloadStack, type Entry } from './helpers/offload-stack.js';

const descriptorsModule = new URL('./fixtures/offload-slow-descriptors.js', import.meta.url).href;

/** One key per shard, with the `work` of the shard's index. */
function onePerShard(shards: number, work: (shard: number) => number): Entry[] {
  const entries: Entry[] = [];
  const found = new Set<number>();
  for (let i = 0; found.size < shards; i++) {
    const key = `${SLOW_PREFIX}k${i}`;
    const s = shardOf(key, shards);
    if (found.has(s)) continue;
    found.add(s);
    entries.push([key, { work: work(s) }]);
  }
  return entries;
}

test.serial('S5: taskTimeout counts a task\'s running time only: shards queued behind others on one thread are not timed out', async (t) => {
  const SHARDS = 8;
  const WORK = 500;
  // One slow key per shard: on one thread the diff tasks run one after the other, the last one
  // starting about 3.5 s after the first; each runs about 0.5 s, well within the 2 s limit.
  const entries = onePerShard(SHARDS, () => WORK);
  const s = await startOffloadStack({ threads: 1, taskTimeout: 2000, workers: true, inlineThreshold: 0, descriptorsModule });
  t.teardown(() => s.close());
  const started = performance.now();
  const r = await s.pool.sync(StateSnapshot.fromEntries(entries, SHARDS), StateSnapshot.empty(SHARDS), { mode: 'pool' });
  const took = performance.now() - started;
  t.deepEqual(
    r.errors.map((e) => `${e.key}: ${e.error.message}`),
    [],
  );
  t.true(took >= SHARDS * WORK, `the diff tasks ran one after the other (${Math.round(took)} ms)`);
  t.is(new Map(r.applied.entries()).size, SHARDS);
});

test.serial('S5: a task stuck running is still ended after taskTimeout, also behind queued tasks; those after it run', async (t) => {
  const SHARDS = 4;
  // Shard 1's diff never ends (its descriptor loops); the others take 300 ms each, on one thread.
  const entries = onePerShard(SHARDS, (s) => (s === 1 ? 1e12 : 300));
  const stuck = entries.find(([, v]) => v['work'] === 1e12)?.[0] as string;
  const s = await startOffloadStack({ threads: 1, taskTimeout: 1500, workers: true, inlineThreshold: 0, descriptorsModule });
  t.teardown(() => s.close());
  const r = await s.pool.sync(StateSnapshot.fromEntries(entries, SHARDS), StateSnapshot.empty(SHARDS), { mode: 'pool' });
  t.deepEqual(
    r.errors.map((e) => `${e.key}: ${(e.error as WorkerTaskError).code}`),
    [`${stuck}: ERR_WORKER_TASK`],
  );
  t.regex(r.errors[0]?.error.message ?? '', /taskTimeout \(1500 ms\)/);
  t.is(new Map(r.applied.entries()).size, SHARDS - 1);
});
