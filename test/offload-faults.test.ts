import test from 'ava';
import { StateSnapshot, WorkerTaskError, OffloadKeyError } from '../src/offload/index.js';
import { bridgeDomainKey } from '../src/descriptors/index.js';
import { loopback, route, startOffloadStack, type Entry } from './helpers/offload-stack.js';
import { CRASH_PREFIX } from './fixtures/offload-crash-descriptors.js';

const SHARDS = 4;
const descriptorsModule = new URL('./fixtures/offload-crash-descriptors.js', import.meta.url).href;

function state(extra: Entry[]): Entry[] {
  return [...Array.from({ length: 400 }, (_, i) => route(i)), ...extra];
}

for (const [when, action, preEncode] of [
  ['encode', 'exit', false],
  ['diff', 'exit', false],
  ['encode', 'hang', false],
  ['diff', 'hang', false],
  // Pre-encoding builds the requests in the diff task: a descriptor's create kills that task.
  ['encode', 'exit', true],
  ['encode', 'hang', true],
] as const) {
  const doing = when === 'diff' ? 'diffing' : preEncode ? 'pre-encoding in its diff task' : 'encoding';
  // A hung task is ended by taskTimeout: its thread is terminated, as if it had died. Serial: with
  // the file's other pools busy beside it, a healthy task of a loaded machine could outlast 2 s.
  test.serial(`S5: a worker that ${action === 'exit' ? 'dies' : 'hangs'} while ${doing} fails its shard's keys with WorkerTaskError; the pool recovers`, async (t) => {
    const s = await startOffloadStack({ inlineThreshold: 0, descriptorsModule, workers: true, preEncode, taskTimeout: 2000 });
    t.teardown(() => s.close());
    const bad: Entry = [`${CRASH_PREFIX}k`, { action, when }];
    const first = await s.pool.sync(StateSnapshot.fromEntries(state([bad]), SHARDS), StateSnapshot.empty(SHARDS));
    const crashed = first.errors.find((e) => e.key === bad[0]);
    t.truthy(crashed, 'the key whose worker died is reported');
    t.true(crashed?.error instanceof WorkerTaskError);
    t.is((crashed?.error as WorkerTaskError).code, 'ERR_WORKER_TASK');
    if (action === 'hang') t.regex(crashed?.error.message ?? '', /taskTimeout \(2000 ms\)/);
    for (const e of first.errors) t.true(e.error instanceof WorkerTaskError, `${e.key}: ${e.error.message}`);
    // Keys that failed are not recorded as applied; the rest is.
    const applied = new Map(first.applied.entries());
    t.false(applied.has(bad[0]));
    t.is(applied.size, 401 - first.errors.length);

    // The pool replaced the worker: the next sync (without the bad key) applies the rest. Keys of
    // the crashed shard may have been sent before the crash: the sim then answers "exists", a typed
    // per-key error that a downstream resync would heal; nothing else fails.
    const second = await s.pool.sync(StateSnapshot.fromEntries(state([]), SHARDS), first.applied);
    for (const e of second.errors) t.is((e.error as { code?: string }).code, 'ERR_VPP_API', `${e.key}: ${e.error.message}`);
    const snap = await s.sim.snapshot();
    t.is(snap.routes.filter((r) => r.prefix.startsWith('10.')).length, 400);
    const third = await s.pool.sync(StateSnapshot.fromEntries(state([]), SHARDS), StateSnapshot.fromEntries(state([]), SHARDS));
    t.is(third.ops, 0);
  });
}

for (const preEncode of [true, false]) {
  test(`S5: a request that cannot be encoded fails its own key with InvalidMessageError (as inline), not its shard's other keys (preEncode ${preEncode})`, async (t) => {
    const s = await startOffloadStack({ inlineThreshold: 0, descriptorsModule, workers: true, rings: true, preEncode });
    t.teardown(() => s.close());
    const bad: Entry = [`${CRASH_PREFIX}big`, { action: 'unencodable' }];
    const r = await s.pool.sync(StateSnapshot.fromEntries(state([bad]), SHARDS), StateSnapshot.empty(SHARDS), { mode: 'pool' });
    t.deepEqual(
      r.errors.map((e) => e.key),
      [bad[0]],
    );
    t.is((r.errors[0]?.error as { code?: string } | undefined)?.code, 'ERR_INVALID_MESSAGE');
    t.regex(r.errors[0]?.error.message ?? '', /too large/);
    // Pre-encoding: every segment went as frames, the bad op left out of its segment's.
    if (preEncode) t.true(r.segments.copied > 0 && r.segments.encoded === 0, JSON.stringify(r.segments));
    t.is((await s.sim.snapshot()).routes.filter((x) => x.prefix.startsWith('10.')).length, 400);
  });
}

