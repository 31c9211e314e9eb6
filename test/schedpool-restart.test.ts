// A scheduler with a pool started over a dataplane that an earlier process (scheduler + pool) filled.
import test from 'ava';
import type { Value } from '../src/api/values.js';
import { OffloadPool } from '../src/offload/index.js';
import { Scheduler } from '../src/scheduler/index.js';
import { ALLOCATING_PREFIX, descriptors } from './fixtures/offload-allocating-descriptors.js';
import { connected } from './helpers/dataplane-connect.js';
import { sorted } from './helpers/schedpool-stack.js';

const allocatingModule = new URL('./fixtures/offload-allocating-descriptors.js', import.meta.url).href;

function tagged(from: number, to: number): Map<string, Value> {
  return new Map(Array.from({ length: to - from }, (_, i) => [`${ALLOCATING_PREFIX}t${from + i}`, {}]));
}

test('S4, S1: a pooled kind that allocates ids: a new scheduler and pool over a dataplane filled by an earlier pool allocate ids above the ones found there', async (t) => {
  const { sim, c: connector } = await connected(t, { seed: 1 }, { replyTimeout: 20_000 });
  const run = async (values: Map<string, Value>): Promise<{ error: unknown; sb: Record<string, unknown>; nb: Record<string, unknown> }> => {
    const pool = await OffloadPool.start({ threads: 2, inlineThreshold: 1, descriptorsModule: allocatingModule, connector });
    const s = new Scheduler({ connector, pool, descriptors: descriptors(), pooledKinds: ['test-tagged-bd'] });
    try {
      const r = await s.commit(values, { resync: 'full' });
      return { error: r.error, sb: sorted(await s.dump(ALLOCATING_PREFIX, 'sb')), nb: sorted(await s.dump(ALLOCATING_PREFIX, 'nb')) };
    } finally {
      await s.close();
      await pool.close();
    }
  };
  const first = await run(tagged(0, 3));
  t.is(first.error, null);
  // The next process keeps the three and adds three: one create each, with ids not the first three's
  // (before, the new pool allocated from its start again; the creates were refused as VALUE_EXIST,
  // then made again inline).
  const creates = async (): Promise<number> => (await sim.counters()).messages['bridge_domain_add_del'] ?? 0;
  const before = await creates();
  const second = await run(tagged(0, 6));
  t.is((await creates()) - before, 3);
  t.is(second.error, null);
  t.deepEqual(second.sb, second.nb);
  const bds = (await sim.snapshot()).bridgeDomains.filter((b) => b.bd_tag.startsWith('tb-'));
  t.is(bds.length, 6);
  t.is(new Set(bds.map((b) => b.bd_id)).size, 6);
});
