import test from 'ava';
import { FrameCodec } from '../src/connector/frame-codec.js';
import { createRing, RingReader, RingWriter } from '../src/connector/ring.js';
import { requestMessage } from '../src/connector/request-message.js';
import { FrameBatch, copyFrames, stillValid } from '../src/offload/pre-encoded.js';
import { TaskMetadata } from '../src/offload/shard-work.js';
import { OffloadKeyError, StateSnapshot, shardOf } from '../src/offload/index.js';
import { catalogMessages } from './helpers/catalog-messages.js';
import { aclKey, bridgeDomainKey } from '../src/descriptors/index.js';
import { layeredState, loopback, route, startOffloadStack, vrf, type Entry } from './helpers/offload-stack.js';

const SHARDS = 4;

/** Requests of every catalog shape (requests only: what a diff task encodes). */
function requests(seed: number, n: number): Array<{ name: string; fields: Record<string, unknown> }> {
  return catalogMessages(seed, n)
    .filter((m) => !String(m['_msgname']).endsWith('_reply') && !String(m['_msgname']).endsWith('_details'))
    .map((m) => {
      const { _msgname, context: _c, ...fields } = m;
      return { name: String(_msgname), fields };
    });
}

test('V1: pre-encoded frames, copied into a ring with their contexts, decode to the messages encoded with those contexts', (t) => {
  const codec = new FrameCodec();
  // Off the catalog, msgpackr writes the record definition (every key name) before the context.
  const longKeys = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`a_rather_long_field_name_number_${i}`, i]));
  const reqs = [
    ...requests(11, 600),
    { name: 'control_ping', fields: {} },
    { name: 'no_such_message_with_long_keys', fields: longKeys },
    { name: 'no_such_message', fields: { x: 'y', z: [1, 2] } },
  ];
  const batch = new FrameBatch(codec);
  batch.sendAll(reqs);
  const frames = batch.finish();
  t.is(frames.ends.length, reqs.length);
  t.true(frames.bytes.buffer instanceof SharedArrayBuffer, 'frames cross to the copying worker without a copy');

  // A ring that the frames wrap around: advance HEAD and TAIL to near its end first.
  const ring = createRing(1 << 17);
  const writer = new RingWriter(ring);
  const reader = new RingReader(ring);
  const filler = new Uint8Array(1000);
  for (let i = 0; i < 120; i++) writer.write(filler);
  writer.commit();
  reader.drain(() => {}, () => t.fail('corrupt'));

  const contexts = reqs.map((_, i) => (0x00070000 | i) >>> 0);
  const got: unknown[] = [];
  // Copy in two halves with a drain between, as a worker meets a ring that fills.
  const at = reqs.length >> 1;
  t.true(at > 100);
  const half = { bytes: frames.bytes, ends: frames.ends.subarray(0, at), contextAt: frames.contextAt.subarray(0, at) };
  t.is(copyFrames(half, writer, (f) => contexts[f] as number, 1000), at);
  reader.drain((p) => got.push(codec.decode(p)), () => t.fail('corrupt'));
  const rest = {
    bytes: frames.bytes.subarray(frames.ends[at - 1] as number),
    ends: frames.ends.subarray(at).map((e) => e - (frames.ends[at - 1] as number)),
    contextAt: frames.contextAt.subarray(at).map((c) => c - (frames.ends[at - 1] as number)),
  };
  t.is(copyFrames(rest, writer, (f) => contexts[at + f] as number, 1000), reqs.length - at);
  reader.drain((p) => got.push(codec.decode(p)), () => t.fail('corrupt'));

  t.is(got.length, reqs.length);
  reqs.forEach((r, i) => t.deepEqual(got[i], codec.decode(codec.encodeRequest(r.name, contexts[i] as number, r.fields)), r.name));
  // The last request is no catalog shape: msgpackr wrote it, and its context was found all the same.
  t.deepEqual(got[reqs.length - 1], requestMessage('no_such_message', contexts[reqs.length - 1] as number, { x: 'y', z: [1, 2] }));
});

test('V3: copying into a ring that stays full fails after stallTimeout instead of waiting forever', (t) => {
  const batch = new FrameBatch(new FrameCodec());
  batch.sendAll(requests(5, 4000));
  const writer = new RingWriter(createRing(1 << 12));
  const t0 = performance.now();
  t.throws(() => copyFrames(batch.finish(), writer, () => 1, 60), { message: /request ring stalled for 60 ms/ });
  t.true(performance.now() - t0 >= 55);
});

