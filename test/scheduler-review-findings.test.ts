// Regressions from a review of the scheduler and descriptors: each failed before its fix.
import test from 'ava';
import { aclKey, interfaceKey } from '../src/descriptors/index.js';
import { startNativeSim } from '../native-sim/index.js';
import { VppConnector } from '../src/connector/index.js';
import { isDeepStrictEqual } from 'node:util';
import { DescriptorError, Scheduler, type Descriptor } from '../src/scheduler/index.js';
import { fakeScheduler, kv, T } from './helpers/scheduler-setup.js';
import { FakeDataplane, thing, thingDescriptor } from './helpers/scheduler-fake-dataplane.js';
import { realStack, sorted } from './helpers/scheduler-real-stack.js';

/** Resolves when `cond` holds, checking after each macrotask (bounded). */
async function waitFor(cond: () => boolean, rounds = 2000): Promise<boolean> {
  for (let i = 0; i < rounds; i++) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 2));
  }
  return cond();
}

for (const protocol of [6, 17]) {
  test(`S2 S4: an ACL rule naming protocol ${protocol} by number reads back as committed; a full resync right after it is a no-op`, async (t) => {
    const { s } = await realStack(t);
    const acl = new Map([[aclKey('a'), { name: 'a', rules: [{ action: 'PERMIT', ipRule: { ip: { destinationNetwork: '10.0.0.0/8', protocol } } }] }]]);
    t.is((await s.commit(acl, {})).error, null);
    t.deepEqual(sorted(await s.dump('', 'sb')), sorted(await s.dump('', 'nb')));
    const r = await s.commit(acl, { resync: 'full' });
    t.is(r.error, null);
    t.deepEqual(s.getRecordedTransaction(r.seqNum)?.executed, [], 'no drift to fix');
  });
}

test('S4: a startup full resync over a dataplane with memifs of an earlier run creates a new memif', async (t) => {
  const sim = await startNativeSim({ seed: 1 });
  const connector = await VppConnector.connect(sim, { replyTimeout: 2000 });
  t.teardown(async () => {
    await connector.close();
    await sim.close();
  });
  const memif = (name: string) => ({ name, type: 'MEMIF', enabled: true, ipAddresses: [], vrf: 0 });
  const before = new Scheduler({ connector });
  t.is((await before.commit(new Map([[interfaceKey('m1'), memif('m1')]]), { resync: 'full', isStartup: true })).error, null);
  await before.close(); // the agent restarts; the dataplane keeps m1
  const s = new Scheduler({ connector });
  t.teardown(() => s.close());
  const r = await s.commit(new Map([[interfaceKey('m1'), memif('m1')], [interfaceKey('m2'), memif('m2')]]), { resync: 'full', isStartup: true });
  t.is(r.error, null, r.error?.message);
  t.is(s.getStatus(interfaceKey('m2'))?.state, 'configured');
  t.deepEqual(sorted(await s.dump('', 'sb')), sorted(await s.dump('', 'nb')));
});

test('S6: while a resync waits to retry a failed key, the key is retrying, not failed', async (t) => {
  const { dp, s } = fakeScheduler();
  t.teardown(() => s.close());
  dp.failNext('thing_add');
  const done = s.commit(kv({ a: thing(1) }), { resync: 'full', retry: { delay: 60, maxAttempts: 3, expBackoff: false } });
  t.true(await waitFor(() => dp.log.length > 0 && s.getStatus(T('a'))?.state !== 'pending'));
  const waiting = s.getStatus(T('a'));
  t.is(waiting?.state, 'retrying');
  t.is((await done).error, null);
  t.is(s.getStatus(T('a'))?.state, 'configured');
});

/** A scheduler whose first commit leaves `x` dirty (its create failed), so the next commit re-reads it. */
async function dirtyStack(t: import('ava').ExecutionContext) {
  const { sim, s } = await realStack(t, 1, 300);
  await sim.setFaults({ errorRate: 1, messages: ['create_loopback'] });
  await s.commit(new Map([[interfaceKey('x'), { name: 'x', type: 'SOFTWARE_LOOPBACK' }]]), {});
  await sim.setFaults({ errorRate: 0, messages: [] });
  return { sim, s };
}

