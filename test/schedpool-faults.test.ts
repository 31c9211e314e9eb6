// Failure paths of pooled commits: a dataplane error, revert, a worker that dies, close() mid-commit.
import test from 'ava';
import type { Value } from '../src/api/values.js';
import { OffloadClosedError, WorkerTaskError } from '../src/offload/index.js';
import { DEFAULT_POOLED_KINDS, SchedulerClosedError } from '../src/scheduler/index.js';
import { CRASH_PREFIX, descriptors as crashDescriptors } from './fixtures/offload-crash-descriptors.js';
import { route } from './helpers/offload-stack.js';
import { schedStack, sorted, type SchedStack } from './helpers/schedpool-stack.js';

function routes(from: number, to: number): Map<string, Value> {
  const m = new Map<string, Value>();
  for (let i = from; i < to; i++) m.set(...(route(i) as [string, Value]));
  return m;
}

/** Removes a route from the dataplane behind the scheduler's back. */
async function dropInSim(st: SchedStack, i: number): Promise<void> {
  const v = route(i)[1] as { dstNetwork: string; nextHopAddr: string };
  await st.connector.request('ip_route_add_del', {
    is_add: false,
    route: { table_id: 0, prefix: v.dstNetwork, paths: [{ sw_if_index: 0xffffffff, nh: v.nextHopAddr, weight: 1, preference: 0 }] },
  });
}

test('S5, V4: a failing key in a pooled commit gets its typed error (as inline); the other keys are applied', async (t) => {
  const [pooled, inline] = await Promise.all([schedStack(t, { offload: { inlineThreshold: 100 } }), schedStack(t, { offload: null })]);
  const ghost = route(7)[0];
  const next = new Map<string, Value | null>([...routes(600, 900), [ghost, null]]);
  const results = [];
  for (const st of [pooled, inline]) {
    t.is((await st.s.commit(routes(0, 600), {})).error, null);
    await dropInSim(st, 7);
    results.push(await st.s.commit(next, {}));
  }
  const [a, b] = results;
  if (pooled.pool?.workers) t.true(pooled.pool.ops >= 900);
  t.deepEqual(a?.error?.kvErrors.map((e) => e.key), [ghost]);
  const err = a?.error?.kvErrors[0]?.error as { code?: string; retval?: number; message: string };
  t.is(err.code, 'ERR_VPP_API');
  t.is(err.retval, -6);
  t.is(err.message, b?.error?.kvErrors[0]?.error.message ?? '');
  t.deepEqual(pooled.s.getStatus(ghost), inline.s.getStatus(ghost));
  t.is(pooled.s.getStatus(ghost)?.state, 'failed');
  t.is((await pooled.sim.snapshot()).routes.filter((r) => r.prefix.startsWith('10.')).length, 899);
  t.deepEqual(sorted(await pooled.s.dump('', 'sb')), sorted(await inline.s.dump('', 'sb')));
});

test('S5: revert after a failure in a pooled commit restores the same state as inline', async (t) => {
  const [pooled, inline] = await Promise.all([schedStack(t, { offload: { inlineThreshold: 100 } }), schedStack(t, { offload: null })]);
  const next = new Map<string, Value | null>([...routes(600, 900), [route(7)[0], null], [route(8)[0], null]]);
  const results = [];
  for (const st of [pooled, inline]) {
    t.is((await st.s.commit(routes(0, 600), {})).error, null);
    await dropInSim(st, 7);
    results.push(await st.s.commit(next, { revert: true }));
  }
  const [a, b] = results;
  t.truthy(a?.error);
  t.deepEqual(a?.error?.kvErrors.map((e) => e.key).sort(), b?.error?.kvErrors.map((e) => e.key).sort());
  for (const view of ['sb', 'nb'] as const) t.deepEqual(sorted(await pooled.s.dump('', view)), sorted(await inline.s.dump('', view)), view);
  // Route 8 was deleted, then re-created by the revert; the new routes are gone again.
  t.true((await pooled.s.dump('', 'sb')).has(route(8)[0]));
  t.false((await pooled.s.dump('', 'sb')).has(route(650)[0]));
});

test('S5, S6: a pooled key that failed is retried and healed like an inline one', async (t) => {
  const pooled = await schedStack(t, { offload: { inlineThreshold: 100 } });
  t.is((await pooled.s.commit(routes(0, 600), {})).error, null);
  await dropInSim(pooled, 7);
  const r = await pooled.s.commit(new Map<string, Value | null>([...routes(600, 900), [route(7)[0], null]]), {
    resync: 'upstream',
    retry: { delay: 0, maxAttempts: 2, expBackoff: false },
  });
  // The retry re-reads the key (it is gone): nothing is left to do; the resync reports success.
  t.is(r.error, null);
  t.is(pooled.s.getStatus(route(7)[0])?.state, 'removed');
});

const crashModule = new URL('./fixtures/offload-crash-descriptors.js', import.meta.url).href;

