import test from 'ava';
import { StateSnapshot } from '../src/offload/index.js';
import { layeredState, startOffloadStack } from './helpers/offload-stack.js';

const SHARDS = 8;

test('S3, S4: a sharded resync creates dependencies first and deletes dependents first (the sim rejects any other order)', async (t) => {
  const s = await startOffloadStack({ inlineThreshold: 0 });
  t.teardown(() => s.close());
  const state = layeredState(600);
  const desired = StateSnapshot.fromEntries(state, SHARDS);
  const created = await s.pool.sync(desired, StateSnapshot.empty(SHARDS));
  t.is(created.mode, s.pool.workers ? 'pool' : 'inline', 'ENGINE_WORKERS=off runs this test inline');
  t.deepEqual(created.errors, []);
  t.is(created.ops, state.length);
  const snap = await s.sim.snapshot();
  t.is(snap.routes.filter((r) => r.table_id !== 0).length, 600);
  t.is(snap.interfaces.filter((i) => i.tag.startsWith('loop')).length, 2);
  // Routes through a loopback carry the sw_if_index its create reply returned.
  const loop1 = snap.interfaces.find((i) => i.tag === 'loop1');
  t.truthy(loop1);
  t.true(snap.routes.some((r) => r.paths.some((p) => p.sw_if_index === loop1?.sw_if_index)));
  t.is(s.pool.metadata.get('config/vpp/v2/interfaces/loop1'), loop1?.sw_if_index);

  // Removing everything: routes and loopbacks go before their tables (a table still used by an
  // interface cannot be deleted; a route of a deleted table is gone and its delete would fail).
  const removed = await s.pool.sync(StateSnapshot.empty(SHARDS), created.applied);
  t.deepEqual(removed.errors, []);
  t.is(removed.ops, state.length);
  t.is(removed.applied.size, 0);
  const after = await s.sim.snapshot();
  t.is(after.routes.filter((r) => r.table_id !== 0).length, 0);
  t.is(after.tables.filter((x) => x.table_id !== 0).length, 0);
});

test('S1: an unchanged state is a no-op, a changed value is updated, and the shard count does not change the outcome', async (t) => {
  const s = await startOffloadStack({ inlineThreshold: 0 });
  t.teardown(() => s.close());
  for (const shards of [1, 3, 16]) {
    const state = layeredState(200);
    const first = await s.pool.sync(StateSnapshot.fromEntries(state, shards), StateSnapshot.empty(shards));
    t.deepEqual(first.errors, []);
    const again = await s.pool.sync(StateSnapshot.fromEntries(state, shards), first.applied);
    t.is(again.ops, 0, 'nothing to do when desired equals applied');
    t.is(again.frames, 0);
    const changed = state.map(([k, v]): [string, Record<string, unknown>] => (k.includes('/route/') && (v['dstNetwork'] as string).endsWith('.0.0/24') ? [k, { ...v, preference: 5 }] : [k, v]));
    const r = await s.pool.sync(StateSnapshot.fromEntries(changed, shards), first.applied);
    t.deepEqual(r.errors, []);
    t.is(r.ops, 1, 'one route: a preference change is one in-place update');
    const gone = await s.pool.sync(StateSnapshot.empty(shards), r.applied);
    t.deepEqual(gone.errors, []);
  }
});