test('S5: a revert commit that fails before planning (the re-read times out) leaves no desired value behind', async (t) => {
  const { sim, s } = await dirtyStack(t);
  await sim.setFaults({ stallMs: 800 });
  const y = interfaceKey('y');
  const r = await s.commit(new Map([[interfaceKey('x'), { name: 'x', type: 'SOFTWARE_LOOPBACK' }], [y, { name: 'y', type: 'SOFTWARE_LOOPBACK', enabled: true }]]), { revert: true });
  t.truthy(r.error?.txnInitError);
  t.false((await s.dump('', 'nb')).has(y), 'y is not desired: the transaction committed nothing');
  t.is(s.getStatus(y), undefined);
  await new Promise((res) => setTimeout(res, 900));
  const later = await s.commit(new Map(), { resync: 'downstream' });
  t.false(s.getRecordedTransaction(later.seqNum)?.executed.some((e) => e.key === y), 'a later resync does not make y');
});

test('S6: keys of a commit that failed before planning carry the error and are retried with its retry options', async (t) => {
  const { sim, s } = await dirtyStack(t);
  await sim.setFaults({ stallMs: 600 });
  const y = interfaceKey('y');
  const r = await s.commit(new Map([[interfaceKey('x'), { name: 'x', type: 'SOFTWARE_LOOPBACK' }], [y, { name: 'y', type: 'SOFTWARE_LOOPBACK' }]]), {
    retry: { delay: 100, maxAttempts: 5, expBackoff: false },
  });
  t.truthy(r.error?.txnInitError);
  t.is(s.getStatus(y)?.state, 'retrying');
  t.true(await waitFor(() => s.getStatus(y)?.state === 'configured' && s.getStatus(interfaceKey('x'))?.state === 'configured', 3000), JSON.stringify(s.getStatus(y)));
  t.true(s.getTransactionHistory().some((h) => h.retryOf === r.seqNum));
});

test('S5: in revert mode an empty key fails the whole transaction before anything is sent, as an invalid value does', async (t) => {
  const { sim, s } = await realStack(t);
  const before = await sim.counters();
  const x = interfaceKey('x');
  const r = await s.commit(new Map([['', { name: 'e' }], [x, { name: 'x', type: 'SOFTWARE_LOOPBACK' }]]), { revert: true });
  t.deepEqual(r.error?.kvErrors.map((e) => [e.key, (e.error as { code?: string }).code]), [['', 'ERR_INVALID_KEY']]);
  t.is(s.getStatus(x), undefined);
  t.deepEqual(await sim.counters(), before, 'nothing was sent');
  // Without revert the other keys still commit.
  const plain = await s.commit(new Map([['', { name: 'e' }], [x, { name: 'x', type: 'SOFTWARE_LOOPBACK' }]]), {});
  t.deepEqual(plain.error?.kvErrors.map((e) => e.key), ['']);
  t.is(s.getStatus(x)?.state, 'configured');
});

test('S1 S5: a user descriptor with a wrong shape is refused at registration, and one that returns the wrong thing fails its key, typed', async (t) => {
  const { s } = await realStack(t);
  const base = (name: string, prefix: string, extra: Record<string, unknown> = {}) =>
    ({
      name,
      keyPrefix: prefix,
      validate: (_k: string, v: unknown) => v,
      dependencies: () => [],
      create: () => ({ requests: [{ name: 'control_ping', fields: {} }] }),
      delete: () => [{ name: 'control_ping', fields: {} }],
      ...extra,
    }) as unknown as Parameters<typeof s.registerDescriptor>[0];
  t.throws(() => s.registerDescriptor(base('num-update', 'my/n/', { update: 5 })), { instanceOf: TypeError, message: /update must be a function when given/ });
  t.throws(() => s.registerDescriptor(base('str-retrieve', 'my/r/', { retrieve: 'yes' })), { instanceOf: TypeError, message: /retrieve must be a function/ });
  t.throws(() => s.registerDescriptor(base('bad-deps', 'my/d/', { retrieveDependencies: 'vpp-interface' })), { instanceOf: TypeError, message: /retrieveDependencies/ });
  s.registerDescriptor(base('arr-create', 'my/arr/', { create: () => [{ name: 'control_ping', fields: {} }] }));
  s.registerDescriptor(base('void-validate', 'my/void/', { validate: () => undefined }));
  s.registerDescriptor(base('void-delete', 'my/vdel/', { delete: () => undefined }));
  const r1 = await s.commit(new Map([['my/arr/a', { x: 1 }]]), {});
  t.is((r1.error?.kvErrors[0]?.error as { code?: string }).code, 'ERR_DESCRIPTOR');
  t.is(s.getStatus('my/arr/a')?.state, 'failed');
  const r2 = await s.commit(new Map([['my/void/a', { x: 1 }]]), {});
  t.is((r2.error?.kvErrors[0]?.error as { code?: string }).code, 'ERR_INVALID_VALUE');
  t.is(s.getStatus('my/void/a')?.state, 'invalid', 'not taken for a delete');
  t.is((await s.commit(new Map([['my/vdel/a', { x: 1 }]]), {})).error, null);
  const r3 = await s.commit(new Map([['my/vdel/a', null]]), {});
  t.is((r3.error?.kvErrors[0]?.error as { code?: string }).code, 'ERR_DESCRIPTOR');
  // Every commit resolved and was recorded: the history finds each by number.
  for (const r of [r1, r2, r3]) t.is(s.getRecordedTransaction(r.seqNum)?.seqNum, r.seqNum);
});