test('S2, S5: a key no descriptor handles and an invalid value are typed per-key errors; other keys still run', async (t) => {
  const s = await startOffloadStack({ inlineThreshold: 0 });
  t.teardown(() => s.close());
  const desired = StateSnapshot.fromEntries(
    [...Array.from({ length: 50 }, (_, i) => route(i)), ['no/such/kind', { a: 1 }], ['config/vpp/v2/vrf-table/id/9/protocol/IPV4', { id: 8, protocol: 'IPV4' }]],
    SHARDS,
  );
  for (const mode of ['pool', 'inline'] as const) {
    const r = await s.pool.sync(desired, mode === 'pool' ? StateSnapshot.empty(SHARDS) : StateSnapshot.fromEntries(Array.from({ length: 50 }, (_, i) => route(i)), SHARDS), { mode });
    const byKey = new Map(r.errors.map((e) => [e.key, e.error]));
    t.is(byKey.size, 2, mode);
    t.true(byKey.get('no/such/kind') instanceof OffloadKeyError);
    t.is((byKey.get('no/such/kind') as OffloadKeyError).code, 'ERR_UNIMPLEMENTED_KEY');
    t.is((byKey.get('config/vpp/v2/vrf-table/id/9/protocol/IPV4') as OffloadKeyError).code, 'ERR_INVALID_VALUE');
  }
  t.is((await s.sim.snapshot()).routes.filter((r) => r.prefix.startsWith('10.')).length, 50);
});

for (const readBack of [false, true]) {
  test(`V4, S5: a non-zero retval from the sim is a VppApiError for that key only (read-back ${readBack ? 'on' : 'off'})`, async (t) => {
    const s = await startOffloadStack({ inlineThreshold: 0, readBack });
    t.teardown(() => s.close());
    const desired = StateSnapshot.fromEntries(Array.from({ length: 100 }, (_, i) => route(i)), SHARDS);
    // The applied snapshot claims route 700 exists, but the sim never had it: its delete fails
    // (NO_SUCH_ENTRY). A changed route would not do: its update is a multipath add, which succeeds.
    const ghost = route(700);
    const applied = StateSnapshot.fromEntries([ghost], SHARDS);
    const r = await s.pool.sync(desired, applied, { mode: 'pool' });
    t.is(r.errors.length, 1);
    t.is(r.errors[0]?.key, ghost[0]);
    t.is((r.errors[0]?.error as { code?: string }).code, 'ERR_VPP_API');
    // Replies only: the failed key keeps what was applied before; read back: it is not there.
    t.deepEqual(new Map(r.applied.entries()).get(ghost[0]), readBack ? undefined : ghost[1]);
    t.is(r.readBack, readBack ? 1 : 0);
  });
}

test('V3, S5: a dataplane that stops answering fails the unanswered keys with ERR_REPLY_TIMEOUT; the pool goes on', async (t) => {
  // Rings pinned on: stallTimeout bounds the wait for replies on a worker's own ring (with rings
  // off the connector's replyTimeout applies, tested in connector-timeouts).
  const s = await startOffloadStack({ inlineThreshold: 0, workers: true, rings: true, stallTimeout: 200 });
  t.teardown(() => s.close());
  const desired = StateSnapshot.fromEntries(Array.from({ length: 200 }, (_, i) => route(i)), SHARDS);
  // Workers loaded first, and a stall far longer than stallTimeout: the sync meets the stall.
  await s.pool.sync(StateSnapshot.fromEntries([route(999)], SHARDS), StateSnapshot.empty(SHARDS), { mode: 'pool' });
  await s.pool.sync(StateSnapshot.empty(SHARDS), StateSnapshot.fromEntries([route(999)], SHARDS), { mode: 'pool' });
  await s.sim.setFaults({ stallMs: 4000 });
  const r = await s.pool.sync(desired, StateSnapshot.empty(SHARDS));
  t.true(r.errors.length > 0);
  for (const e of r.errors) t.is((e.error as { code?: string }).code, 'ERR_REPLY_TIMEOUT', `${e.key}: ${e.error.message}`);
  t.is(new Map(r.applied.entries()).size, 200 - r.errors.length, 'timed-out keys are not recorded as applied');
  // Once the sim answers again, a resync from what was recorded converges (keys that were applied
  // after all answer "exists"; a downstream resync would heal them).
  await s.connector.request('control_ping'); // answered only once the stall is over
  const again = await s.pool.sync(desired, r.applied);
  for (const e of again.errors) t.is((e.error as { code?: string }).code, 'ERR_VPP_API');
  t.is((await s.sim.snapshot()).routes.filter((x) => x.prefix.startsWith('10.')).length, 200);
});

