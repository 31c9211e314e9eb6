// A user descriptor that throws while the pool compares values (equivalent, needsRecreate) or names
// a key's dependencies (dependenciesOfKey) fails that key alone, typed, in every mode; the rest of the sync goes on.
import test from 'ava';
import { StateSnapshot, type OffloadOptions } from '../src/offload/index.js';
import { KEY_THROWER_PREFIX, THROWER_PREFIX } from './fixtures/offload-throwing-descriptors.js';
import { route, startOffloadStack, vrf, type Entry } from './helpers/offload-stack.js';

const SHARDS = 4;
const descriptorsModule = new URL('./fixtures/offload-throwing-descriptors.js', import.meta.url).href;

const MODES: ReadonlyArray<readonly [string, Omit<OffloadOptions, 'connector'>]> = [
  ['inline', { workers: false }],
  ['pool, rings', { workers: true, rings: true }],
  ['pool, postMessage', { workers: true, rings: false }],
];

const codes = (errors: ReadonlyArray<{ key: string; error: Error }>): string[] => errors.map((e) => `${e.key}:${(e.error as { code?: string }).code}`);
const routes = (preference: number): Entry[] => Array.from({ length: 40 }, (_, i) => route(i, { preference }));

for (const [mode, options] of MODES) {
  for (const method of ['equivalent', 'needsRecreate'] as const) {
    test(`S2 S5: ${method}() that throws fails its key alone with ERR_DESCRIPTOR, left as applied; the others are synced (${mode})`, async (t) => {
      const s = await startOffloadStack({ inlineThreshold: 0, descriptorsModule, ...options });
      t.teardown(() => s.close());
      const sync = { mode: options.workers ? ('pool' as const) : ('inline' as const) };
      const key = `${THROWER_PREFIX}k`;
      const other = `${THROWER_PREFIX}ok`;
      const first = await s.pool.sync(StateSnapshot.fromEntries([...routes(0), [key, { n: 1 }], [other, { n: 1 }], ['test/thrower-user/u', {}]], SHARDS), StateSnapshot.empty(SHARDS), sync);
      t.deepEqual(codes(first.errors), []);
      const second = await s.pool.sync(StateSnapshot.fromEntries([...routes(1), [key, { n: 2, throwIn: method }], [other, { n: 2 }], ['test/thrower-user/u', {}]], SHARDS), first.applied, sync);
      t.deepEqual(codes(second.errors), [`${key}:ERR_DESCRIPTOR`]);
      t.regex(second.errors[0]?.error.message ?? '', new RegExp(`${method}\\(\\) of ${key} threw: ${method} boom`));
      const applied = new Map(second.applied.entries());
      t.deepEqual(applied.get(key), { n: 1 }, 'the failed key keeps its applied value');
      t.deepEqual(applied.get(other), { n: 2 });
      t.true(routes(1).every(([k, v]) => JSON.stringify(applied.get(k)) === JSON.stringify(v)));
    });
  }

  test(`S2 S5: dependenciesOfKey() that throws costs its key a decode, not a failure: a sync deleting a VRF table goes on (${mode})`, async (t) => {
    const s = await startOffloadStack({ inlineThreshold: 0, descriptorsModule, ...options });
    t.teardown(() => s.close());
    const sync = { mode: options.workers ? ('pool' as const) : ('inline' as const) };
    const keep: Entry[] = [...routes(0), [`${KEY_THROWER_PREFIX}a`, { n: 1 }], [`${THROWER_PREFIX}b`, { n: 1 }]];
    const first = await s.pool.sync(StateSnapshot.fromEntries([...keep, vrf(5)], SHARDS), StateSnapshot.empty(SHARDS), sync);
    t.deepEqual(codes(first.errors), []);
    const second = await s.pool.sync(StateSnapshot.fromEntries(keep, SHARDS), first.applied, sync);
    t.deepEqual(codes(second.errors), []);
    t.is(second.ops, 1, 'only the VRF table is deleted');
    t.false((await s.sim.snapshot()).tables.some((v) => v.table_id === 5));
  });
}