test('S7: the transaction history finds a record by number across a gap in the numbers', async (t) => {
  const { TxnHistory } = await import('../src/scheduler/history.js');
  const h = new TxnHistory(8);
  const rec = (seqNum: number) => ({ seqNum, resync: null, description: '', start: 0, stop: 0, planned: [], executed: [], executedMs: [], pending: [], origin: 'commit' as const });
  for (const n of [1, 2, 4, 5, 6]) h.add(rec(n));
  t.is(h.get(5)?.seqNum, 5);
  t.is(h.get(6)?.seqNum, 6);
  t.is(h.get(3), undefined);
  for (let n = 7; n < 20; n++) h.add(rec(n));
  t.is(h.get(19)?.seqNum, 19);
  t.is(h.get(12)?.seqNum, 12);
  t.is(h.get(2), undefined);
});

test('S5 S6: a resync whose retries repair a failed operation still reports the invalid values it met', async (t) => {
  const { sim, s } = await realStack(t);
  const good = interfaceKey('good');
  const bad = interfaceKey('bad');
  const values = new Map<string, Record<string, unknown>>([
    [good, { name: 'good', type: 'SOFTWARE_LOOPBACK' }],
    [bad, { name: 'bad', type: 'ETHERNET' }],
  ]);
  await sim.setFaults({ errorRate: 1, messages: ['create_loopback'] });
  setTimeout(() => void sim.setFaults({ errorRate: 0, messages: [] }), 100);
  const r = await s.commit(values, { resync: 'full', retry: { delay: 300, maxAttempts: 3, expBackoff: false } });
  t.deepEqual(r.error?.kvErrors.map((e) => [e.key, (e.error as { code?: string }).code]), [[bad, 'ERR_INVALID_VALUE']]);
  t.is(s.getStatus(good)?.state, 'configured', 'the retry repaired it');
  t.is(s.getStatus(bad)?.state, 'invalid');
});

