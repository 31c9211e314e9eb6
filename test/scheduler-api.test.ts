// Scheduler API surface over the fake dataplane test double (test/helpers/scheduler-fake-dataplane.ts).
import test from 'ava';
import { Scheduler, SchedulerClosedError, DescriptorRegistrationError } from '../src/scheduler/index.js';
import { fakeScheduler, kv, T } from './helpers/scheduler-setup.js';
import { FakeDataplane, thing, thingDescriptor } from './helpers/scheduler-fake-dataplane.js';

test('S7: every commit gets a seqNum and a record with planned/executed ops and timing', async (t) => {
  const { s } = fakeScheduler();
  t.teardown(() => s.close());
  const before = Date.now();
  const r1 = await s.commit(kv({ a: thing(1) }), { description: 'first' });
  const r2 = await s.commit(kv({ a: null }), { description: 'second' });
  t.is(r2.seqNum, r1.seqNum + 1);
  const rec = s.getRecordedTransaction(r1.seqNum);
  t.is(rec?.description, 'first');
  t.is(rec?.resync, null);
  t.deepEqual(rec?.planned, [{ key: T('a'), op: 'create' }]);
  t.deepEqual(rec?.executed, [{ key: T('a'), op: 'create' }]);
  // Each executed operation's time, beside it: when its result came within the transaction (S7).
  t.is(rec?.executedMs.length, 1);
  const ms = rec?.executedMs[0] ?? -1;
  t.true(ms >= 0 && ms <= (rec?.stop ?? 0) - (rec?.start ?? 0) + 1, `ms ${ms}`);
  t.true((rec?.start ?? 0) >= before && (rec?.stop ?? 0) >= (rec?.start ?? Infinity));
  t.deepEqual(s.getRecordedTransaction(r2.seqNum)?.executed, [{ key: T('a'), op: 'delete' }]);
  t.is(s.getRecordedTransaction(9999), undefined);
});

test('S7: the history is bounded and filtered by time', async (t) => {
  const { s } = fakeScheduler(3);
  t.teardown(() => s.close());
  const seqs: number[] = [];
  for (let i = 0; i < 5; i++) seqs.push((await s.commit(kv({ a: thing(i) }), {})).seqNum);
  const h = s.getTransactionHistory();
  t.deepEqual(h.map((x) => x.seqNum), seqs.slice(2));
  t.is(s.getRecordedTransaction(seqs[0] as number), undefined, 'overwritten');
  t.is(s.getRecordedTransaction(seqs[4] as number)?.seqNum, seqs[4]);
  t.deepEqual(s.getTransactionHistory({ since: Date.now() + 60_000 }), []);
  t.deepEqual(s.getTransactionHistory({ until: 0 }), []);
  t.is(s.getTransactionHistory({ since: 0, until: Date.now() + 1 }).length, 3);
});

test('S1: dump views: nb = desired, cached = applied, sb = read from the dataplane', async (t) => {
  const { dp, s } = fakeScheduler();
  t.teardown(() => s.close());
  await s.commit(kv({ a: thing(1), b: thing(2, 'missing') }), {});
  t.deepEqual([...(await s.dump('', 'nb')).keys()].sort(), [T('a'), T('b')]);
  t.deepEqual([...(await s.dump('', 'cached')).keys()], [T('a')]);
  t.deepEqual(await s.dump('', 'sb'), new Map([[T('a'), { name: 'a', x: 1 }]]));
  (dp.byName('a') as { x: number }).x = 7; // drift behind the scheduler's back
  t.deepEqual((await s.dump(T('a'), 'sb')).get(T('a')), { name: 'a', x: 7 });
  t.deepEqual((await s.dump(T('a'), 'cached')).get(T('a')), { name: 'a', x: 1 });
  t.is((await s.dump('other/', 'nb')).size, 0);
  await t.throwsAsync(() => s.dump('', 'xx' as 'nb'), { instanceOf: TypeError, message: /view/ });
});

test('S2: invalid values are reported per key, never sent, and kept out of the applied state', async (t) => {
  const { dp, s } = fakeScheduler();
  t.teardown(() => s.close());
  await s.commit(kv({ a: thing(1) }), {});
  const r = await s.commit(kv({ a: { x: 'not a number' }, b: thing(2), c: 42 as never }), {});
  t.deepEqual(r.error?.kvErrors.map((e) => [e.key, (e.error as { code?: string }).code]).sort(), [
    [T('a'), 'ERR_INVALID_VALUE'],
    [T('c'), 'ERR_INVALID_VALUE'],
  ]);
  const st = s.getStatus(T('a'));
  t.is(st?.state, 'invalid');
  t.regex(st?.state === 'invalid' ? st.error.message : '', /x must be a number/);
  t.falsy(dp.byName('a'), 'the old valid value was removed');
  t.truthy(dp.byName('b'));
  t.false((await s.dump('', 'nb')).has(T('a')));
  // A valid value again heals it.
  await s.commit(kv({ a: thing(3) }), {});
  t.is(s.getStatus(T('a'))?.state, 'configured');
});

