import test from 'ava';
import {
  AbortEventError,
  DBResync,
  EventLoopAbortingError,
  FatalError,
  HealingResync,
  HealingResyncType,
  UpdateTransactionType,
} from '../src/api/index.js';
import { HandlerTimeoutError } from '../src/controller/index.js';
import { TypedUpdate, harness, nextProcessed, tracked, type Harness } from './helpers/controller-fixtures.js';

async function started(names: string[], delayAfterErrorHealing = 5): Promise<Harness> {
  const h = harness(names, { config: { delayAfterErrorHealing } });
  for (const handler of h.handlers) {
    handler.onUpdate = (_ev, txn) => {
      txn.put(`key/${handler.name}`, { by: handler.name });
      return `${handler.name} changed`;
    };
  }
  await h.controller.start();
  const r = tracked(new DBResync());
  h.controller.pushEvent(r);
  await r.settled;
  h.calls.length = 0;
  return h;
}


test('C8: BestEffort records a handler error, goes on, commits and schedules healing', async (t) => {
  const h = await started(['A', 'B', 'C']);
  h.handlers[1]!.onUpdate = () => {
    throw new Error('B broke');
  };
  const healing = nextProcessed(h.controller, 'Healing Resync');
  const ev = tracked(new TypedUpdate(UpdateTransactionType.BestEffort));
  h.controller.pushEvent(ev);
  t.is((await ev.settled)?.message, 'B broke');
  t.deepEqual(h.calls.map((c) => c.handler), ['A', 'B', 'C']);
  const commit = h.scheduler.commits.at(-1)!;
  t.deepEqual([...commit.values.keys()], ['key/A', 'key/C']);
  t.is(commit.options.revert, undefined);
  await healing;
  const healingRec = h.controller.getEventHistory().find((r) => r.name === 'Healing Resync')!;
  t.regex(healingRec.description, /after error: B broke/);
  await h.controller.close();
});

test('C8: BestEffortIgnoreErrors commits the rest and schedules no healing', async (t) => {
  const h = await started(['A', 'B'], 1);
  h.handlers[0]!.onUpdate = () => {
    throw new Error('A broke');
  };
  const ev = tracked(new TypedUpdate(UpdateTransactionType.BestEffortIgnoreErrors));
  h.controller.pushEvent(ev);
  t.is((await ev.settled)?.message, 'A broke');
  t.deepEqual([...h.scheduler.commits.at(-1)!.values.keys()], ['key/B']);
  // A marker event queued after a pause longer than the healing delay: healing would have come first.
  await new Promise((r) => setTimeout(r, 20));
  const marker = tracked(new TypedUpdate(UpdateTransactionType.BestEffort));
  h.controller.pushEvent(marker);
  await marker.settled;
  t.false(h.controller.getEventHistory().some((r) => r.name === 'Healing Resync'));
  await h.controller.close();
});

test('C8: RevertOnFailure stops at the first error, commits nothing and reverts the handlers that ran, newest first', async (t) => {
  const h = await started(['A', 'B', 'C', 'D']);
  h.handlers[2]!.onUpdate = async () => {
    throw new Error('C broke');
  };
  const commitsBefore = h.scheduler.commits.length;
  const ev = tracked(new TypedUpdate(UpdateTransactionType.RevertOnFailure));
  h.controller.pushEvent(ev);
  t.is((await ev.settled)?.message, 'C broke');
  t.is(h.scheduler.commits.length, commitsBefore);
  t.deepEqual(h.calls.map((c) => `${c.stage}:${c.handler}`), ['update:A', 'update:B', 'update:C', 'revert:B', 'revert:A']);
  const rec = h.controller.getEventHistory().at(-1)!;
  t.deepEqual(rec.handlers.map((x) => `${x.revert ? 'revert' : 'update'}:${x.handler}:${x.error?.message ?? ''}`), [
    'update:A:',
    'update:B:',
    'update:C:C broke',
    'revert:B:',
    'revert:A:',
  ]);
  t.is(h.controller.getConfig('key/A'), undefined, 'internal config untouched');
  await h.controller.close();
});

