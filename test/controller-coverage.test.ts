import test from 'ava';
import {
  DBResync,
  EventLoopAbortingError,
  ExternalConfigResync,
  FatalError,
  HealingResync,
  HealingResyncType,
  KubeStateChange,
  TransactionError,
  UpdateDirectionType,
  UpdateTransactionType,
  VerificationResync,
  newExternalConfigChange,
  type Event,
} from '../src/api/index.js';
import { TypedUpdate, harness, tracked, type Harness } from './helpers/controller-fixtures.js';

const pod = (key: string) => new KubeStateChange({ key, resource: 'pod', newValue: { name: key } });

async function settle<E extends Event>(h: Harness, event: E): Promise<Error | null> {
  const ev = tracked(event);
  h.controller.pushEvent(ev);
  return ev.settled;
}

/** Starts the harness and runs the startup DBResync; clears the recorded calls. */
async function started(h: Harness): Promise<Harness> {
  await h.controller.start();
  const err = await settle(h, new DBResync());
  if (err !== null) throw err;
  h.calls.length = 0;
  return h;
}

const seq = (h: Harness) => h.calls.map((c) => `${c.stage}:${c.handler}`);

test('C12: a second Full resync replaces the internal config: a key only the first resync produced is gone', async (t) => {
  const h = harness(['A']);
  let round = 0;
  h.handlers[0]!.onResync = (_e, _k, _c, txn) => {
    round++;
    if (round === 1) txn.put('k/old', { v: 1 });
    txn.put('k/keep', { v: round });
  };
  let seenDuringUpdate: unknown = 'not called';
  h.handlers[0]!.onUpdate = () => {
    seenDuringUpdate = h.controller.getConfig('k/old');
  };
  t.teardown(() => h.controller.close());
  await h.controller.start();
  t.is(await settle(h, new DBResync()), null);
  t.deepEqual(h.controller.getConfig('k/old'), { v: 1 }, 'the first resync put k/old');
  t.is(await settle(h, new DBResync()), null);
  t.is(h.controller.getConfig('k/old'), undefined, 'k/old did not survive the second full resync');
  t.deepEqual(h.controller.getConfig('k/keep'), { v: 2 });
  t.false(h.scheduler.commits.at(-1)!.values.has('k/old'));
  // An update after it does not see the stale key either.
  t.is(await settle(h, pod('p')), null);
  t.is(seenDuringUpdate, undefined);
});

test("C12: an Update's txn.delete removes the key from the internal config", async (t) => {
  const h = harness(['A']);
  h.handlers[0]!.onResync = (_e, _k, _c, txn) => {
    txn.put('k/gone', { v: 1 });
    txn.put('k/stays', { v: 2 });
  };
  h.handlers[0]!.onUpdate = (_e, txn) => {
    txn.delete('k/gone');
  };
  t.teardown(() => h.controller.close());
  await started(h);
  t.deepEqual(h.controller.getConfig('k/gone'), { v: 1 });
  t.is(await settle(h, pod('p')), null);
  const commit = h.scheduler.commits.at(-1)!;
  t.true(commit.values.has('k/gone'));
  t.is(commit.values.get('k/gone'), null, 'the delete was committed');
  t.is(h.controller.getConfig('k/gone'), undefined, 'and removed from the internal config');
  t.deepEqual(h.controller.getConfig('k/stays'), { v: 2 });
});

test('C6: a second DBResync replaces the db external-config snapshot (a key of the first is gone from desired state and later merges)', async (t) => {
  const h = harness(['A']);
  h.handlers[0]!.onUpdate = (_e, txn) => {
    txn.put('k/ext', { own: 1 });
  };
  t.teardown(() => h.controller.close());
  await h.controller.start();
  t.is(await settle(h, new DBResync({ externalConfig: new Map([['k/ext', { db: 1 }]]) })), null);
  t.deepEqual(h.scheduler.commits.at(-1)!.values.get('k/ext'), { db: 1 }, 'the first snapshot is in the desired state');
  t.is(await settle(h, new DBResync({ externalConfig: new Map([['k/other', { db: 2 }]]) })), null);
  const second = h.scheduler.commits.at(-1)!;
  t.false(second.values.has('k/ext'), 'the old db key is not desired any more');
  t.deepEqual(second.values.get('k/other'), { db: 2 });
  t.is(await settle(h, pod('p')), null);
  t.deepEqual(h.scheduler.commits.at(-1)!.values.get('k/ext'), { own: 1 }, 'not merged with the stale db value');
});

