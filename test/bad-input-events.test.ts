// Malformed events pushed into the real engine (Controller + Scheduler + simulated VPP engine):
// each gets a clear typed error, the loop keeps running, nothing already accepted is lost.
import test from 'ava';
import { EngineError, EventMethodType, type Event } from '../src/api/index.js';
import { InvalidEventError } from '../src/controller/index.js';
import { Completion, TestUpdate, loopback, putsHandler, startTestEngine } from './helpers/flood-engine.js';

/** A valid event after the bad one still gets processed and committed. */
async function loopStillRuns(t: import('ava').ExecutionContext, engine: Awaited<ReturnType<typeof startTestEngine>>, name: string): Promise<void> {
  const ok = new TestUpdate('after', new Map([[`config/vpp/v2/interfaces/${name}`, loopback(name)]]));
  engine.controller.pushEvent(ok);
  t.is(await ok.completion.settled, null);
  t.true((await engine.scheduler.dump('config/vpp/v2/interfaces/', 'sb')).has(`config/vpp/v2/interfaces/${name}`));
}

test('C19: pushEvent of something that is not an Event throws InvalidEventError at once', async (t) => {
  const engine = await startTestEngine([putsHandler]);
  try {
    for (const bad of [null, undefined, 42, 'event', {}, { getName: () => 'x' }, { getName: () => 'x', method: () => 3, isBlocking: () => false }]) {
      const err = t.throws(() => engine.controller.pushEvent(bad as unknown as Event), { instanceOf: InvalidEventError });
      t.is(err?.code, 'ERR_INVALID_EVENT');
    }
    await loopStillRuns(t, engine, 'loop-a');
  } finally {
    await engine.close();
  }
});

test('C13 C19: an event whose getName()/method() throws is finished once with InvalidEventError', async (t) => {
  const engine = await startTestEngine([putsHandler]);
  try {
    const throwingName = { completion: new Completion(), getName(): string { throw new Error('no name'); }, toString: () => 'x', method: () => EventMethodType.Update, isBlocking: () => false, done(err: Error | null) { this.completion.finish(err); } };
    const badMethod = { completion: new Completion(), getName: () => 'Bad Method', toString: () => 'bad', method: () => 42 as unknown as EventMethodType, isBlocking: () => false, done(err: Error | null) { this.completion.finish(err); } };
    engine.controller.pushEvent(throwingName as unknown as Event);
    engine.controller.pushEvent(badMethod as unknown as Event);
    for (const e of [throwingName, badMethod]) {
      const err = await e.completion.settled;
      t.true(err instanceof InvalidEventError, String(err));
      t.is((err as EngineError).code, 'ERR_INVALID_EVENT');
    }
    t.is(throwingName.completion.calls, 1);
    t.is(badMethod.completion.calls, 1);
    await loopStillRuns(t, engine, 'loop-b');
  } finally {
    await engine.close();
  }
});

test('C19: an Update event without transactionType()/direction() is finished with InvalidEventError', async (t) => {
  const engine = await startTestEngine([putsHandler]);
  try {
    const notUpdate = { completion: new Completion(), getName: () => 'Half Update', toString: () => 'half', method: () => EventMethodType.Update, isBlocking: () => false, done(err: Error | null) { this.completion.finish(err); } };
    engine.controller.pushEvent(notUpdate as unknown as Event);
    t.true((await notUpdate.completion.settled) instanceof InvalidEventError);
    await loopStillRuns(t, engine, 'loop-c');
  } finally {
    await engine.close();
  }
});

test('C19: an event whose isBlocking() throws is rejected with InvalidEventError when pushed from a handler', async (t) => {
  let pushed: unknown = null;
  let controllerRef: { pushEvent(e: Event): void } | null = null;
  const pusher = {
    toString: () => 'pusher',
    handlesEvent: (e: Event) => e instanceof TestUpdate && (e as TestUpdate).label === 'push',
    resync: () => {},
    update() {
      try {
        controllerRef?.pushEvent({ getName: () => 'x', toString: () => 'x', method: () => EventMethodType.Update, isBlocking: () => { throw new Error('cannot say'); }, done: () => {} } as Event);
      } catch (err) {
        pushed = err;
      }
    },
    revert: () => {},
  };
  const engine = await startTestEngine([putsHandler, pusher]);
  controllerRef = engine.controller;
  try {
    const e = new TestUpdate('push');
    engine.controller.pushEvent(e);
    await e.completion.settled;
    t.true(pushed instanceof InvalidEventError);
    await loopStillRuns(t, engine, 'loop-d');
  } finally {
    await engine.close();
  }
});