test('C8: RevertOnFailure with a failing commit reverts every handler and does not update internal config', async (t) => {
  const h = await started(['A', 'B']);
  h.scheduler.failKeys.add('key/B');
  const ev = tracked(new TypedUpdate(UpdateTransactionType.RevertOnFailure));
  h.controller.pushEvent(ev);
  const err = await ev.settled;
  t.is((err as { code?: string }).code, 'ERR_TRANSACTION');
  t.true(h.scheduler.commits.at(-1)!.options.revert);
  t.deepEqual(h.calls.map((c) => `${c.stage}:${c.handler}`), ['update:A', 'update:B', 'revert:B', 'revert:A']);
  t.is(h.controller.getConfig('key/A'), undefined);
  await h.controller.close();
});

test('C8: a failed revert is the event error and schedules healing', async (t) => {
  const h = await started(['A', 'B']);
  h.handlers[1]!.onUpdate = () => {
    throw new Error('B broke');
  };
  h.handlers[0]!.onRevert = () => Promise.reject(new Error('revert A broke'));
  const healing = nextProcessed(h.controller, 'Healing Resync');
  const ev = tracked(new TypedUpdate(UpdateTransactionType.RevertOnFailure));
  h.controller.pushEvent(ev);
  t.is((await ev.settled)?.message, 'revert A broke');
  t.is((await healing).result, 'ok');
  await h.controller.close();
});

test('C9: a FatalError stops the event at once, reports error and aborts the loop; later events fail, Shutdown still ends it', async (t) => {
  const h = await started(['A', 'B']);
  h.handlers[0]!.onUpdate = () => {
    throw new FatalError(new Error('disk on fire'));
  };
  const commitsBefore = h.scheduler.commits.length;
  const ev = tracked(new TypedUpdate(UpdateTransactionType.BestEffort));
  const later = tracked(new TypedUpdate(UpdateTransactionType.BestEffort));
  h.controller.pushEvent(ev);
  h.controller.pushEvent(later);
  const err = await ev.settled;
  t.true(err instanceof FatalError);
  t.is((err as FatalError).getOriginalError() instanceof Error, true);
  t.is(err?.message, 'disk on fire');
  t.true((await later.settled) instanceof EventLoopAbortingError);
  t.deepEqual(h.calls.map((c) => c.handler), ['A']);
  t.is(h.scheduler.commits.length, commitsBefore);
  t.true(h.controller.isAborting);
  t.is(h.controller.healthState, 'error');
  t.true(h.status.reports.some((r) => r.state === 'error' && r.err === err));
  await h.controller.close();
  t.true(h.logger.entries.some((e) => e.msg.includes('shutdown event failed')));
});

test('C9: an AbortEventError stops the event, commits nothing, schedules healing; the loop goes on', async (t) => {
  const h = await started(['A', 'B']);
  h.handlers[0]!.onUpdate = (_ev, txn) => {
    txn.put('x', { y: 1 });
    throw new AbortEventError(new Error('not now'));
  };
  const commitsBefore = h.scheduler.commits.length;
  const healing = nextProcessed(h.controller, 'Healing Resync');
  const ev = tracked(new TypedUpdate(UpdateTransactionType.BestEffort));
  h.controller.pushEvent(ev);
  const err = await ev.settled;
  t.true(err instanceof AbortEventError);
  t.is(h.scheduler.commits.length, commitsBefore);
  t.deepEqual(h.calls.map((c) => c.handler), ['A']);
  t.false(h.controller.isAborting);
  await healing;
  t.is(h.scheduler.commits.at(-1)!.options.resync, 'full');
  await h.controller.close();
});