test('V2, V3: a ring retired with replies in flight does not lend its channel to the next ring: its late replies are not taken for a later sync\'s', async (t) => {
  const s = await startOffloadStack({ threads: 1, producerRings: 1, inlineThreshold: 0, workers: true, rings: true, stallTimeout: 1000 });
  t.teardown(() => s.close());
  const channels: number[] = [];
  const create = s.connector.createProducerRing.bind(s.connector);
  s.connector.createProducerRing = async (o) => {
    const r = await create(o);
    channels.push(r.channel);
    return r;
  };
  // Workers loaded first, so the slow sync below meets the latency, not a thread start.
  await s.pool.sync(StateSnapshot.fromEntries([route(999)], 1), StateSnapshot.empty(1), { mode: 'pool' });
  await s.pool.sync(StateSnapshot.empty(1), StateSnapshot.fromEntries([route(999)], 1), { mode: 'pool' });
  // Sync A deletes routes the sim does not hold, answered (NO_SUCH_ENTRY) only after its stallTimeout.
  await s.sim.setFaults({ latencyMs: 1500 });
  const ghosts = Array.from({ length: 50 }, (_, i) => route(1000 + i));
  const a = await s.pool.sync(StateSnapshot.empty(1), StateSnapshot.fromEntries(ghosts, 1), { mode: 'pool' });
  t.is(a.errors.length, 50);
  for (const e of a.errors) t.is((e.error as { code?: string }).code, 'ERR_REPLY_TIMEOUT');
  // Sync B runs on the ring that replaced A's while A's replies still arrive.
  await s.sim.setFaults({ latencyMs: 0 });
  const fresh = Array.from({ length: 20 }, (_, i) => route(i));
  const b = await s.pool.sync(StateSnapshot.fromEntries(fresh, 1), StateSnapshot.empty(1), { mode: 'pool' });
  t.deepEqual(b.errors.map((e) => `${e.key}: ${e.error.message}`), []);
  t.is(new Map(b.applied.entries()).size, 20);
  t.is(new Set(channels).size, channels.length, `channels handed out: ${channels.join(', ')}`);
});

for (const mode of ['pool', 'inline'] as const) {
  test(`S5: a create the dataplane refuses keeps that error, not its Configure stage's, and leaves no metadata (${mode}, read-back off)`, async (t) => {
    const s = await startOffloadStack({ inlineThreshold: 1, workers: true, rings: true, readBack: false });
    t.teardown(() => s.close());
    // The dataplane already holds a loopback tagged if1, made outside the pool.
    await s.connector.request('create_loopback', { tag: 'if1' });
    const [key, value] = loopback('if1', 0, '10.0.0.1/24');
    const r = await s.pool.sync(StateSnapshot.fromEntries([[key, value]], SHARDS), StateSnapshot.empty(SHARDS), { mode });
    t.deepEqual(r.errors.map((e) => [e.key, (e.error as { code?: string }).code]), [[key, 'ERR_VPP_API']]);
    t.regex(r.errors[0]?.error.message ?? '', /VIF_ALREADY_EXISTS/);
    t.false(s.pool.metadata.has(key));
  });

  test(`S5: a create refused because its object is there already takes that object once read back; the next sync finishes it (${mode})`, async (t) => {
    const s = await startOffloadStack({ inlineThreshold: 1, workers: true, rings: true });
    t.teardown(() => s.close());
    const made = await s.connector.request('create_loopback', { tag: 'if1' });
    const [key, value] = loopback('if1', 0, '10.0.0.1/24');
    const desired = StateSnapshot.fromEntries([[key, value]], SHARDS);
    const r = await s.pool.sync(desired, StateSnapshot.empty(SHARDS), { mode });
    t.deepEqual(r.errors.map((e) => [e.key, (e.error as { code?: string }).code]), [[key, 'ERR_VPP_API']]);
    t.is(s.pool.metadata.get(key), made['sw_if_index'] as number, 'the metadata names the object the dataplane holds');
    t.deepEqual(r.applied.get(key), { name: 'if1', type: 'SOFTWARE_LOOPBACK', enabled: false, ipAddresses: [], vrf: 0 }, 'reported as the dataplane holds it');
    const next = await s.pool.sync(desired, r.applied, { mode });
    t.deepEqual(next.errors, []);
    const ifs = (await s.sim.snapshot()).interfaces.filter((i) => i.tag === 'if1');
    t.deepEqual(ifs.map((i) => i.sw_if_index), [made['sw_if_index']], 'no second if1');
  });

  test(`S5: an id allocated for a create that failed is not kept as the key's metadata (${mode})`, async (t) => {
    const s = await startOffloadStack({ inlineThreshold: 1, workers: true, rings: true });
    t.teardown(() => s.close());
    await s.sim.setFaults({ errorRate: 1, messages: ['bridge_domain_add_del'] });
    const bd: Entry = [bridgeDomainKey('bd1'), { name: 'bd1', interfaces: [] }];
    const r = await s.pool.sync(StateSnapshot.fromEntries([bd], SHARDS), StateSnapshot.empty(SHARDS), { mode });
    t.deepEqual(r.errors.map((e) => e.key), [bd[0]]);
    t.false(s.pool.metadata.has(bd[0]));
  });
}
