// Failures, revert and retry over the fake dataplane test double (test/helpers/scheduler-fake-dataplane.ts).
import test from 'ava';
import { TransactionError } from '../src/api/errors.js';
import { SchedulerClosedError } from '../src/scheduler/index.js';
import { fakeScheduler, kv, T } from './helpers/scheduler-setup.js';
import { thing } from './helpers/scheduler-fake-dataplane.js';

test('S5: a failed operation is a per-key error; other keys of a best-effort commit still run', async (t) => {
  const { dp, s } = fakeScheduler();
  t.teardown(() => s.close());
  dp.failNext('thing_add');
  const r = await s.commit(kv({ a: thing(1), b: thing(2), c: thing(3, 'a') }), {});
  t.true(r.error instanceof TransactionError);
  t.is(r.error?.code, 'ERR_TRANSACTION');
  t.deepEqual(r.error?.kvErrors.map((e) => [e.key, (e.error as { code?: string }).code]), [[T('a'), 'ERR_VPP_API']]);
  t.truthy(dp.byName('b'), 'b was created despite a failing');
  t.falsy(dp.byName('c'), 'c depends on the failed a: not sent');
  t.is(s.getStatus(T('a'))?.state, 'failed');
  t.is(s.getStatus(T('c'))?.state, 'pending');
  const rec = s.getRecordedTransaction(r.seqNum);
  t.is(rec?.executed.find((o) => o.key === T('a'))?.error, r.error?.kvErrors[0]?.error);
  // The next commit of the same value re-reads the failed key and finishes the job.
  const r2 = await s.commit(kv({ a: thing(1) }), {});
  t.is(r2.error, null);
  t.truthy(dp.byName('c'));
  t.is(s.getStatus(T('c'))?.state, 'configured');
});

test('S5: with revert, the first failure undoes every executed operation and restores the desired state', async (t) => {
  const { dp, s } = fakeScheduler();
  t.teardown(() => s.close());
  await s.commit(kv({ a: thing(1), gone: thing(5) }), {});
  dp.failNext('thing_add');
  // Wave 1: update a, delete gone, create p (fails) -> revert.
  const r = await s.commit(kv({ a: thing(2), gone: null, p: thing(3), q: thing(4, 'p') }), { revert: true });
  t.true(r.error instanceof TransactionError);
  t.deepEqual(r.error?.kvErrors.map((e) => e.key), [T('p')]);
  t.is(dp.byName('a')?.x, 1, 'update undone');
  t.truthy(dp.byName('gone'), 'delete undone');
  t.falsy(dp.byName('p'));
  t.falsy(dp.byName('q'));
  const nb = await s.dump('', 'nb');
  t.deepEqual([...nb.keys()].sort(), [T('a'), T('gone')]);
  t.deepEqual(nb.get(T('a')), { name: 'a', x: 1 });
  const rec = s.getRecordedTransaction(r.seqNum);
  t.true(rec?.executed.some((o) => o.note?.startsWith('revert')));
  t.is(s.getStatus(T('a'))?.state, 'configured');
  t.deepEqual(s.getStatus(T('p')), { state: 'removed' }, 'attempted, then undone');
  t.is(s.getStatus(T('q')), undefined, 'never sent: no trace');
});

test('S5: with revert, an invalid value fails the commit before anything is sent', async (t) => {
  const { dp, s } = fakeScheduler();
  t.teardown(() => s.close());
  const r = await s.commit(kv({ a: thing(1), bad: { x: 'no' } }), { revert: true });
  t.is(r.error?.kvErrors[0]?.error.name, 'InvalidValueError');
  t.is(dp.log.length, 0);
  t.is((await s.dump('', 'nb')).size, 0);
});

test('S5: a dataplane that does not answer fails the wave with the connector error; dependents stay pending', async (t) => {
  const { dp, s } = fakeScheduler();
  t.teardown(() => s.close());
  dp.requestBatch = () => Promise.reject(Object.assign(new Error('reply timeout'), { code: 'ERR_REPLY_TIMEOUT' }));
  const r = await s.commit(kv({ a: thing(1), b: thing(2, 'a') }), {});
  t.deepEqual(r.error?.kvErrors.map((e) => [e.key, (e.error as { code?: string }).code]), [
    [T('a'), 'ERR_REPLY_TIMEOUT'],
  ]);
  t.is(s.getStatus(T('a'))?.state, 'failed');
  t.is(s.getStatus(T('b'))?.state, 'pending');
});

test('S6: failed operations are retried as their own transactions, with exponential backoff', async (t) => {
  const { dp, s } = fakeScheduler();
  t.teardown(() => s.close());
  dp.failNext('thing_add', 3);
  const r = await s.commit(kv({ a: thing(1) }), { retry: { delay: 5, maxAttempts: 5, expBackoff: true } });
  t.truthy(r.error);
  t.is(s.getStatus(T('a'))?.state, 'retrying');
  // Wait for the retries to land: poll the history through the scheduler's own records.
  const done = await waitFor(() => dp.byName('a') !== undefined);
  t.true(done);
  const retries = s.getTransactionHistory().filter((x) => x.origin === 'retry');
  t.is(retries.length, 3);
  t.true(retries.every((x) => x.retryOf === r.seqNum));
  t.deepEqual(retries.map((x) => x.description), [1, 2, 3].map((n) => `retry of transaction ${r.seqNum} (attempt ${n})`));
  const gaps = retries.slice(1).map((x, i) => x.start - (retries[i] as { start: number }).start);
  t.true((gaps[1] ?? 0) >= 10 - 1, 'the third attempt waited at least twice the delay');
  t.is(s.getStatus(T('a'))?.state, 'configured');
});

