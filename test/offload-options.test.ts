import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import test from 'ava';
import { OffloadClosedError, OffloadKeyError, OffloadPool, StateSnapshot, WorkerTaskError, envSwitches, DEFAULT_INLINE_THRESHOLD } from '../src/offload/index.js';
import { route, startOffloadStack } from './helpers/offload-stack.js';
import { resolveOffloadOptions } from '../src/offload/options.js';

test('B1: the inline threshold picks inline below it and the pool at or above it', async (t) => {
  const s = await startOffloadStack({ inlineThreshold: 100, workers: true });
  t.teardown(() => s.close());
  t.is(s.pool.inlineThreshold, 100);
  t.is(s.pool.modeFor(99), 'inline');
  t.is(s.pool.modeFor(100), 'pool');
  const small = StateSnapshot.fromEntries(Array.from({ length: 40 }, (_, i) => route(i)), 2);
  const big = StateSnapshot.fromEntries(Array.from({ length: 150 }, (_, i) => route(i)), 2);
  const a = await s.pool.sync(small, StateSnapshot.empty(2));
  t.is(a.mode, 'inline');
  const b = await s.pool.sync(big, a.applied);
  t.is(b.mode, 'pool');
  t.is(b.ops, 110);
  t.deepEqual(b.errors, []);
});

test('B1: a sync reports how long its diff took, within its own wall time, in both modes', async (t) => {
  const s = await startOffloadStack({ inlineThreshold: 0, workers: true });
  t.teardown(() => s.close());
  const state = StateSnapshot.fromEntries(Array.from({ length: 300 }, (_, i) => route(i)), 4);
  for (const mode of ['pool', 'inline'] as const) {
    const t0 = performance.now();
    const r = await s.pool.sync(state, StateSnapshot.empty(4), { mode });
    const wall = performance.now() - t0;
    t.is(r.ops, 300);
    t.true(r.diffMs > 0 && r.diffMs <= wall, `${mode}: diff ${r.diffMs} ms of ${wall} ms`);
    await s.pool.sync(StateSnapshot.empty(4), r.applied, { mode });
  }
});

test('B1: workers off runs every sync inline; rings off still uses the pool (postMessage path)', async (t) => {
  const off = await startOffloadStack({ workers: false, inlineThreshold: 0 });
  t.teardown(() => off.close());
  t.false(off.pool.workers);
  t.false(off.pool.rings);
  const desired = StateSnapshot.fromEntries(Array.from({ length: 60 }, (_, i) => route(i)), 2);
  const r = await off.pool.sync(desired, StateSnapshot.empty(2), { mode: 'pool' });
  t.is(r.mode, 'inline');
  t.deepEqual(r.errors, []);
  const posted = await startOffloadStack({ rings: false, inlineThreshold: 0, workers: true });
  t.teardown(() => posted.close());
  t.true(posted.pool.workers);
  t.false(posted.pool.rings);
  const p = await posted.pool.sync(desired, StateSnapshot.empty(2));
  t.is(p.mode, 'pool');
  t.deepEqual(p.errors, []);
  t.is((await posted.sim.snapshot()).routes.filter((x) => x.prefix.startsWith('10.')).length, 60);
});

test('B1: ENGINE_WORKERS=off and ENGINE_RINGS=off switch the defaults', (t) => {
  const before = { w: process.env['ENGINE_WORKERS'], r: process.env['ENGINE_RINGS'] };
  try {
    process.env['ENGINE_WORKERS'] = 'off';
    t.deepEqual(envSwitches(), { workers: false, rings: false });
    delete process.env['ENGINE_WORKERS'];
    process.env['ENGINE_RINGS'] = 'off';
    t.deepEqual(envSwitches(), { workers: true, rings: false });
    delete process.env['ENGINE_RINGS'];
    t.deepEqual(envSwitches(), { workers: true, rings: true });
  } finally {
    if (before.w === undefined) delete process.env['ENGINE_WORKERS'];
    else process.env['ENGINE_WORKERS'] = before.w;
    if (before.r === undefined) delete process.env['ENGINE_RINGS'];
    else process.env['ENGINE_RINGS'] = before.r;
  }
  t.true(Number.isInteger(DEFAULT_INLINE_THRESHOLD) && DEFAULT_INLINE_THRESHOLD > 0);
});