test('S5: a worker that dies mid-task fails its keys with WorkerTaskError; it is replaced and the next commit works', async (t) => {
  const st = await schedStack(t, {
    offload: { inlineThreshold: 100, descriptorsModule: crashModule },
    descriptors: crashDescriptors(),
    pooledKinds: [...DEFAULT_POOLED_KINDS, 'test-crash'],
  });
  const bad = `${CRASH_PREFIX}k`;
  // First in the plan: its worker dies before it writes a frame of its task.
  const first = new Map<string, Value>([[bad, { action: 'exit', when: 'encode' }], ...routes(0, 400)]);
  const r = await st.s.commit(first, { resync: 'full' });
  if (!st.pool?.workers) {
    // Workers off: the value only kills a worker thread, so inline it is applied like the rest.
    t.is(r.error, null);
    return;
  }
  const errors = r.error?.kvErrors ?? [];
  t.true(errors.some((e) => e.key === bad), 'the key whose worker died is reported');
  for (const e of errors) {
    t.true(e.error instanceof WorkerTaskError, `${e.key}: ${e.error.message}`);
    t.is((e.error as WorkerTaskError).code, 'ERR_WORKER_TASK');
    t.is(st.s.getStatus(e.key)?.state, 'failed');
  }
  t.true(errors.length < 401, 'keys of the other worker tasks are applied');
  // The next commit (the bad key gone) re-reads what the dead worker may have sent and applies the rest.
  const before = st.pool.ops;
  const again = await st.s.commit(routes(0, 400), { resync: 'full' });
  t.is(again.error, null, again.error?.message);
  t.true(st.pool.ops > before, 'the pool (with a new worker) ran the second commit');
  const sb = await st.s.dump('config/vpp/v2/route/', 'sb');
  t.is(sb.size, 400);
  t.deepEqual(sorted(sb), sorted(await st.s.dump('config/vpp/v2/route/', 'nb')));
});

test('S5: close() during a pooled commit fails its keys with SchedulerClosedError; the pool close waits for the wave in flight', async (t) => {
  const st = await schedStack(t, { offload: { inlineThreshold: 100 } });
  const commit = st.s.commit(routes(0, 3000), {});
  if (!st.pool?.workers) {
    t.is((await commit).error, null);
    t.is(st.pool?.ops, 0);
    return;
  }
  await st.pool.nextWave;
  const closed = st.s.close();
  const r = await commit;
  await closed;
  const errors = r.error?.kvErrors ?? [];
  t.is(errors.length, 3000);
  for (const e of errors) t.true(e.error instanceof SchedulerClosedError, e.error.message);
  t.is(st.s.getStatus(route(0)[0])?.state, 'failed');
  await st.pool.inner.close();
  // The wave was accepted before close: the pool finished it (nothing is cut half way through a frame).
  t.is((await st.sim.snapshot()).routes.filter((x) => x.prefix.startsWith('10.')).length, 3000);
  await t.throwsAsync(st.s.commit(routes(0, 1), {}), { instanceOf: SchedulerClosedError });
});

test('S5: a closed pool fails the pooled keys with OffloadClosedError (typed); the inline part still runs', async (t) => {
  const st = await schedStack(t, { offload: { inlineThreshold: 100 } });
  await st.pool?.inner.close();
  const values = new Map<string, Value>([...routes(0, 300), ['config/vpp/v2/vrf-table/id/5/protocol/IPV4', { id: 5, protocol: 'IPV4' }]]);
  const r = await st.s.commit(values, {});
  if (!st.pool?.workers) {
    t.is(r.error, null);
    return;
  }
  const errors = r.error?.kvErrors ?? [];
  t.is(errors.length, 300);
  for (const e of errors) t.true(e.error instanceof OffloadClosedError, e.error.message);
  t.is(st.s.getStatus('config/vpp/v2/vrf-table/id/5/protocol/IPV4')?.state, 'configured');
});

test('S5: a closed pool fails the pooled deletes with OffloadClosedError; the inline ops of the plan still run', async (t) => {
  const st = await schedStack(t, { offload: { inlineThreshold: 100 } });
  const vrf6 = 'config/vpp/v2/vrf-table/id/6/protocol/IPV4';
  t.is((await st.s.commit(routes(0, 300), {})).error, null);
  await st.pool?.inner.close();
  const change = new Map<string, Value | null>([...[...routes(0, 300).keys()].map((k): [string, null] => [k, null]), [vrf6, { id: 6, protocol: 'IPV4' }]]);
  const r = await st.s.commit(change, {});
  if (!st.pool?.workers) {
    t.is(r.error, null);
    return;
  }
  const errors = r.error?.kvErrors ?? [];
  t.is(errors.length, 300);
  for (const e of errors) t.true(e.error instanceof OffloadClosedError, `${e.key}: ${e.error.message}`);
  t.is(st.s.getStatus(vrf6)?.state, 'configured');
  t.true((await st.sim.snapshot()).tables.some((x) => x.table_id === 6 && !x.is_ip6));
  t.is((await st.sim.snapshot()).routes.filter((x) => x.prefix.startsWith('10.')).length, 300, 'the pooled deletes were not sent');
});