test('S3: frames encoded before a sync are used only while the metadata they read is unchanged', (t) => {
  t.true(stillValid({ reads: [] }, new Set()));
  t.true(stillValid({ reads: ['a'] }, new Set(['b'])));
  t.false(stillValid({ reads: ['a', 'b'] }, new Set(['b'])));
  t.true(stillValid({ reads: null }, new Set()), 'read by value: valid while nothing changed');
  t.false(stillValid({ reads: null }, new Set(['x'])));
});

/** Routes through an interface whose sw_if_index comes from its create reply in the same sync. */
function viaLoopback(n: number, preference: number): Entry[] {
  return [vrf(1), loopback('loop1', 1, '172.16.1.1/24'), ...Array.from({ length: n }, (_, i) => route(i, { vrf: 1, via: 'loop1', preference }))];
}

for (const preEncode of [true, false]) {
  test(`S3, S4: routes created through an interface created in the same sync carry its new sw_if_index (preEncode ${preEncode})`, async (t) => {
    const s = await startOffloadStack({ inlineThreshold: 0, workers: true, rings: true, preEncode });
    t.teardown(() => s.close());
    // Pre-encoding met no sw_if_index for loop1: the routes' frames failed to build, read loop1's
    // metadata, and are built again once its create reply set it.
    const created = await s.pool.sync(StateSnapshot.fromEntries(viaLoopback(300, 0), SHARDS), StateSnapshot.empty(SHARDS), { mode: 'pool' });
    t.deepEqual(created.errors, []);
    // The table's and the interface's frames went as pre-encoded; the routes' were built again.
    if (preEncode) t.true(created.segments.copied >= 2 && created.segments.encoded >= SHARDS, JSON.stringify(created.segments));
    else t.is(created.segments.copied, 0);
    const sw = s.pool.metadata.get('config/vpp/v2/interfaces/loop1');
    t.is(typeof sw, 'number');
    let snap = await s.sim.snapshot();
    const routes = snap.routes.filter((r) => r.table_id === 1);
    t.is(routes.length, 300);
    for (const r of routes) t.is(r.paths[0]?.sw_if_index, sw);

    // Remove loop1 and its routes, then create both again: loop1 gets another sw_if_index, which
    // the metadata known before that sync does not hold.
    const removed = await s.pool.sync(StateSnapshot.fromEntries([vrf(1)], SHARDS), created.applied, { mode: 'pool' });
    t.deepEqual(removed.errors, []);
    t.false(s.pool.metadata.has('config/vpp/v2/interfaces/loop1'));
    const again = await s.pool.sync(StateSnapshot.fromEntries(viaLoopback(300, 2), SHARDS), removed.applied, { mode: 'pool' });
    t.deepEqual(again.errors, []);
    const sw2 = s.pool.metadata.get('config/vpp/v2/interfaces/loop1');
    snap = await s.sim.snapshot();
    t.is(snap.interfaces.find((i) => i.tag === 'loop1')?.sw_if_index, sw2);
    const after = snap.routes.filter((r) => r.table_id === 1);
    t.is(after.length, 300);
    for (const r of after) t.deepEqual([r.paths[0]?.sw_if_index, r.paths[0]?.preference], [sw2, 2]);
  });
}

test('S1: with and without pre-encoding, a pool sync of a layered state and its changes gives the same dataplane and metadata', async (t) => {
  const outcome = async (preEncode: boolean): Promise<unknown> => {
    const s = await startOffloadStack({ inlineThreshold: 0, workers: true, rings: true, preEncode });
    try {
      const a = await s.pool.sync(StateSnapshot.fromEntries(layeredState(400), SHARDS), StateSnapshot.empty(SHARDS), { mode: 'pool' });
      const changed = layeredState(300).map(([k, v], i): Entry => (k.includes('/route/') && i % 3 === 0 ? [k, { ...v, preference: 9 }] : [k, v]));
      const b = await s.pool.sync(StateSnapshot.fromEntries(changed, SHARDS), a.applied, { mode: 'pool' });
      const snap = await s.sim.snapshot();
      // Interfaces created in one wave get their sw_if_index in whatever order the sim sees them:
      // compare routes with the interface named instead.
      const tag = new Map(snap.interfaces.map((i) => [i.sw_if_index, i.tag]));
      const named = (sw: number): string => tag.get(sw) ?? String(sw);
      const byName = new Map(snap.interfaces.map((i) => [i.tag, i.sw_if_index]));
      return {
        errors: [...a.errors, ...b.errors].map((e) => e.key),
        ops: [a.ops, b.ops],
        frames: [a.frames, b.frames],
        metadata: [...s.pool.metadata].map(([k, v]) => `${k}=${named(v)}`).sort(),
        routes: snap.routes.map((r) => JSON.stringify({ ...r, paths: r.paths.map((p) => ({ ...p, sw_if_index: named(p.sw_if_index) })) })).sort(),
        loopbacks: [...byName.keys()].filter((n) => n.startsWith('loop')).sort(),
        segments: { copied: a.segments.copied + b.segments.copied, encoded: a.segments.encoded + b.segments.encoded },
      };
    } finally {
      await s.close();
    }
  };
  const on = await outcome(true);
  const off = await outcome(false);
  t.deepEqual({ ...(on as object), segments: null }, { ...(off as object), segments: null });
  t.true((on as { segments: { copied: number } }).segments.copied > 0, 'pre-encoded frames were sent');
  t.is((off as { segments: { copied: number } }).segments.copied, 0);
  t.is((on as { routes: string[] }).routes.filter((r) => r.includes('"table_id":1') || r.includes('"table_id":2')).length, 300);
});

