// OffloadPool.sync reads the dataplane back after failures (docs/hotpath.md, "Read-back").
import test from 'ava';
import { aclKey } from '../src/descriptors/index.js';
import { OffloadPool, StateSnapshot } from '../src/offload/index.js';
import { type Entry, loopback, startOffloadStack } from './helpers/offload-stack.js';

const SHARDS = 4;

const acl = (ingress: string[]): Entry => [aclKey('web'), { name: 'web', rules: [{ action: 'PERMIT' }], interfaces: { ingress, egress: [] } }];

for (const mode of ['pool', 'inline'] as const) {
  test(`S3, S5: an ACL left bound to an interface its last value no longer names (its update failed half way) is deleted by the next sync (${mode})`, async (t) => {
    const s = await startOffloadStack({ inlineThreshold: 0 });
    t.teardown(() => s.close());
    const a = loopback('lpA', 0, '172.16.60.1/24');
    const b = loopback('lpB', 0, '172.16.61.1/24');
    const first = await s.pool.sync(StateSnapshot.fromEntries([a, b, acl(['lpA'])], SHARDS), StateSnapshot.empty(SHARDS), { mode });
    t.deepEqual(first.errors, []);
    // Moving the ACL from lpA to lpB: neither list request goes through, so it stays bound to lpA.
    await s.sim.setFaults({ errorRate: 1, messages: ['acl_interface_set_acl_list'] });
    const moved = await s.pool.sync(StateSnapshot.fromEntries([a, b, acl(['lpB'])], SHARDS), first.applied, { mode });
    t.deepEqual(moved.errors.map((e) => e.key), [aclKey('web')]);
    t.true(moved.readBack >= 1, 'the ACL was read back');
    await s.sim.setFaults({ errorRate: 0 });
    // Before, its delete re-listed only lpB (the new value, and the descriptor's view, name it) and
    // acl_del was refused: the ACL is bound to lpA. Read back, it is deleted with what it holds.
    const gone = await s.pool.sync(StateSnapshot.fromEntries([a, b], SHARDS), moved.applied, { mode });
    t.deepEqual(gone.errors, []);
    const snap = await s.sim.snapshot();
    t.deepEqual(snap.acls, []);
    t.deepEqual(snap.aclBindings.filter((x) => x.acls.length > 0), []);
  });
}

test('V3, S5: a create whose reply never came is read back by the next sync, which finishes that object instead of making a second one', async (t) => {
  const s = await startOffloadStack({ inlineThreshold: 0, stallTimeout: 300, workers: true, rings: true });
  t.teardown(() => s.close());
  const a = loopback('lpA', 0, '172.16.50.1/24');
  const desired = StateSnapshot.fromEntries([a], SHARDS);
  // Stalled until lifted: the create is read after the sync gave up on its reply.
  await s.sim.setFaults({ stallMs: 60_000 });
  const r = await s.pool.sync(desired, StateSnapshot.empty(SHARDS), { mode: 'pool' });
  t.deepEqual(r.errors.map((e) => [e.key, (e.error as { code?: string }).code]), [[a[0], 'ERR_REPLY_TIMEOUT']]);
  t.is(r.readBack, 0, 'no read-back from a dataplane that does not answer: the next sync does it');
  await s.sim.setFaults({ stallMs: 0 });
  const next = await s.pool.sync(desired, r.applied, { mode: 'pool' });
  t.deepEqual(next.errors, []);
  t.is(next.readBack, 1);
  const ifs = (await s.sim.snapshot()).interfaces.filter((i) => i.tag === 'lpA');
  t.is(ifs.length, 1, 'one lpA: the one the stalled create made');
  t.is(s.pool.metadata.get(a[0]), ifs[0]?.sw_if_index);
  t.is((await s.pool.sync(desired, next.applied, { mode: 'pool' })).ops, 0, 'nothing left to do');
});

test('S5: options.readBack must be a boolean', async (t) => {
  const s = await startOffloadStack({ inlineThreshold: 0 });
  t.teardown(() => s.close());
  await t.throwsAsync(OffloadPool.start({ connector: s.connector, readBack: 'yes' as unknown as boolean }), { instanceOf: TypeError, message: /options\.readBack must be a boolean/ });
});

for (const mode of ['pool', 'inline'] as const) {
  // Serial: the failing switch is one per thread.
  test.serial(`S5: keys whose read-back fails are read by the next sync before its diff (${mode})`, async (t) => {
    const descriptorsModule = new URL('./fixtures/offload-unreadable-descriptors.js', import.meta.url).href;
    const { failInterfaceReads } = (await import(descriptorsModule)) as typeof import('./fixtures/offload-unreadable-descriptors.js');
    const s = await startOffloadStack({ inlineThreshold: 0, descriptorsModule });
    t.teardown(() => {
      failInterfaceReads(false);
      return s.close();
    });
    // A create refused as "exists": its object is there, which only a read-back tells.
    const made = await s.connector.request('create_loopback', { tag: 'lpA' });
    const a = loopback('lpA', 0, '172.16.60.1/24');
    const desired = StateSnapshot.fromEntries([a], SHARDS);
    failInterfaceReads(true);
    const r = await s.pool.sync(desired, StateSnapshot.empty(SHARDS), { mode });
    t.deepEqual(r.errors.map((e) => e.key), [a[0]]);
    t.is(r.readBack, 0, 'the read-back failed');
    t.is(r.applied.get(a[0]), undefined, 'what the replies tell: not applied');
    failInterfaceReads(false);
    const next = await s.pool.sync(desired, r.applied, { mode });
    t.is(next.readBack, 1, 'read first');
    t.deepEqual(next.errors, [], 'the object found is updated, not created again');
    t.deepEqual((await s.sim.snapshot()).interfaces.filter((i) => i.tag === 'lpA').map((i) => i.sw_if_index), [made['sw_if_index']]);
  });
}