test('S2: a key no descriptor handles is kept as desired state and reported unimplemented', async (t) => {
  const { dp, s } = fakeScheduler();
  t.teardown(() => s.close());
  const r = await s.commit(new Map([['nobody/handles/this', { a: 1 }]]), {});
  t.is(r.error, null);
  const st = s.getStatus('nobody/handles/this');
  t.is(st?.state, 'unimplemented');
  t.is(st?.state === 'unimplemented' ? (st.error as { code?: string }).code : '', 'ERR_UNIMPLEMENTED_KEY');
  t.deepEqual((await s.dump('nobody/', 'nb')).get('nobody/handles/this'), { a: 1 });
  t.is(dp.log.length, 0);
});

test('S2: users register their own descriptors; clashes are typed errors', async (t) => {
  const dp = new FakeDataplane();
  const s = new Scheduler({ connector: dp, descriptors: [] });
  t.teardown(() => s.close());
  await s.commit(new Map([['test/thing/a', thing(1)]]), {});
  t.is(s.getStatus('test/thing/a')?.state, 'unimplemented');
  s.registerDescriptor(thingDescriptor());
  await s.commit(new Map([['test/thing/a', thing(1)]]), {});
  t.is(s.getStatus('test/thing/a')?.state, 'configured');
  t.truthy(dp.byName('a'));
  const e = t.throws(() => s.registerDescriptor(thingDescriptor()), { instanceOf: DescriptorRegistrationError });
  t.is(e?.code, 'ERR_DESCRIPTOR_REGISTRATION');
  t.throws(() => s.registerDescriptor({ ...thingDescriptor(), name: 'x', keyPrefix: '' }), { instanceOf: TypeError, message: /keyPrefix/ });
  t.throws(() => s.registerDescriptor({ ...thingDescriptor(), name: 'y', keyPrefix: 'z/', create: 1 as never }), {
    instanceOf: TypeError,
    message: /create must be a function/,
  });
});

test('S2: options and commit arguments are validated with clear errors', async (t) => {
  const dp = new FakeDataplane();
  t.throws(() => new Scheduler(undefined as never), { instanceOf: TypeError, message: /options must be an object/ });
  t.throws(() => new Scheduler({ connector: {} as never }), { instanceOf: TypeError, message: /options.connector/ });
  t.throws(() => new Scheduler({ connector: dp, historySize: 0 }), { instanceOf: RangeError, message: /historySize must be >= 1, received 0/ });
  t.throws(() => new Scheduler({ connector: dp, historySize: 1.5 }), { instanceOf: TypeError, message: /historySize/ });
  t.throws(() => new Scheduler({ connector: dp, descriptors: 'x' as never }), { instanceOf: TypeError, message: /descriptors/ });
  const s = new Scheduler({ connector: dp, descriptors: [thingDescriptor()] });
  t.teardown(() => s.close());
  await t.throwsAsync(() => s.commit({} as never, {}), { instanceOf: TypeError, message: /values must be a Map/ });
  await t.throwsAsync(() => s.commit(new Map(), { resync: 'sideways' as never }), { instanceOf: TypeError, message: /options.resync/ });
  await t.throwsAsync(() => s.commit(new Map(), { retry: { delay: -1, maxAttempts: 1, expBackoff: false } }), { instanceOf: RangeError, message: /retry.delay/ });
  // setTimeout would run a delay over 2^31-1 ms after 1 ms: a retry storm, not a long wait.
  await t.throwsAsync(() => s.commit(new Map(), { retry: { delay: 2 ** 31, maxAttempts: 1, expBackoff: false } }), { instanceOf: RangeError, message: /retry.delay .*2147483647/ });
  // A string "false" is truthy: it must not switch revert on.
  await t.throwsAsync(() => s.commit(new Map(), { revert: 'false' as never }), { instanceOf: TypeError, message: /options.revert must be a boolean/ });
  await t.throwsAsync(() => s.commit(new Map(), { isStartup: 1 as never }), { instanceOf: TypeError, message: /options.isStartup must be a boolean/ });
  await t.throwsAsync(() => s.commit(new Map(), { revrt: true } as never), { instanceOf: TypeError, message: /options.revrt is not a commit option/ });
  await t.throwsAsync(() => s.commit(new Map([[5 as never, null]]), {}), { instanceOf: TypeError, message: /key/ });
});

