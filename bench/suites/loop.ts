// The controller's event loop: events/s through 3 handlers with a no-op scheduler (SPEC C1, C11).
// The target figure uses handlers whose keys are made once (a handler's own cost is not the loop's);
// handlers formatting a fresh key string per put are measured too, for the record.
import { AsyncLocalStorage } from 'node:async_hooks';
import { Bench } from 'tinybench';
import {
  DBResync,
  type Event,
  type EventHandler,
  type UpdateOperations,
  type Value,
} from '../../src/api/index.js';
import { Controller } from '../../src/controller/index.js';
import { CountedUpdate, UpdateBatch } from '../counted-update.js';
import { NoopScheduler } from '../noop-scheduler.js';
import { figure, type BenchSuite, type Figure } from '../figure.js';

const BATCH = 10_000;

/** Counts done() calls; the last event of a batch resolves the batch. */
const batch = new UpdateBatch();

const VALUE: Value = Object.freeze({ enabled: true, mtu: 1500 });

type Keys = 'table' | 'formatted';

function handler(name: string, keys: number, async: boolean, how: Keys): EventHandler {
  const first: string[] = [];
  const second: string[] = [];
  for (let i = 0; i < 1024; i++) {
    first.push(`config/${name}/${i}`);
    second.push(`config/${name}/x/${i}`);
  }
  const put =
    how === 'table'
      ? (event: Event, txn: UpdateOperations): void => {
          const id = (event as CountedUpdate).id & 1023;
          txn.put(first[id] as string, VALUE);
          if (keys > 1) txn.put(second[id] as string, VALUE);
        }
      : (event: Event, txn: UpdateOperations): void => {
          const id = (event as CountedUpdate).id;
          txn.put(`config/${name}/${id & 1023}`, VALUE);
          if (keys > 1) txn.put(`config/${name}/x/${id & 1023}`, VALUE);
        };
  return {
    toString: () => name,
    handlesEvent: () => true,
    resync: () => undefined,
    update: async
      ? async (event: Event, txn: UpdateOperations) => {
          put(event, txn);
        }
      : (event: Event, txn: UpdateOperations) => {
          put(event, txn);
        },
    revert: () => undefined,
  };
}

async function makeLoop(async: boolean, how: Keys): Promise<{ controller: Controller; scheduler: NoopScheduler }> {
  const scheduler = new NoopScheduler();
  const controller = new Controller({
    handlers: [handler('h1', 1, async, how), handler('h2', 2, async, how), handler('h3', 1, async, how)],
    scheduler,
    config: { eventQueueSize: BATCH },
  });
  await controller.start();
  const resync = new DBResync();
  let resolve!: () => void;
  const resynced = new Promise<void>((r) => (resolve = r));
  resync.done = () => resolve();
  controller.pushEvent(resync);
  await resynced;
  return { controller, scheduler };
}

/** Pushes one batch and waits until every event of it is done; throws if any was lost or failed. */
async function runBatch(controller: Controller, scheduler: NoopScheduler): Promise<void> {
  const keysBefore = scheduler.keys;
  const finished = batch.expect(BATCH);
  for (let i = 0; i < BATCH; i++) controller.pushEvent(new CountedUpdate(i, batch, 'Bench Update'));
  await finished;
  if (batch.done !== BATCH || batch.errors !== 0 || scheduler.keys - keysBefore !== BATCH * 4) {
    throw new Error(`batch broken: ${batch.done} done, ${batch.errors} errors, ${scheduler.keys - keysBefore} keys`);
  }
}

function eventsPerSec(bench: Bench, name: string, perIteration: number): number {
  const task = bench.getTask(name);
  const r = task?.result;
  if (r === undefined || (r.state !== 'completed' && r.state !== 'aborted-with-statistics')) {
    const why = r?.state === 'errored' ? r.error.message : (r?.state ?? 'missing');
    throw new Error(`bench task ${name} did not complete: ${why}`);
  }
  return (perIteration * 1000) / r.latency.mean;
}