test('C14: a healing resync whose commit fails is fatal: ERR_TRANSACTION, the loop aborts, later events fail with EventLoopAbortingError', async (t) => {
  const h = harness(['A'], { config: { delayAfterErrorHealing: 100_000 } });
  h.handlers[0]!.onResync = (_e, _k, _c, txn) => {
    txn.put('k/int', { v: 1 });
  };
  t.teardown(() => h.controller.close());
  await started(h);
  t.false(h.controller.isAborting);
  h.scheduler.failKeys.add('k/int');
  const healing = tracked(new HealingResync(HealingResyncType.AfterError, new Error('earlier')));
  const later = tracked(pod('later'));
  h.controller.pushEvent(healing);
  h.controller.pushEvent(later);
  const err = await healing.settled;
  t.true(err instanceof TransactionError);
  t.is((err as TransactionError).code, 'ERR_TRANSACTION');
  t.true(h.controller.isAborting);
  t.true(h.status.reports.some((r) => r.state === 'error'));
  const laterErr = await later.settled;
  t.true(laterErr instanceof EventLoopAbortingError);
  t.is((laterErr as EventLoopAbortingError).code, 'ERR_EVENT_LOOP_ABORTING');
  t.deepEqual(seq(h), ['resync:A'], 'the healing resync ran its (non-failing) handler; the later event ran none');
});

test('C4: HealingResync, ExternalConfigResync and VerificationResync pushed before the first DBResync are held, then run after it in arrival order', async (t) => {
  const h = harness(['A']);
  t.teardown(() => h.controller.close());
  await h.controller.start();
  const held = [
    tracked(new HealingResync(HealingResyncType.AfterError, new Error('x'))),
    tracked(new ExternalConfigResync('ext', false, new Map())),
    tracked(new VerificationResync()),
  ];
  for (const ev of held) h.controller.pushEvent(ev);
  await new Promise((resolve) => setImmediate(resolve));
  t.deepEqual(h.calls, [], 'nothing ran before the DBResync');
  t.deepEqual(held.map((e) => e.doneCount), [0, 0, 0], 'and nothing was failed');
  const db = tracked(new DBResync());
  h.controller.pushEvent(db);
  t.is(await db.settled, null);
  t.deepEqual(await Promise.all(held.map((e) => e.settled)), [null, null, null]);
  t.deepEqual(
    h.controller.getEventHistory().map((r) => r.name),
    ['Database Resync', 'Healing Resync', 'External Config Resync', 'Verification Resync'],
  );
  t.deepEqual(
    h.calls.map((c) => `${c.event}:${c.resyncCount}`),
    ['Database Resync:1', 'Healing Resync:2', 'External Config Resync:3', 'Verification Resync:4'],
  );
});

test('C9: a FatalError thrown from revert() aborts the loop; later events fail with EventLoopAbortingError', async (t) => {
  const h = harness(['A', 'B'], { config: { delayAfterErrorHealing: 100_000 } });
  h.handlers[1]!.onUpdate = () => {
    throw new Error('B broke');
  };
  h.handlers[0]!.onRevert = () => {
    throw new FatalError(new Error('revert fatal'));
  };
  t.teardown(() => h.controller.close());
  await started(h);
  const ev = tracked(new TypedUpdate(UpdateTransactionType.RevertOnFailure));
  const later = tracked(pod('later'));
  h.controller.pushEvent(ev);
  h.controller.pushEvent(later);
  const err = await ev.settled;
  t.true(err instanceof FatalError);
  t.is(err?.message, 'revert fatal');
  t.true(h.controller.isAborting);
  t.is(h.controller.healthState, 'error');
  t.true(h.status.reports.some((r) => r.state === 'error'));
  t.true((await later.settled) instanceof EventLoopAbortingError);
  t.deepEqual(seq(h), ['update:A', 'update:B', 'revert:A'], 'no handler ran for the later event');
});