test('C8: handlers throwing non-Error values (strings, undefined, objects) fail the event with an Error', async (t) => {
  const h = await started(['A']);
  for (const thrown of ['a string', undefined, { weird: true }, 42, null]) {
    h.handlers[0]!.onUpdate = () => {
      throw thrown;
    };
    const ev = tracked(new TypedUpdate(UpdateTransactionType.BestEffortIgnoreErrors));
    h.controller.pushEvent(ev);
    const err = await ev.settled;
    t.true(err instanceof Error, String(thrown));
    t.is((err as { code?: string }).code, 'ERR_NON_ERROR_THROWN');
  }
  h.handlers[0]!.onUpdate = () => Promise.reject('rejected with a string');
  const ev = tracked(new TypedUpdate(UpdateTransactionType.BestEffortIgnoreErrors));
  h.controller.pushEvent(ev);
  t.regex((await ev.settled)?.message ?? '', /rejected with a string/);
  await h.controller.close();
});

test('C8: a handler whose promise never settles fails with HandlerTimeoutError when handlerTimeout is set', async (t) => {
  const h = harness(['A', 'B'], { config: { handlerTimeout: 20 } });
  await h.controller.start();
  h.controller.pushEvent(new DBResync());
  h.handlers[0]!.onUpdate = () => new Promise(() => undefined);
  const ev = tracked(new TypedUpdate(UpdateTransactionType.BestEffortIgnoreErrors));
  h.controller.pushEvent(ev);
  const err = await ev.settled;
  t.true(err instanceof HandlerTimeoutError);
  t.is((err as HandlerTimeoutError).code, 'ERR_HANDLER_TIMEOUT');
  t.true(h.calls.some((c) => c.handler === 'B' && c.stage === 'update'), 'the loop went on with the next handler');
  await h.controller.close();
});

test('C14: a failing after-error healing resync is treated as fatal', async (t) => {
  const h = await started(['A']);
  h.handlers[0]!.onResync = () => {
    throw new Error('resync broke');
  };
  const ev = tracked(new HealingResync(HealingResyncType.AfterError, new Error('earlier')));
  h.controller.pushEvent(ev);
  t.is((await ev.settled)?.message, 'resync broke');
  await h.status.waitFor('error');
  t.true(h.controller.isAborting);
  t.is((h.status.reports.at(-1)!.err as { code?: string }).code, 'ERR_HEALING_FAILED');
  await h.controller.close();
});

test('C8/C9: an AbortEventError in a RevertOnFailure update reverts the handlers that ran before it, commits nothing', async (t) => {
  const h = await started(['A', 'B', 'C']);
  h.handlers[1]!.onUpdate = () => {
    throw new AbortEventError('stop here');
  };
  const commitsBefore = h.scheduler.commits.length;
  const ev = tracked(new TypedUpdate(UpdateTransactionType.RevertOnFailure));
  h.controller.pushEvent(ev);
  const err = await ev.settled;
  t.true(err instanceof AbortEventError);
  t.is(err?.message, 'stop here');
  t.is(h.scheduler.commits.length, commitsBefore);
  t.deepEqual(h.calls.map((c) => `${c.stage}:${c.handler}`), ['update:A', 'update:B', 'revert:A']);
  t.false(h.controller.isAborting);
  await h.controller.close();
});

