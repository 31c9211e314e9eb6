// Misbehaving handlers in the real engine (Controller + Scheduler + simulated VPP engine): one that
// never settles, one that throws something that is not an Error. Each event gets a typed error and
// the loop keeps running.
import test from 'ava';
import { EngineError, type Event, type EventHandler } from '../src/api/index.js';
import { HandlerTimeoutError } from '../src/controller/index.js';
import { TestUpdate, loopback, putsHandler, startTestEngine } from './helpers/flood-engine.js';

const IF = 'config/vpp/v2/interfaces/';

function misbehaving(label: string, update: () => unknown): EventHandler {
  return {
    toString: () => `misbehaving-${label}`,
    handlesEvent: (e: Event) => e instanceof TestUpdate && e.label === label,
    resync: () => {},
    update: update as EventHandler['update'],
    revert: () => {},
  };
}

test('C13 C19: a handler that never settles fails its event with HandlerTimeoutError (handlerTimeout), the loop goes on', async (t) => {
  const never = misbehaving('never', () => new Promise<void>(() => {}));
  const engine = await startTestEngine([putsHandler, never], { handlerTimeout: 50 });
  try {
    const stuck = new TestUpdate('never', new Map([[`${IF}a`, loopback('a')]]));
    engine.controller.pushEvent(stuck);
    const err = await stuck.completion.settled;
    t.true(err instanceof HandlerTimeoutError, String(err));
    t.is((err as HandlerTimeoutError).code, 'ERR_HANDLER_TIMEOUT');
    t.is((err as HandlerTimeoutError).handler, 'misbehaving-never');
    t.is(stuck.completion.calls, 1);
    const after = new TestUpdate('after', new Map([[`${IF}b`, loopback('b')]]));
    engine.controller.pushEvent(after);
    t.is(await after.completion.settled, null);
    const sb = await engine.scheduler.dump(IF, 'sb');
    t.true(sb.has(`${IF}b`));
    t.true(sb.has(`${IF}a`), 'best effort: what the other handler put was still committed');
  } finally {
    await engine.close();
  }
});

test('C19: a handler throwing a non-Error gets it wrapped in a coded EngineError', async (t) => {
  const thrower = misbehaving('str', () => {
    throw 'plain string';
  });
  const engine = await startTestEngine([thrower, putsHandler]);
  try {
    const ev = new TestUpdate('str');
    engine.controller.pushEvent(ev);
    const err = await ev.completion.settled;
    t.true(err instanceof EngineError, String(err));
    t.is((err as EngineError).code, 'ERR_NON_ERROR_THROWN');
    t.regex(String(err?.message), /plain string/);
  } finally {
    await engine.close();
  }
});