test('S3, S5: routes updated in the sync that deletes their interface are deleted before it and held back, never sent with its old sw_if_index', async (t) => {
  const s = await startOffloadStack({ inlineThreshold: 0, workers: true, rings: true, preEncode: true });
  t.teardown(() => s.close());
  const created = await s.pool.sync(StateSnapshot.fromEntries(viaLoopback(60, 0), SHARDS), StateSnapshot.empty(SHARDS), { mode: 'pool' });
  t.deepEqual(created.errors, []);
  const sw = s.pool.metadata.get('config/vpp/v2/interfaces/loop1');
  // loop1 goes, its routes change: the routes' old entries are deleted (dependents first, with
  // loop1's sw_if_index still valid) and their new values are not created, for want of loop1.
  const routesOnly = viaLoopback(60, 5).filter(([k]) => !k.includes('/interfaces/'));
  const r = await s.pool.sync(StateSnapshot.fromEntries(routesOnly, SHARDS), created.applied, { mode: 'pool' });
  t.is(r.errors.length, 60);
  for (const e of r.errors) {
    t.is((e.error as { code?: string }).code, 'ERR_DEPENDENCY_DELETED', `${e.key}: ${e.error.message}`);
    t.true(e.error instanceof OffloadKeyError);
  }
  t.false(s.pool.metadata.has('config/vpp/v2/interfaces/loop1'));
  const snap = await s.sim.snapshot();
  t.is(snap.routes.filter((x) => x.table_id === 1).length, 0, 'no route of the table is left');
  t.false(snap.routes.some((x) => x.paths.some((p) => p.sw_if_index === sw)));
  t.is(r.applied.size, 1, 'only the table is applied');
});

for (const preEncode of [true, false]) {
  test(`S1, S5: ids allocated by parallel tasks never collide, however many one task allocates (12,000 bridge domains, preEncode ${preEncode})`, async (t) => {
    const s = await startOffloadStack({ inlineThreshold: 0, workers: true, rings: true, preEncode });
    t.teardown(() => s.close());
    const bds: Entry[] = Array.from({ length: 12_000 }, (_, i) => [bridgeDomainKey(`bd${i}`), { name: `bd${i}`, interfaces: [] }]);
    const r = await s.pool.sync(StateSnapshot.fromEntries(bds, 2), StateSnapshot.empty(2), { mode: 'pool' });
    t.deepEqual(r.errors.slice(0, 3).map((e) => `${e.key}: ${e.error.message}`), []);
    const ids = bds.map(([k]) => s.pool.metadata.get(k));
    t.is(new Set(ids).size, 12_000, 'one bd_id per bridge domain');
    t.is((await s.sim.snapshot()).bridgeDomains.length, 12_000);
  });
}