test('C8 C9: an error thrown by handlesEvent() counts as that handler\'s error: fatal aborts, abort stops, RevertOnFailure runs no handler', async (t) => {
  const throwing = (h: Harness, name: string, err: Error) => {
    const handler = h.handlers.find((x) => x.name === name)!;
    handler.handles = (ev) => {
      if (ev instanceof TypedUpdate) throw err;
      return true;
    };
  };
  // FatalError: nothing runs, nothing is committed, the loop aborts.
  {
    const h = await started(['A', 'B', 'C']);
    throwing(h, 'B', new FatalError(new Error('fatal in handlesEvent')));
    const commits = h.scheduler.commits.length;
    const ev = tracked(new TypedUpdate(UpdateTransactionType.BestEffort));
    h.controller.pushEvent(ev);
    t.true((await ev.settled) instanceof FatalError);
    t.deepEqual(h.calls, []);
    t.is(h.scheduler.commits.length, commits);
    t.true(h.controller.isAborting);
    await h.controller.close();
  }
  // AbortEventError: nothing runs or is committed, healing follows, the loop goes on.
  {
    const h = await started(['A', 'B', 'C']);
    throwing(h, 'B', new AbortEventError(new Error('abort in handlesEvent')));
    const commits = h.scheduler.commits.length;
    const healing = nextProcessed(h.controller, 'Healing Resync');
    const ev = tracked(new TypedUpdate(UpdateTransactionType.BestEffort));
    h.controller.pushEvent(ev);
    t.true((await ev.settled) instanceof AbortEventError);
    t.deepEqual(h.calls, []);
    t.is(h.scheduler.commits.length, commits);
    await healing;
    t.false(h.controller.isAborting);
    await h.controller.close();
  }
  // RevertOnFailure: the first handler error stops the update stage, here before any handler ran.
  {
    const h = await started(['A', 'B', 'C'], 1);
    throwing(h, 'B', new Error('handlesEvent broke'));
    const commits = h.scheduler.commits.length;
    const ev = tracked(new TypedUpdate(UpdateTransactionType.RevertOnFailure));
    h.controller.pushEvent(ev);
    t.is((await ev.settled)?.message, 'handlesEvent broke');
    t.deepEqual(h.calls, []);
    t.is(h.scheduler.commits.length, commits);
    const rec = h.controller.getEventHistory().at(-1)!;
    t.deepEqual(rec.handlers.map((r) => `${r.handler}:${r.error?.message ?? ''}`), ['B:handlesEvent broke']);
    await new Promise((r) => setTimeout(r, 20));
    t.false(h.controller.getEventHistory().some((r) => r.name === 'Healing Resync'), 'no healing for a RevertOnFailure handler error');
    await h.controller.close();
  }
  // BestEffort: recorded, the others run and commit (unchanged).
  {
    const h = await started(['A', 'B', 'C']);
    throwing(h, 'B', new Error('handlesEvent broke'));
    const ev = tracked(new TypedUpdate(UpdateTransactionType.BestEffort));
    h.controller.pushEvent(ev);
    t.is((await ev.settled)?.message, 'handlesEvent broke');
    t.deepEqual(h.calls.map((c) => c.handler), ['A', 'C']);
    t.deepEqual([...h.scheduler.commits.at(-1)!.values.keys()], ['key/A', 'key/C']);
    await h.controller.close();
  }
});

// Serial: it counts the process's timers, which concurrent tests would change.
test.serial('C17: a handler thenable whose then() throws fails the event and leaves no handlerTimeout timer behind', async (t) => {
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = timers();
  const h = harness(['A'], { config: { handlerTimeout: 60_000 } });
  h.handlers[0]!.onUpdate = () => ({
    then() {
      throw new Error('bad thenable');
    },
  });
  await h.controller.start();
  h.controller.pushEvent(new DBResync());
  const ev = tracked(new TypedUpdate(UpdateTransactionType.BestEffort));
  h.controller.pushEvent(ev);
  t.is((await ev.settled)?.message, 'bad thenable');
  await h.controller.close();
  t.is(timers(), before);
});

test('C8 C18: reverts are timed like updates: onEvent handlerMs (and so the handler_duration metric) has an entry per revert', async (t) => {
  const h = await started(['A', 'B']);
  h.handlers[1]!.onUpdate = () => {
    throw new Error('B broke');
  };
  h.handlers[0]!.onRevert = () => new Promise((r) => setTimeout(r, 40));
  const info = nextProcessed(h.controller, 'Typed');
  const ev = tracked(new TypedUpdate(UpdateTransactionType.RevertOnFailure));
  h.controller.pushEvent(ev);
  await ev.settled;
  const { handlerMs } = await info;
  t.deepEqual(handlerMs.map((x) => x.handler), ['A', 'B', 'A']);
  t.true(handlerMs[2]!.ms >= 35, `revert took ${handlerMs[2]!.ms} ms`);
  await h.controller.close();
});