interface LoopFigures {
  readonly rate: number;
  readonly perCpuSecond: number;
  readonly wallRate: number;
}

/**
 * Benchmarks one loop while it is the only controller open: each open controller's AsyncLocalStorage
 * adds work to every promise of the process, so loops measured side by side would slow each other.
 */
async function measureLoop(async: boolean, how: Keys, quick: boolean, cpuBatches: number): Promise<LoopFigures> {
  const { controller, scheduler } = await makeLoop(async, how);
  try {
    const name = `${async ? 'async' : 'sync'} handlers, ${how} keys`;
    const bench = new Bench({ time: quick ? 300 : 3000, warmupTime: quick ? 100 : 1000, iterations: 5 });
    bench.add(name, () => runBatch(controller, scheduler), { async: true });
    await bench.run();
    const rate = eventsPerSec(bench, name, BATCH);
    // The machines are shared: also report events per CPU-second of this process (includes GC helper threads).
    if (cpuBatches === 0) return { rate, perCpuSecond: 0, wallRate: 0 };
    const cpu0 = process.cpuUsage();
    const wall0 = performance.now();
    for (let b = 0; b < cpuBatches; b++) await runBatch(controller, scheduler);
    const cpu = process.cpuUsage(cpu0);
    const wallMs = performance.now() - wall0;
    return {
      rate,
      perCpuSecond: (cpuBatches * BATCH) / ((cpu.user + cpu.system) / 1e6),
      wallRate: (cpuBatches * BATCH * 1000) / wallMs,
    };
  } finally {
    await controller.close();
  }
}

async function run({ quick }: { readonly quick: boolean }): Promise<Record<string, Figure>> {
  const sync = await measureLoop(false, 'table', quick, quick ? 5 : 30);
  const formatted = await measureLoop(false, 'formatted', quick, 0);
  const async = await measureLoop(true, 'table', quick, 0);

  // Follow-up detection costs one ALS store switch per event: enterWith (what the loop does) vs run.
  const bench = new Bench({ time: quick ? 300 : 3000, warmupTime: quick ? 100 : 1000, iterations: 5 });
  const als = new AsyncLocalStorage<{ n: number }>();
  const ALS_N = 100_000;
  let sink = 0;
  const body = (): void => {
    sink += als.getStore()?.n ?? 0;
  };
  bench.add('als enterWith per event', () => {
    for (let i = 0; i < ALS_N; i++) {
      als.enterWith({ n: i });
      body();
    }
    if (sink <= 0) throw new Error('ALS store not seen');
  });
  bench.add('als run per event', () => {
    for (let i = 0; i < ALS_N; i++) als.run({ n: i }, body);
    if (sink <= 0) throw new Error('ALS store not seen');
  });
  await bench.run();
  als.disable();

  const enterRate = eventsPerSec(bench, 'als enterWith per event', ALS_N);
  const runRate = eventsPerSec(bench, 'als run per event', ALS_N);
  return {
    'loop.events': figure(sync.rate, null, 'events/s', 'value >= 500000', sync.rate >= 500_000),
    'loop.formatted-keys-cost': figure(
      formatted.rate,
      sync.rate,
      'events/s',
      'ratio (handlers formatting a key string per put / keys from a table), for the record',
    ),
    'loop.async-handler-cost': figure(async.rate, sync.rate, 'events/s', 'ratio (async / sync handlers), for the record'),
    'loop.events-per-cpu-s': figure(
      sync.perCpuSecond,
      sync.wallRate,
      'events/cpu-s',
      'for the record: value = per CPU-second, baseline = wall-clock rate of the same run',
    ),
    'loop.als-enter-vs-run': figure(enterRate, runRate, 'switches/s', 'for the record: enterWith (used) vs run per event'),
  };
}

export const suite: BenchSuite = { name: 'loop', run };