for (const preEncode of [true, false]) {
  test(`S1, S5: a sync uses up only the ids it sent, not whole ranges: after many syncs a bridge domain still gets a 24-bit bd_id, never one in use (preEncode ${preEncode})`, async (t) => {
    const s = await startOffloadStack({ inlineThreshold: 0, workers: true, rings: true, preEncode });
    t.teardown(() => s.close());
    const bd = (name: string): Entry => [bridgeDomainKey(name), { name, interfaces: [] }];
    let applied = StateSnapshot.empty(8);
    // 100 syncs of 8 shards: each task is lent a range of 4,096 ids, which it does not use.
    for (let n = 0; n < 100; n++) {
      const r = await s.pool.sync(StateSnapshot.fromEntries(n % 2 === 0 ? [route(1)] : [], 8), applied, { mode: 'pool' });
      t.is(r.errors.length, 0);
      applied = r.applied;
    }
    const first = await s.pool.sync(StateSnapshot.fromEntries([bd('b1')], 8), applied, { mode: 'pool' });
    t.deepEqual(first.errors.map((e) => e.error.message), []);
    const b1 = s.pool.metadata.get(bridgeDomainKey('b1')) as number;
    t.true(b1 <= 0xffffff && b1 < (1 << 16) + 8 * 4096, `bd_id ${b1}`);
    // The next sync starts above what the last one sent: b1's id is not handed out again.
    const second = await s.pool.sync(StateSnapshot.fromEntries([bd('b1'), bd('b2')], 8), first.applied, { mode: 'pool' });
    t.deepEqual(second.errors.map((e) => e.error.message), []);
    t.not(s.pool.metadata.get(bridgeDomainKey('b2')), b1);
    // A wave starts above the ids in the metadata it is given (a caller's own allocations).
    const theirs = b1 + 50_000;
    const wave = await s.pool.executeWave([{ op: 'create', key: bridgeDomainKey('b3'), value: { name: 'b3', interfaces: [] } }], [[bridgeDomainKey('theirs'), theirs]]);
    t.deepEqual(wave.errors, [null]);
    const b3 = wave.metadata.find(([k]) => k === bridgeDomainKey('b3'))?.[1] as number;
    t.true(b3 > theirs && b3 <= 0xffffff, `bd_id ${b3}`);
    t.is((await s.sim.snapshot()).bridgeDomains.length, 3);
  });
}

for (const preEncode of [true, false]) {
  test(`S2, S5: ACLs of different shards on one interface all stay bound in pool mode: a thread-bound kind's requests are built on the main thread (preEncode ${preEncode})`, async (t) => {
    const s = await startOffloadStack({ threads: 2, inlineThreshold: 1, workers: true, rings: true, preEncode });
    t.teardown(() => s.close());
    const shards = 8;
    // Six ACL names of six different shards, all on if1's ingress: each thread alone knows only some.
    const names: string[] = [];
    for (let i = 0; names.length < 6; i++) {
      const n = `acl${i}`;
      if (!names.some((m) => shardOf(aclKey(m), shards) === shardOf(aclKey(n), shards))) names.push(n);
    }
    const acl = (n: string): Entry => [aclKey(n), { name: n, rules: [{ action: 'PERMIT', ipRule: { ip: { sourceNetwork: '10.0.0.0/8' } } }], interfaces: { ingress: ['if1'], egress: [] } }];
    const all: Entry[] = [loopback('if1', 0, '10.0.0.1/24'), ...names.map(acl)];
    const inputs = async (): Promise<number> => (await s.connector.dump('acl_interface_list_dump', {})).reduce((n, d) => n + (d['n_input'] as number), 0);
    const r = await s.pool.sync(StateSnapshot.fromEntries(all, shards), StateSnapshot.empty(shards), { mode: 'pool' });
    t.deepEqual(r.errors.map((e) => e.error.message), []);
    t.is(await inputs(), 6);
    const fewer = all.filter(([k]) => k !== aclKey(names[0] as string));
    const r2 = await s.pool.sync(StateSnapshot.fromEntries(fewer, shards), r.applied, { mode: 'pool' });
    t.deepEqual(r2.errors.map((e) => e.error.message), []);
    t.is(await inputs(), 5);
  });
}

test('S5: a task hands out ids of its own range only, per prefix, and fails a create past its end instead of reusing another range', (t) => {
  const md = new TaskMetadata([['k', 7]], { base: 100, size: 2 });
  t.is(md.get('k'), 7);
  t.is(md.allocate('a/'), 100);
  t.is(md.allocate('b/'), 100);
  t.is(md.allocate('a/'), 101);
  t.throws(() => md.allocate('a/'), { instanceOf: RangeError, message: /a\/: more than 2 ids allocated by one task/ });
});

test('S5: a task skips the ids of its range that keys of the prefix hold (ranges start over low after a very long run)', (t) => {
  const bd = (name: string) => bridgeDomainKey(name);
  const prefix = 'config/vpp.l2/v2/bridge-domain/';
  const md = new TaskMetadata([[bd('old1'), 100], [bd('old2'), 102], ['config/vpp/v2/interfaces/x', 101]], { base: 100, size: 5 });
  t.is(md.allocate(prefix), 101, "an interface's sw_if_index is no bd_id");
  t.is(md.allocate(prefix), 103);
  md.set(bd('new'), 104);
  t.throws(() => md.allocate(prefix), { instanceOf: RangeError });
  t.is(md.highest, 103);
});
