import test from 'ava';
import { DBResync, KubeStateChange, TransactionError } from '../src/api/index.js';
import { CommitTimeoutError, InvalidCommitResultError } from '../src/controller/index.js';
import { harness, nextProcessed, tracked, type Harness } from './helpers/controller-fixtures.js';

const pod = (key: string) => new KubeStateChange({ key, resource: 'pod', newValue: { name: key } });

async function started(h: Harness): Promise<Harness> {
  await h.controller.start();
  const r = tracked(new DBResync());
  h.controller.pushEvent(r);
  await r.settled;
  return h;
}

test('C11: commit options carry description, retry from config, and no resync kind for updates', async (t) => {
  const h = await started(harness(['A'], { config: { delayRetry: 7, maxRetryAttempts: 5, enableExpBackoffRetry: false } }));
  h.handlers[0]!.onUpdate = (_e, txn) => {
    txn.put('k', { v: 1 });
    return 'put k';
  };
  const ev = tracked(pod('p'));
  h.controller.pushEvent(ev);
  await ev.settled;
  const { options } = h.scheduler.commits.at(-1)!;
  t.deepEqual(options, { description: 'Kubernetes State Change\n* A: put k', retry: { delay: 7, maxAttempts: 5, expBackoff: false } });
  t.deepEqual(h.scheduler.commits[0]!.options, {
    description: 'Database Resync',
    resync: 'full',
    isStartup: true,
    retry: { delay: 7, maxAttempts: 5, expBackoff: false },
  });
  await h.controller.close();
});

test('C11: without enableRetry no retry option is given; only the first full resync is isStartup', async (t) => {
  const h = await started(harness(['A'], { config: { enableRetry: false } }));
  const second = tracked(new DBResync());
  h.controller.pushEvent(second);
  await second.settled;
  t.deepEqual(h.scheduler.commits.map((c) => c.options), [
    { description: 'Database Resync', resync: 'full', isStartup: true },
    { description: 'Database Resync', resync: 'full' },
  ]);
  await h.controller.close();
});

test('C11: an empty Update transaction is not committed', async (t) => {
  const h = await started(harness(['A']));
  const before = h.scheduler.commits.length;
  const ev = tracked(pod('nothing'));
  h.controller.pushEvent(ev);
  t.is(await ev.settled, null);
  t.is(h.scheduler.commits.length, before);
  t.is(h.controller.getEventHistory().at(-1)!.txn, null);
  await h.controller.close();
});

test('C11/C16: a TransactionError from the commit is the event error, recorded with the recorded transaction', async (t) => {
  const h = await started(harness(['A'], { config: { delayAfterErrorHealing: 1 } }));
  h.handlers[0]!.onUpdate = (_e, txn) => txn.put('k/bad', { v: 1 });
  h.scheduler.failKeys.add('k/bad');
  const healing = nextProcessed(h.controller, 'Healing Resync');
  const ev = tracked(pod('p'));
  h.controller.pushEvent(ev);
  const err = await ev.settled;
  t.true(err instanceof TransactionError);
  const rec = h.controller.getEventHistory().find((r) => r.name === 'Kubernetes State Change')!;
  t.is(rec.txnError, err);
  t.is(rec.txn?.seqNum, h.scheduler.commits.at(-1)!.seqNum);
  t.is((await healing).name, 'Healing Resync');
  await h.controller.close();
});

test('C11: when only keys that came purely from external config failed, no healing is scheduled', async (t) => {
  const h = await started(harness(['A'], { config: { delayAfterErrorHealing: 1 } }));
  h.scheduler.failKeys.add('ext/only');
  const { ExternalConfigChange } = await import('../src/api/index.js');
  const ev = tracked(new ExternalConfigChange('db', false, new Map([['ext/only', { v: 1 }]])));
  h.controller.pushEvent(ev);
  t.true((await ev.settled) instanceof TransactionError);
  // Longer than the healing delay, then a marker: a healing resync would have been processed first.
  await new Promise((r) => setTimeout(r, 20));
  const marker = tracked(pod('marker'));
  h.controller.pushEvent(marker);
  await marker.settled;
  t.false(h.controller.getEventHistory().some((r) => r.name === 'Healing Resync'));
  await h.controller.close();
});