test('C9: a FatalError thrown by a resync handler during the startup DBResync aborts the loop; later events fail with EventLoopAbortingError', async (t) => {
  const h = harness(['A', 'B']);
  h.handlers[0]!.onResync = () => {
    throw new FatalError(new Error('resync fatal'));
  };
  t.teardown(() => h.controller.close());
  await h.controller.start();
  const db = tracked(new DBResync());
  const later = tracked(pod('p'));
  h.controller.pushEvent(db);
  h.controller.pushEvent(later);
  const err = await db.settled;
  t.true(err instanceof FatalError);
  t.is(err?.message, 'resync fatal');
  t.true(h.controller.isAborting);
  t.true(h.status.reports.some((r) => r.state === 'error'));
  t.true((await later.settled) instanceof EventLoopAbortingError);
  t.deepEqual(seq(h), ['resync:A'], 'the event stopped at once and the later event ran no handler');
});

test('C5 C8: for a Reverse RevertOnFailure event, revert runs over the handlers that ran, opposite to that event\'s update order', async (t) => {
  const h = harness(['A', 'B', 'C', 'D']);
  h.handlers[0]!.onUpdate = () => {
    throw new Error('A broke');
  };
  t.teardown(() => h.controller.close());
  await started(h);
  const err = await settle(h, new TypedUpdate(UpdateTransactionType.RevertOnFailure, UpdateDirectionType.Reverse));
  t.is(err?.message, 'A broke');
  t.deepEqual(seq(h), ['update:D', 'update:C', 'update:B', 'update:A', 'revert:B', 'revert:C', 'revert:D']);
});

test('C13: the event error is the last error seen: a later handler error wins over an earlier one', async (t) => {
  const h = harness(['A', 'B'], { config: { delayAfterErrorHealing: 100_000 } });
  h.handlers[0]!.onUpdate = () => {
    throw new Error('A broke');
  };
  h.handlers[1]!.onUpdate = () => {
    throw new Error('B broke');
  };
  t.teardown(() => h.controller.close());
  await started(h);
  const err = await settle(h, new TypedUpdate(UpdateTransactionType.BestEffort));
  t.is(err?.message, 'B broke');
  t.deepEqual(seq(h), ['update:A', 'update:B']);
});

test('C13: the event error is the last error seen: a commit error after two handler errors wins', async (t) => {
  const h = harness(['A', 'B'], { config: { delayAfterErrorHealing: 100_000 } });
  h.handlers[0]!.onUpdate = (_e, txn) => {
    txn.put('k/a', { v: 1 });
    throw new Error('A broke');
  };
  h.handlers[1]!.onUpdate = () => {
    throw new Error('B broke');
  };
  t.teardown(() => h.controller.close());
  await started(h);
  h.scheduler.failKeys.add('k/a');
  const commitsBefore = h.scheduler.commits.length;
  const err = await settle(h, new TypedUpdate(UpdateTransactionType.BestEffort));
  t.is(h.scheduler.commits.length, commitsBefore + 1, 'BestEffort still committed');
  t.true(err instanceof TransactionError);
  t.regex(err?.message ?? '', /k\/a: failed k\/a/);
});

test('C13 C17: wait() of a blocking event pushed to a controller closed before start() rejects with ERR_CONTROLLER_CLOSED', async (t) => {
  const h = harness(['A']);
  const blocking = newExternalConfigChange('src', true);
  h.controller.pushEvent(blocking);
  const waited = t.throwsAsync(blocking.wait(), { code: 'ERR_CONTROLLER_CLOSED' });
  await h.controller.close();
  await waited;
  await t.throwsAsync(blocking.wait(), { code: 'ERR_CONTROLLER_CLOSED' }, 'also when asked after close');
  t.deepEqual(h.calls, [], 'no handler ran');
});