test('B1: ENGINE_PREENCODE=off switches pre-encoding off by default; the option wins over it', (t) => {
  const before = process.env['ENGINE_PREENCODE'];
  const connector = { createProducerRing: () => undefined, requestBatch: () => undefined } as never;
  try {
    delete process.env['ENGINE_PREENCODE'];
    t.true(resolveOffloadOptions({ connector }).preEncode);
    process.env['ENGINE_PREENCODE'] = 'off';
    t.false(resolveOffloadOptions({ connector }).preEncode);
    t.true(resolveOffloadOptions({ connector, preEncode: true }).preEncode);
  } finally {
    if (before === undefined) delete process.env['ENGINE_PREENCODE'];
    else process.env['ENGINE_PREENCODE'] = before;
  }
});

test('S5 C19: bad options are TypeError/RangeError naming the option; bad sync arguments reject', async (t) => {
  const s = await startOffloadStack({ workers: false });
  t.teardown(() => s.close());
  const connector = s.connector;
  await t.throwsAsync(OffloadPool.start(null as never), { instanceOf: TypeError, message: /options must be an object, received null/ });
  await t.throwsAsync(OffloadPool.start({} as never), { instanceOf: TypeError, message: /options\.connector must be a VppConnector/ });
  await t.throwsAsync(OffloadPool.start({ connector, threads: 0 }), { instanceOf: RangeError, message: /options\.threads must be in 1\.\.64, received 0/ });
  await t.throwsAsync(OffloadPool.start({ connector, threads: 1.5 }), { instanceOf: TypeError, message: /options\.threads must be an integer/ });
  await t.throwsAsync(OffloadPool.start({ connector, inlineThreshold: -1 }), { instanceOf: RangeError, message: /options\.inlineThreshold/ });
  await t.throwsAsync(OffloadPool.start({ connector, workers: 'yes' as never }), { instanceOf: TypeError, message: /options\.workers must be a boolean, received "yes"/ });
  await t.throwsAsync(OffloadPool.start({ connector, rings: 1 as never }), { instanceOf: TypeError, message: /options\.rings must be a boolean/ });
  await t.throwsAsync(OffloadPool.start({ connector, preEncode: 'no' as never }), { instanceOf: TypeError, message: /options\.preEncode must be a boolean, received "no"/ });
  await t.throwsAsync(OffloadPool.start({ connector, taskTimeout: -1 }), { instanceOf: RangeError, message: /options\.taskTimeout must be in 0\.\.86400000, received -1/ });
  await t.throwsAsync(OffloadPool.start({ connector, workerNice: 20 }), { instanceOf: RangeError, message: /options\.workerNice must be in 0\.\.19, received 20/ });
  await t.throwsAsync(OffloadPool.start({ connector, workerNice: '5' as never }), { instanceOf: TypeError, message: /options\.workerNice must be an integer, received "5"/ });
  await t.throwsAsync(OffloadPool.start({ connector, descriptorsModule: './x.js' }), { instanceOf: TypeError, message: /options\.descriptorsModule must be a file: URL/ });
  const e = StateSnapshot.empty(2);
  await t.throwsAsync(s.pool.sync({} as never, e), { instanceOf: TypeError, message: /desired: expected a StateSnapshot/ });
  await t.throwsAsync(s.pool.sync(e, StateSnapshot.empty(3)), { instanceOf: RangeError, message: /applied: expected 2 shards/ });
  await t.throwsAsync(s.pool.sync(e, e, { mode: 'fast' as never }), { instanceOf: TypeError, message: /options\.mode/ });
  t.throws(() => StateSnapshot.fromEntries([], 0), { instanceOf: RangeError, message: /shardCount/ });
  t.throws(() => StateSnapshot.fromEntries([['a', {}], ['a', {}]], 1), { instanceOf: TypeError, message: /duplicate key a/ });
});