test('S5: close() fails in-flight operations with a typed error, cancels retries, and twice is harmless', async (t) => {
  const { dp, s } = fakeScheduler();
  dp.failNext('thing_add');
  await s.commit(kv({ r: thing(1) }), { retry: { delay: 60_000, maxAttempts: 3, expBackoff: false } });
  t.is(s.getStatus(T('r'))?.state, 'retrying');
  dp.stall();
  const inflight = s.commit(kv({ a: thing(1) }), {});
  const queued = s.commit(kv({ b: thing(1) }), {});
  await new Promise((r) => setImmediate(r));
  const closing = s.close();
  const r = await inflight;
  t.is(r.error?.kvErrors[0]?.error instanceof SchedulerClosedError, true);
  t.is((r.error?.kvErrors[0]?.error as { code?: string }).code, 'ERR_SCHEDULER_CLOSED');
  await t.throwsAsync(queued, { instanceOf: SchedulerClosedError });
  await closing;
  await s.close();
  t.is(s.getStatus(T('r'))?.state, 'failed', 'the cancelled retry leaves the key failed');
  await t.throwsAsync(() => s.commit(kv({ c: thing(1) }), {}), { instanceOf: SchedulerClosedError });
  dp.release();
});

test('S5: close() fails a descriptor retrieve that never settles (a resync\'s read, a create\'s read-back) with SchedulerClosedError', async (t) => {
  t.timeout(20_000); // before the fix close() never resolved
  for (const readBack of [false, true]) {
    const dp = new FakeDataplane();
    let called!: () => void;
    const reading = new Promise<void>((resolve) => (called = resolve));
    const s = new Scheduler({
      connector: dp,
      descriptors: [
        {
          ...thingDescriptor(),
          retrieve: () => {
            called();
            return new Promise(() => {});
          },
        },
      ],
    });
    // A create refused as "already exists" reads the object back (adoption); a full resync reads everything.
    if (readBack) dp.things.set(100, { id: 100, name: 'a', x: 1, parent: null });
    const c = s.commit(kv({ a: thing(1) }), readBack ? {} : { resync: 'full' });
    await reading;
    await s.close();
    const r = await c;
    if (readBack) t.deepEqual(r.error?.kvErrors.map((e) => (e.error as { code?: string }).code), ['ERR_VPP_API'], 'the create keeps its own error');
    else t.true(r.error?.txnInitError instanceof SchedulerClosedError, String(r.error));
    t.is(s.getRecordedTransaction(r.seqNum)?.seqNum, r.seqNum);
  }
});

test('S2: keys committed before their descriptor is registered are taken over by it: pending at once, applied by the next commit or resync', async (t) => {
  for (const next of ['resync', 'commit'] as const) {
    const dp = new FakeDataplane();
    const s = new Scheduler({ connector: dp, descriptors: [] });
    t.teardown(() => s.close());
    await s.commit(kv({ a: thing(1), b: thing(1, 'a'), bad: { x: 'no' } }), {});
    t.is(s.getStatus(T('a'))?.state, 'unimplemented');
    s.registerDescriptor(thingDescriptor());
    t.deepEqual(s.getStatus(T('a')), { state: 'pending', details: [] }, 'no longer "no descriptor handles key"');
    t.deepEqual(s.getStatus(T('b')), { state: 'pending', details: [`waiting for ${T('a')}`] });
    t.is(s.getStatus(T('bad'))?.state, 'invalid', 'validated as a commit would');
    t.deepEqual((await s.dump(T('a'), 'nb')).get(T('a')), { name: 'a', x: 1 }, 'normalized');
    const r = next === 'resync' ? await s.resyncDownstream() : await s.commit(kv({ z: thing(1) }), {});
    t.is(r.error, null, `${next}: ${r.error?.message ?? ''}`);
    for (const k of next === 'resync' ? ['a', 'b'] : ['a', 'b', 'z']) {
      t.is(s.getStatus(T(k))?.state, 'configured', `${next}: ${k}`);
      t.truthy(dp.byName(k));
    }
    t.is(s.getStatus(T('bad'))?.state, 'invalid');
  }
});

test('S1: a commit queued behind another runs on its change set as it was when commit() was called', async (t) => {
  const { dp, s } = fakeScheduler();
  t.teardown(() => s.close());
  dp.stall();
  const first = s.commit(kv({ z: thing(0) }), {});
  const m = kv({ a: thing(1) });
  const queued = s.commit(m, {});
  m.clear(); // the caller reuses its Map
  m.set(T('b'), thing(1));
  dp.release();
  await first;
  t.is((await queued).error, null);
  t.truthy(dp.byName('a'));
  t.falsy(dp.byName('b'));
  t.is(s.getStatus(T('b')), undefined);
});