test('C19: a commit that rejects (even with a non-Error) or throws is a commit error, not a crash', async (t) => {
  const h = await started(harness(['A'], { config: { delayAfterErrorHealing: 100000 } }));
  h.handlers[0]!.onUpdate = (_e, txn) => txn.put('k', { v: 1 });
  h.scheduler.rejectWith = new Error('scheduler exploded');
  const a = tracked(pod('a'));
  h.controller.pushEvent(a);
  t.is((await a.settled)?.message, 'scheduler exploded');
  h.scheduler.rejectWith = 'just a string';
  const b = tracked(pod('b'));
  h.controller.pushEvent(b);
  const errB = await b.settled;
  t.true(errB instanceof Error);
  t.regex(errB!.message, /just a string/);
  h.scheduler.rejectWith = undefined;
  const original = h.scheduler.commit.bind(h.scheduler);
  h.scheduler.commit = () => {
    throw new Error('sync throw');
  };
  const c = tracked(pod('c'));
  h.controller.pushEvent(c);
  t.is((await c.settled)?.message, 'sync throw');
  h.scheduler.commit = (() => Promise.resolve({ nonsense: true })) as never;
  const d = tracked(pod('d'));
  h.controller.pushEvent(d);
  t.true((await d.settled) instanceof InvalidCommitResultError);
  h.scheduler.commit = original;
  const e = tracked(pod('e'));
  h.controller.pushEvent(e);
  t.is(await e.settled, null);
  await h.controller.close();
});

test('C19: a commit result whose error is not a TransactionError is handled as a commit error', async (t) => {
  const h = await started(harness(['A'], { config: { delayAfterErrorHealing: 100000 } }));
  h.handlers[0]!.onUpdate = (_e, txn) => txn.put('k', { v: 1 });
  h.scheduler.resolveErrorWith = new RangeError('odd error type');
  const a = tracked(pod('a'));
  h.controller.pushEvent(a);
  t.true((await a.settled) instanceof RangeError);
  h.scheduler.resolveErrorWith = { not: 'an error' };
  const b = tracked(pod('b'));
  h.controller.pushEvent(b);
  t.true((await b.settled) instanceof Error);
  await h.controller.close();
});

test('C19: a commit that never settles fails with CommitTimeoutError when commitTimeout is set', async (t) => {
  const h = await started(harness(['A'], { config: { commitTimeout: 20, delayAfterErrorHealing: 100000 } }));
  h.handlers[0]!.onUpdate = (_e, txn) => txn.put('k', { v: 1 });
  h.scheduler.hang = true;
  const a = tracked(pod('a'));
  h.controller.pushEvent(a);
  const err = await a.settled;
  t.true(err instanceof CommitTimeoutError);
  t.is((err as CommitTimeoutError).code, 'ERR_COMMIT_TIMEOUT');
  h.scheduler.hang = false;
  const b = tracked(pod('b'));
  h.controller.pushEvent(b);
  t.is(await b.settled, null);
  await h.controller.close();
});

test('C11: a resync whose only failed key now comes purely from external config schedules no healing', async (t) => {
  const h = harness(['A'], { config: { delayAfterErrorHealing: 20 } });
  let first = true;
  h.handlers[0]!.onResync = (_e, _k, _c, txn) => {
    if (first) txn.put('k', { from: 'handler' });
    first = false;
  };
  await h.controller.start();
  h.controller.pushEvent(new DBResync());
  await new Promise((r) => setTimeout(r, 10));
  // The handler no longer produces k; only the DB's external config has it, and it fails.
  h.scheduler.failKeys.add('k');
  const second = tracked(new DBResync({ externalConfig: new Map([['k', { from: 'ext' }]]) }));
  h.controller.pushEvent(second);
  t.not(await second.settled, null);
  await new Promise((r) => setTimeout(r, 100));
  t.false(h.controller.getEventHistory().map((r) => r.name).includes('Healing Resync'));
  await h.controller.close();
});
