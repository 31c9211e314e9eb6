// Failure-path audit of public options: each bad option is a TypeError/RangeError naming it, thrown
// before any thread or socket is started (no crash from destructuring, no option silently ignored).
import test from 'ava';
import { startNativeSim } from '../native-sim/index.js';
import { VppConnector } from '../src/connector/index.js';
import { Engine, startDefaultStack, type DefaultStackOptions, type EngineOptions } from '../src/engine/index.js';
import { runFlood } from '../src/flood/index.js';
import { resolveFloodOptions } from '../src/flood/options.js';
import type { FloodOptions } from '../src/flood/index.js';
import { OffloadPool } from '../src/offload/index.js';

test('C19 N1 V1: Engine.start and startDefaultStack refuse options that are not objects, naming them', async (t) => {
  await t.throwsAsync(Engine.start(undefined as unknown as EngineOptions), { instanceOf: TypeError, message: /^options must be an object.*received undefined/ });
  await t.throwsAsync(Engine.start(null as unknown as EngineOptions), { instanceOf: TypeError, message: /^options must be an object.*received null/ });
  await t.throwsAsync(Engine.start({ handlers: [], stack: 5 } as unknown as EngineOptions), { instanceOf: TypeError, message: /^options\.stack must be an object, received number/ });
  await t.throwsAsync(startDefaultStack(null as unknown as DefaultStackOptions), { instanceOf: TypeError, message: /^options must be an object, received null/ });
  for (const part of ['sim', 'connector', 'scheduler', 'orchestrator'] as const) {
    await t.throwsAsync(startDefaultStack({ [part]: 'x' } as unknown as DefaultStackOptions), { instanceOf: TypeError, message: new RegExp(`^options\\.${part} must be an object, received string`) });
  }
  await t.throwsAsync(startDefaultStack({ offload: 5 } as unknown as DefaultStackOptions), { instanceOf: TypeError, message: /^options\.offload must be an object or false, received number/ });
  await t.throwsAsync(startDefaultStack({ eventLoop: {} } as unknown as DefaultStackOptions), { instanceOf: TypeError, message: /^options\.eventLoop must have a pushEvent\(\) method/ });
});

test.serial('C19 R1: bad orchestrator options, or a scheduler handed to Engine.start, are refused before any thread starts', async (t) => {
  const ports = () => process.getActiveResourcesInfo().filter((r) => r === 'MessagePort' || r === 'Timeout').length;
  const before = ports();
  await t.throwsAsync(startDefaultStack({ orchestrator: { ackTimeout: -1 } }), { instanceOf: RangeError, message: /ackTimeout/ });
  await t.throwsAsync(Engine.start({ handlers: [], stack: { orchestrator: { acceptTimeout: -1 } } }), { instanceOf: RangeError, message: /acceptTimeout/ });
  const scheduler = { commit: async () => ({ seqNum: 1, error: null }), getRecordedTransaction: () => undefined };
  await t.throwsAsync(Engine.start({ handlers: [], scheduler } as unknown as EngineOptions), { instanceOf: TypeError, message: /options\.scheduler/ });
  await t.throwsAsync(Engine.start({ handlers: [], createScheduler: async () => ({ scheduler }) } as unknown as EngineOptions), { instanceOf: TypeError, message: /options\.createScheduler/ });
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.is(ports(), before, 'no thread, port or timer left behind');
});

test('S2: an OffloadPool descriptorsModule that cannot be imported is a TypeError naming the option', async (t) => {
  const sim = await startNativeSim();
  t.teardown(() => sim.close());
  const connector = await VppConnector.connect(sim, { pingInterval: 0 });
  t.teardown(() => connector.close());
  const missing = new URL('./fixtures/audit-no-such-descriptors.js', import.meta.url).href;
  await t.throwsAsync(OffloadPool.start({ connector, descriptorsModule: missing }), { instanceOf: TypeError, message: /^descriptorsModule: cannot import / });
});

test('F1: a misspelt flood option is a TypeError naming it (not a run with the default)', async (t) => {
  t.throws(() => resolveFloodOptions({ evnts: 5 } as unknown as FloodOptions), { instanceOf: TypeError, message: /^evnts is not a flood option/ });
  await t.throwsAsync(runFlood({ evnts: 5 } as unknown as FloodOptions), { instanceOf: TypeError, message: /^evnts is not a flood option/ });
  // Known options still resolve (runFlood takes its own stack/onProgress apart first: flood-run covers it).
  t.is(resolveFloodOptions({ events: 3 }).events, 3);
});

test('N4: a misspelt or non-finite native-sim fault is a TypeError naming it (not a fault silently not injected)', async (t) => {
  const sim = await startNativeSim();
  t.teardown(() => sim.close());
  await t.throwsAsync(sim.setFaults({ stallMS: 100 } as never), { instanceOf: TypeError, message: /^faults\.stallMS is not a fault \(known: .*stallMs/ });
  await t.throwsAsync(sim.setFaults({ errorRate: Number.NaN }), { instanceOf: TypeError, message: /^faults\.errorRate: expected a finite number, received NaN/ });
  await t.notThrowsAsync(sim.setFaults({ errorRate: 0, stallMs: 0, latencyMs: 0, seed: 3, messages: [] }), 'every known fault is accepted');
});