test('S6: retries stop after maxAttempts and the key stays failed', async (t) => {
  const { dp, s } = fakeScheduler();
  t.teardown(() => s.close());
  dp.failNext('thing_add', 10);
  await s.commit(kv({ a: thing(1) }), { retry: { delay: 1, maxAttempts: 2, expBackoff: false } });
  await waitFor(() => s.getTransactionHistory().filter((x) => x.origin === 'retry').length === 2 && s.getStatus(T('a'))?.state === 'failed');
  t.is(s.getTransactionHistory().filter((x) => x.origin === 'retry').length, 2);
  t.is(s.getStatus(T('a'))?.state, 'failed');
});

test('S6: a retry that meets a newer desired value retries the newer one', async (t) => {
  const { dp, s } = fakeScheduler();
  t.teardown(() => s.close());
  await s.commit(kv({ a: thing(1) }), {});
  dp.failNext('thing_set');
  await s.commit(kv({ a: thing(2) }), { retry: { delay: 20, maxAttempts: 3, expBackoff: false } });
  dp.failNext('thing_set');
  await s.commit(kv({ a: thing(3) }), {}); // fails too, no retry of its own
  await waitFor(() => s.getTransactionHistory().some((x) => x.origin === 'retry'));
  t.is(dp.byName('a')?.x, 3);
  t.is(s.getStatus(T('a'))?.state, 'configured');
});

test('S6: a newer commit that fails a key again takes over its retry: the older commit\'s retries leave the key to it', async (t) => {
  const { dp, s } = fakeScheduler();
  t.teardown(() => s.close());
  dp.failNext('thing_add', 100);
  const retry = { delay: 5, maxAttempts: 2, expBackoff: false };
  const first = await s.commit(kv({ a: thing(1) }), { retry });
  const second = await s.commit(kv({ a: thing(2) }), { retry });
  t.truthy(first.error);
  t.truthy(second.error);
  await waitFor(() => s.getStatus(T('a'))?.state === 'failed');
  await new Promise((r) => setTimeout(r, 50)); // room for a surplus attempt to show up
  const retries = s.getTransactionHistory().filter((x) => x.origin === 'retry');
  t.deepEqual(retries.map((x) => x.retryOf), [second.seqNum, second.seqNum], 'two attempts, both the newer commit\'s');
  t.is(s.getStatus(T('a'))?.state, 'failed');
});

test('S6: an invalid value is not retried; the failed key next to it is', async (t) => {
  const { dp, s } = fakeScheduler();
  t.teardown(() => s.close());
  dp.failNext('thing_add');
  const r = await s.commit(kv({ bad: { x: 'nope' }, a: thing(1) }), { retry: { delay: 1, maxAttempts: 3, expBackoff: false } });
  t.is(r.error?.kvErrors.length, 2);
  await waitFor(() => s.getTransactionHistory().some((x) => x.origin === 'retry'));
  const retries = s.getTransactionHistory().filter((x) => x.origin === 'retry');
  t.is(retries.length, 1);
  t.deepEqual(retries[0]?.executed, [{ key: T('a'), op: 'create', note: 'retry' }]);
  t.is(s.getStatus(T('bad'))?.state, 'invalid');
  t.is(s.getStatus(T('a'))?.state, 'configured');
});

/** Resolves when `cond` holds, checking after each macrotask (bounded). */
async function waitFor(cond: () => boolean, rounds = 2000): Promise<boolean> {
  for (let i = 0; i < rounds; i++) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 2));
  }
  return cond();
}

// Serial: they count or replace the process's timers, which the tests running beside them would change.
test.serial('S6: close() while a resync waits to retry clears that wait\'s timer (nothing keeps the process alive)', async (t) => {
  const { dp, s } = fakeScheduler();
  const timers = () => process.getActiveResourcesInfo().filter((x) => x === 'Timeout').length;
  const before = timers();
  dp.failNext('thing_add');
  const c = s.commit(kv({ a: thing(1) }), { resync: 'full', retry: { delay: 60_000, maxAttempts: 1, expBackoff: false } });
  // The key turns `retrying` as the wait starts.
  while (s.getStatus(T('a'))?.state !== 'retrying') await new Promise((r) => setImmediate(r));
  await s.close();
  const r = await c;
  t.deepEqual(r.error?.kvErrors.map((e) => e.key), [T('a')], 'reports what still failed');
  t.false(r.error?.txnInitError instanceof SchedulerClosedError);
  t.is(timers(), before, 'the 60 s retry timer outlived close()');
});

test.serial('S6: a doubled backoff delay stops at the longest timer delay (2^31-1 ms), in background retries and in a resync\'s own', async (t) => {
  const asked: number[] = [];
  const real = globalThis.setTimeout;
  // Long delays are recorded and fired after 1 ms: Node would fire one past 2^31-1 ms at once.
  globalThis.setTimeout = ((fn: () => void, ms?: number) => {
    if ((ms ?? 0) < 2 ** 29) return real(fn, ms);
    asked.push(ms as number);
    return real(fn, 1);
  }) as typeof setTimeout;
  // The retry timers are unref'd: with no connector of its own, something else keeps the process up.
  const keepAlive = setInterval(() => {}, 1000);
  t.teardown(() => {
    globalThis.setTimeout = real;
    clearInterval(keepAlive);
  });
  const retry = { delay: 2 ** 30, maxAttempts: 2, expBackoff: true };
  for (const resync of [undefined, 'full'] as const) {
    asked.length = 0;
    const { dp, s } = fakeScheduler();
    dp.failNext('thing_add', 3);
    await s.commit(kv({ a: thing(1) }), resync ? { resync, retry } : { retry });
    while (dp.log.length < 3) await new Promise((r) => setImmediate(r));
    t.deepEqual(asked, [2 ** 30, 2 ** 31 - 1], resync ?? 'update');
    await s.close();
  }
});