test('S5 S7: a user descriptor whose equivalent() or needsRecreate() throws fails that key with a DescriptorError; the commit resolves, is recorded, and the other keys go on', async (t) => {
  const dp = new FakeDataplane();
  const boom = (): never => {
    throw new Error('boom');
  };
  const s = new Scheduler({
    connector: dp,
    descriptors: [
      {
        ...thingDescriptor(),
        // `a` and `c` cannot be compared, `n` cannot tell whether it needs a re-create.
        equivalent: (key, x, y) => (key === T('a') || key === T('c') ? boom() : isDeepStrictEqual(x, y)),
        needsRecreate: (key) => (key === T('n') ? boom() : false),
      },
    ],
  });
  t.teardown(() => s.close());
  const descriptorErrors = (r: Awaited<ReturnType<typeof s.commit>>) =>
    r.error?.kvErrors.map((e) => [e.key, e.error instanceof DescriptorError, (e.error as { code?: string }).code, e.error.message]);
  t.is((await s.commit(kv({ a: thing(1), b: thing(1), n: thing(1) }), {})).error, null);
  // An update (planned): a and n fail, b is updated.
  const r1 = await s.commit(kv({ a: thing(2), b: thing(2), n: thing(2) }), {});
  t.deepEqual(descriptorErrors(r1), [
    [T('a'), true, 'ERR_DESCRIPTOR', `descriptor test-thing: equivalent() of ${T('a')} threw: boom`],
    [T('n'), true, 'ERR_DESCRIPTOR', `descriptor test-thing: needsRecreate() of ${T('n')} threw: boom`],
  ]);
  t.is(s.getRecordedTransaction(r1.seqNum)?.seqNum, r1.seqNum);
  t.is(dp.byName('b')?.x, 2, 'the other key went on');
  t.is(dp.byName('a')?.x, 1, 'nothing sent for the key that cannot be compared');
  const st = s.getStatus(T('a'));
  t.is(st?.state, 'failed');
  t.is(st?.state === 'failed' ? (st.error as { code?: string }).code : '', 'ERR_DESCRIPTOR');
  // A resync (its unchanged-key scan and the planner compare what it read back).
  const r2 = await s.commit(kv({ a: thing(2), b: thing(2) }), { resync: 'full' });
  t.deepEqual(descriptorErrors(r2)?.map((e) => e[0]), [T('a')]);
  t.is(s.getRecordedTransaction(r2.seqNum)?.seqNum, r2.seqNum);
  t.falsy(dp.byName('n'), 'the resync removed n');
  // Revert mode: the key fails the transaction before anything is sent; the desired state is restored.
  const sent = dp.log.length;
  const r3 = await s.commit(kv({ a: thing(3), b: thing(3) }), { revert: true });
  t.deepEqual(descriptorErrors(r3)?.map((e) => e[0]), [T('a')]);
  t.is(dp.log.length, sent, 'nothing sent');
  t.deepEqual((await s.dump(T('b'), 'nb')).get(T('b')), { name: 'b', x: 2 });
  // A commit that fails before planning (the re-read of a dirty key fails) still settles every key.
  dp.failNext('thing_set');
  await s.commit(kv({ b: thing(4) }), {});
  dp.failNext('thing_dump');
  const r5 = await s.commit(kv({ a: thing(5), b: thing(5) }), {});
  t.is((r5.error?.txnInitError as { code?: string } | null)?.code, 'ERR_VPP_API');
  const st5 = s.getStatus(T('a'));
  t.is(st5?.state === 'failed' ? (st5.error as { code?: string }).code : st5?.state, 'ERR_DESCRIPTOR');
  t.is(s.getRecordedTransaction(r5.seqNum)?.seqNum, r5.seqNum);
  // A create that finds its object already there compares it with what was asked (adoption).
  dp.things.set(100, { id: 100, name: 'c', x: 1, parent: null });
  const r4 = await s.commit(kv({ c: thing(1), d: thing(1) }), {});
  t.deepEqual(descriptorErrors(r4)?.map((e) => e.slice(0, 3)), [[T('c'), true, 'ERR_DESCRIPTOR']]);
  t.truthy(dp.byName('d'));
  t.is(s.getRecordedTransaction(r4.seqNum)?.seqNum, r4.seqNum);
});

test('S2: a descriptor retrieve that returns anything but an array of { key, value } fails typed (ERR_DESCRIPTOR), in a dump and in a resync', async (t) => {
  const bad: unknown[] = [
    undefined,
    { key: T('a'), value: {} },
    [null],
    [{ key: 5, value: {} }],
    [{ key: T('a'), value: 'x' }],
    [{ key: T('a'), value: [] }],
    [{ key: T('a'), value: { name: 'a', x: 1 }, metadata: '7' }],
  ];
  for (const got of bad) {
    const s = new Scheduler({ connector: new FakeDataplane(), descriptors: [{ ...thingDescriptor(), retrieve: async () => got as never } satisfies Descriptor] });
    const err = await s.dump('', 'sb').catch((e: unknown) => e);
    t.true(err instanceof DescriptorError, `${JSON.stringify(got)}: ${String(err)}`);
    t.is((err as { code?: string }).code, 'ERR_DESCRIPTOR');
    t.regex((err as Error).message, /^descriptor test-thing: retrieve\(\) returned /);
    const r = await s.commit(kv({ a: thing(1) }), { resync: 'full' });
    t.is((r.error?.txnInitError as { code?: string } | null)?.code, 'ERR_DESCRIPTOR');
    t.is(s.getRecordedTransaction(r.seqNum)?.seqNum, r.seqNum);
    await s.close();
  }
});