/** Nice values of this process's threads above the process's own (Linux: one stat file per thread). */
function lowered(): number[] {
  const own = getPriority();
  return readdirSync('/proc/self/task')
    .map((tid) => {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    })
    .filter((n) => n > own);
}

// Serial: ava runs serial tests before the concurrent ones, so no other pool's threads are counted.
test.serial('B1: the pool threads run workerNice lower than the process, each thread alone; 0 leaves them as they are', async (t) => {
  if (!existsSync('/proc/self/task')) return t.pass('no per-thread stat files on this system');
  const before = lowered().length;
  const s = await startOffloadStack({ workers: true, threads: 2, workerNice: 7 });
  t.teardown(() => s.close());
  // A sync makes sure both threads have loaded the task module (warm pools start them up front).
  const desired = StateSnapshot.fromEntries(Array.from({ length: 60 }, (_, i) => route(i)), 2);
  t.deepEqual((await s.pool.sync(desired, StateSnapshot.empty(2), { mode: 'pool' })).errors, []);
  const nices = lowered();
  t.is(nices.length - before, 2, `two threads lowered (${nices.join(', ')})`);
  t.true(nices.every((n) => n === Math.min(19, getPriority() + 7)));
  t.is(getPriority(), getPriority(0), 'the main thread keeps its priority');
  const plain = await startOffloadStack({ workers: true, threads: 2, workerNice: 0 });
  t.teardown(() => plain.close());
  t.deepEqual((await plain.pool.sync(desired, StateSnapshot.empty(2), { mode: 'pool' })).errors, []);
  t.is(lowered().length, nices.length, 'workerNice 0 lowers nothing');
});

test('S5: error classes carry stable codes', (t) => {
  const table: Array<[Error & { code: string }, string, string]> = [
    [new WorkerTaskError('k', 'died'), 'WorkerTaskError', 'ERR_WORKER_TASK'],
    [new OffloadClosedError(), 'OffloadClosedError', 'ERR_OFFLOAD_CLOSED'],
    [new OffloadKeyError('ERR_INVALID_VALUE', 'k', 'bad'), 'OffloadKeyError', 'ERR_INVALID_VALUE'],
  ];
  for (const [err, name, code] of table) {
    t.is(err.name, name);
    t.is(err.code, code);
    t.true(err.message.length > 0);
  }
});

// More rings than threads lets a worker encode the next segment while the sim still answers the
// last one; fewer makes segments queue for a ring. Either way every reply must land on its own
// segment's keys: with injected errors, exactly the keys reported failed are missing in the sim.
for (const producerRings of [1, 5]) {
  test(`B1 S5: producerRings ${producerRings} with 2 threads: every injected error lands on its own key, every other key is applied`, async (t) => {
    const s = await startOffloadStack({ workers: true, threads: 2, producerRings, inlineThreshold: 0 });
    t.teardown(() => s.close());
    await s.sim.setFaults({ errorRate: 0.1, seed: 7, messages: ['ip_route_add_del'] });
    const entries = Array.from({ length: 3000 }, (_, i) => route(i));
    const r = await s.pool.sync(StateSnapshot.fromEntries(entries, 12), StateSnapshot.empty(12), { mode: 'pool' });
    t.is(r.mode, 'pool');
    t.true(r.errors.length > 150 && r.errors.length < 450, `${r.errors.length} errors`);
    const failed = new Set(r.errors.map((e) => e.key));
    const inSim = new Set((await s.sim.snapshot()).routes.map((x) => x.prefix));
    for (const [key, v] of entries) t.is(inSim.has(v['dstNetwork'] as string), !failed.has(key), key);
  });
}

test('V3 C19: producerRings is validated like the other counts', async (t) => {
  const s = await startOffloadStack({ workers: false });
  t.teardown(() => s.close());
  await t.throwsAsync(OffloadPool.start({ connector: s.connector, producerRings: 0 }), { instanceOf: RangeError, message: /options\.producerRings must be in 1\.\.256, received 0/ });
  await t.throwsAsync(OffloadPool.start({ connector: s.connector, producerRings: 2.5 }), { instanceOf: TypeError, message: /options\.producerRings must be an integer/ });
});
