// The default stack starts the offload pool for its scheduler; off switches and option checks.
import test from 'ava';
import type { Value } from '../src/api/values.js';
import { availableParallelism } from 'node:os';
import { SCHEDULER_POOL_MIN_CORES, SCHEDULER_POOL_THRESHOLD, schedulerPoolThreshold, startDefaultStack } from '../src/engine/index.js';
import { Scheduler, SchedulerClosedError } from '../src/scheduler/index.js';
import { route } from './helpers/offload-stack.js';
import { sorted } from './helpers/schedpool-stack.js';

const workersOn = process.env['ENGINE_WORKERS'] !== 'off';

function routes(n: number): Map<string, Value> {
  return new Map(Array.from({ length: n }, (_, i) => route(i) as [string, Value]));
}

test('S1: the default stack hands an offload pool to its scheduler (none with ENGINE_WORKERS=off); a big resync runs through it', async (t) => {
  const stack = await startDefaultStack({ offload: { inlineThreshold: 200 }, connector: { pingInterval: 0 } });
  t.teardown(() => stack.close());
  if (!workersOn) {
    t.is(stack.pool, null);
  } else {
    t.truthy(stack.pool);
    t.true(stack.pool?.workers);
    t.is(stack.pool?.inlineThreshold, 200);
  }
  const r = await stack.scheduler.commit(routes(1000), { resync: 'full' });
  t.is(r.error, null);
  t.deepEqual(sorted(await stack.scheduler.dump('', 'sb')), sorted(await stack.scheduler.dump('', 'nb')));
  t.is((await stack.sim.snapshot()).routes.filter((x) => x.prefix.startsWith('10.')).length, 1000);
});

test('S1: the scheduler\'s pool threshold by cores: never below SCHEDULER_POOL_MIN_CORES (measured slower on 2 cores), SCHEDULER_POOL_THRESHOLD from there', (t) => {
  t.is(SCHEDULER_POOL_MIN_CORES, 4);
  for (const cores of [1, 2, 3]) t.is(schedulerPoolThreshold(cores), Number.MAX_SAFE_INTEGER);
  for (const cores of [4, 64]) t.is(schedulerPoolThreshold(cores), SCHEDULER_POOL_THRESHOLD);
  t.is(schedulerPoolThreshold(), schedulerPoolThreshold(availableParallelism()));
});

test('S1: the default stack\'s pool threshold is the one for this machine\'s cores; a 3,000-route commit applies', async (t) => {
  const stack = await startDefaultStack({ connector: { pingInterval: 0 } });
  t.teardown(() => stack.close());
  if (!workersOn) {
    t.is(stack.pool, null);
    return;
  }
  t.is(stack.pool?.inlineThreshold, schedulerPoolThreshold());
  t.is((await stack.scheduler.commit(routes(3000), {})).error, null);
});

test('S1: offload: false and offload.workers: false leave the pool out; commits run inline', async (t) => {
  for (const offload of [false, { workers: false }] as const) {
    const stack = await startDefaultStack({ offload, connector: { pingInterval: 0 } });
    t.teardown(() => stack.close());
    t.is(stack.pool, null);
    t.is((await stack.scheduler.commit(routes(300), {})).error, null);
    t.is((await stack.scheduler.dump('', 'sb')).size, 300);
  }
});

test('S1: over the postMessage transport the pool runs without producer rings', async (t) => {
  const stack = await startDefaultStack({ offload: { inlineThreshold: 100 }, connector: { pingInterval: 0, transport: 'postMessage' } });
  t.teardown(() => stack.close());
  if (workersOn) t.false(stack.pool?.rings);
  t.is((await stack.scheduler.commit(routes(500), {})).error, null);
  t.is((await stack.scheduler.dump('', 'sb')).size, 500);
});

test('S5: closing the default stack during a pooled commit fails it cleanly; close() resolves once the pool is done', async (t) => {
  const stack = await startDefaultStack({ offload: { inlineThreshold: 100 }, connector: { pingInterval: 0 } });
  const r = stack.scheduler.commit(routes(3000), {});
  await stack.close();
  // Closed before it ran (the commit rejects) or while it ran (each key not applied fails): typed either way.
  const errors = await r.then(
    (res) => (res.error?.kvErrors ?? []).map((e) => e.error),
    (err: unknown) => [err],
  );
  for (const e of errors) t.true(e instanceof SchedulerClosedError, String(e));
  t.is(stack.pool?.workers ?? false, workersOn);
  await t.throwsAsync(stack.scheduler.commit(routes(1), {}), { instanceOf: SchedulerClosedError });
});

test('S1: scheduler options pool and pooledKinds are validated in one place', (t) => {
  const connector = { request: () => Promise.resolve({}), requestBatch: () => Promise.resolve([]), dump: () => Promise.resolve([]), onRestart: () => () => {} };
  t.throws(() => new Scheduler({ connector, pool: {} as never }), { instanceOf: TypeError, message: /options\.pool must be a worker pool .*received an object/ });
  t.throws(() => new Scheduler({ connector, pool: 3 as never }), { instanceOf: TypeError, message: /options\.pool .*received number 3/ });
  t.throws(() => new Scheduler({ connector, pooledKinds: 'vpp-route' as never }), { instanceOf: TypeError, message: /options\.pooledKinds must be an array of descriptor names, received "vpp-route"/ });
  t.throws(() => new Scheduler({ connector, pooledKinds: [''] }), { instanceOf: TypeError, message: /options\.pooledKinds/ });
  t.notThrows(() => new Scheduler({ connector, pooledKinds: [] }));
});
