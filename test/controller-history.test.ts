import test from 'ava';
import { DBResync, EventMethodType, KubeStateChange, UpdateTransactionType } from '../src/api/index.js';
import { harness, tracked } from './helpers/controller-fixtures.js';

const pod = (key: string) => new KubeStateChange({ key, resource: 'pod', newValue: { name: key } });
const MIN = 60_000;

function clock(start = 1_000_000): { now: () => number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

test('C16: each processed event leaves a full EventRecord, stored before done() is called', async (t) => {
  const h = harness(['A', 'B']);
  h.handlers[0]!.onUpdate = (_e, txn) => {
    txn.put('k', { v: 1 });
    return 'put k';
  };
  h.handlers[1]!.onUpdate = () => {
    throw new Error('B failed');
  };
  await h.controller.start();
  h.controller.pushEvent(new DBResync());
  const ev = pod('p1');
  let seenAtDone: unknown;
  ev.done = () => {
    seenAtDone = h.controller.getEventHistory().at(-1);
  };
  const after = tracked(pod('p2'));
  h.controller.pushEvent(ev);
  h.controller.pushEvent(after);
  await after.settled;
  const rec = h.controller.getEventHistory({ seqNum: 2 })[0]!;
  t.deepEqual(seenAtDone, rec);
  t.is(rec.seqNum, 2);
  t.is(rec.name, 'Kubernetes State Change');
  t.is(rec.description, 'Kubernetes State Change (add pod p1)');
  t.is(rec.method, EventMethodType.Update);
  t.false(rec.isFollowUp);
  t.is(rec.followUpTo, null);
  t.true(rec.processingEnd >= rec.processingStart);
  t.deepEqual(rec.handlers.map((x) => ({ ...x, error: x.error?.message ?? null })), [
    { handler: 'A', revert: false, change: 'put k', error: null },
    { handler: 'B', revert: false, change: '', error: 'B failed' },
  ]);
  t.is(rec.txnError, null);
  t.is(rec.txn?.description, 'Kubernetes State Change\n* A: put k');
  await h.controller.close();
});

test('C16: recordEventHistory=false records nothing', async (t) => {
  const h = harness(['A'], { config: { recordEventHistory: false } });
  await h.controller.start();
  const r = tracked(new DBResync());
  h.controller.pushEvent(r);
  await r.settled;
  t.deepEqual(h.controller.getEventHistory(), []);
  await h.controller.close();
});

test('C16: getEventHistory filters by precedence: seqNum, since/until, from/to, first, last', async (t) => {
  const c = clock();
  const h = harness(['A'], { now: c.now });
  await h.controller.start();
  const events = [new DBResync(), pod('a'), pod('b'), pod('c'), pod('d')].map((e) => tracked(e));
  for (const ev of events) {
    h.controller.pushEvent(ev);
    await ev.settled;
    c.advance(1000);
  }
  const seqs = (q: Parameters<typeof h.controller.getEventHistory>[0]) => h.controller.getEventHistory(q).map((r) => r.seqNum);
  const start = 1_000_000;
  t.deepEqual(seqs({}), [1, 2, 3, 4, 5]);
  t.deepEqual(seqs({ seqNum: 3, first: 1, last: 1 }), [3]);
  t.deepEqual(seqs({ seqNum: 42 }), []);
  t.deepEqual(seqs({ since: start + 1000, until: start + 3000, from: 1, to: 1 }), [2, 3, 4]);
  t.deepEqual(seqs({ since: start + 3500 }), [5]);
  t.deepEqual(seqs({ until: start + 500 }), [1]);
  t.deepEqual(seqs({ from: 2, to: 3, first: 1 }), [2, 3]);
  t.deepEqual(seqs({ from: 4 }), [4, 5]);
  t.deepEqual(seqs({ first: 2, last: 1 }), [1, 2]);
  t.deepEqual(seqs({ last: 2 }), [4, 5]);
  t.deepEqual(seqs({ last: 0 }), []);
  t.throws(() => h.controller.getEventHistory({ last: -1 }), { instanceOf: RangeError, message: /query\.last/ });
  t.throws(() => h.controller.getEventHistory({ seqNum: Number.NaN }), { instanceOf: RangeError });
  await h.controller.close();
});

test('C16: records older than eventHistoryAgeLimit are trimmed, except those of the permanently recorded init period', async (t) => {
  const c = clock();
  const h = harness(['A'], { now: c.now, config: { eventHistoryAgeLimit: 10, permanentlyRecordedInitPeriod: 2 } });
  await h.controller.start();
  const push = async (ev: Parameters<typeof h.controller.pushEvent>[0]) => {
    const tr = tracked(ev);
    h.controller.pushEvent(tr);
    await tr.settled;
  };
  await push(new DBResync()); // t=0, permanent
  c.advance(1 * MIN);
  await push(pod('init')); // t=1min, permanent
  c.advance(2 * MIN);
  await push(pod('old')); // t=3min
  c.advance(5 * MIN);
  await push(pod('mid')); // t=8min
  c.advance(6 * MIN); // t=14min: "old" is 11 min old
  t.is(h.controller.trimEventHistory(), 1);
  t.deepEqual(h.controller.getEventHistory().map((r) => r.seqNum), [1, 2, 4]);
  c.advance(60 * MIN);
  t.is(h.controller.trimEventHistory(), 1);
  t.deepEqual(h.controller.getEventHistory().map((r) => r.seqNum), [1, 2]);
  await h.controller.close();
});

test('C16: eventHistoryMaxRecords caps the history, oldest first; revert records are kept', async (t) => {
  const h = harness(['A', 'B'], { config: { eventHistoryMaxRecords: 3, permanentlyRecordedInitPeriod: 0 } });
  h.handlers[1]!.onUpdate = () => {
    throw new Error('x');
  };
  await h.controller.start();
  h.controller.pushEvent(new DBResync());
  for (const k of ['a', 'b', 'c']) h.controller.pushEvent(pod(k));
  const { UpdateDirectionType } = await import('../src/api/index.js');
  const revertEv = tracked({
    getName: () => 'Revertible',
    toString: () => 'Revertible',
    method: () => EventMethodType.Update,
    isBlocking: () => false,
    transactionType: () => UpdateTransactionType.RevertOnFailure,
    direction: () => UpdateDirectionType.Forward,
    done: () => undefined,
  });
  h.controller.pushEvent(revertEv);
  await revertEv.settled;
  const recs = h.controller.getEventHistory();
  t.deepEqual(recs.map((r) => r.seqNum), [3, 4, 5]);
  t.deepEqual(recs[2]!.handlers.map((x) => `${x.handler}:${x.revert}`), ['A:false', 'B:false', 'A:true']);
  await h.controller.close();
});

test('C16: the history ring keeps order across growth and wrap-around, and trims by age across the wrap', async (t) => {
  const { EventHistory } = await import('../src/controller/event-history.js');
  const history = new EventHistory(1, 0, 2500);
  history.setStart(0);
  for (let i = 1; i <= 3000; i++) {
    history.add(i, i * 10, i * 10 + 1, i % 2 === 0 ? i - 1 : null, 'E', `E${i}`, EventMethodType.Update, [], null, null);
  }
  const all = history.query();
  t.is(all.length, 2500);
  t.is(all[0]!.seqNum, 501);
  t.is(all.at(-1)!.seqNum, 3000);
  t.true(all.every((r, k) => r.seqNum === 501 + k && r.description === `E${r.seqNum}`));
  t.deepEqual([all[0]!.isFollowUp, all[0]!.followUpTo, all[1]!.isFollowUp, all[1]!.followUpTo], [false, null, true, 501]);
  // Age limit 1 min: at t = 30000 + 60000 everything that started before 30000 goes.
  t.is(history.trim(90_000), 2999 - 501 + 1);
  t.deepEqual(history.query().map((r) => r.seqNum), [3000]);
});

test('C16: a history that reached eventHistoryMaxRecords within the init period keeps recording, oldest first', async (t) => {
  const c = clock();
  const h = harness(['A'], { now: c.now, config: { eventHistoryMaxRecords: 3, permanentlyRecordedInitPeriod: 60 } });
  await h.controller.start();
  h.controller.pushEvent(new DBResync());
  for (const k of ['a', 'b']) h.controller.pushEvent(pod(k));
  const third = tracked(pod('c'));
  h.controller.pushEvent(third);
  await third.settled;
  t.deepEqual(h.controller.getEventHistory().map((r) => r.seqNum), [2, 3, 4]);
  c.advance(120 * MIN); // past the init period
  const later = tracked(pod('d'));
  h.controller.pushEvent(later);
  await later.settled;
  t.deepEqual(h.controller.getEventHistory().map((r) => r.seqNum), [3, 4, 5]);
  t.deepEqual(h.controller.getEventHistory({ last: 1 }).map((r) => r.seqNum), [5]);
  // The permanent records left are still not trimmed by age; the ring's are.
  c.advance(1500 * MIN);
  h.controller.trimEventHistory();
  t.deepEqual(h.controller.getEventHistory().map((r) => r.seqNum), [3, 4]);
  await h.controller.close();
});

test('C16: the permanent part of the history drops its oldest in O(1) and stays in order across compaction', async (t) => {
  const { EventHistory } = await import('../src/controller/event-history.js');
  const history = new EventHistory(1, 60, 1500);
  history.setStart(0);
  for (let i = 1; i <= 5000; i++) history.add(i, i, i + 1, null, 'E', `E${i}`, EventMethodType.Update, [], null, null);
  const all = history.query();
  t.is(all.length, 1500);
  t.true(all.every((r, k) => r.seqNum === 3501 + k && r.description === `E${r.seqNum}`));
  t.is(history.size, 1500);
});

test('C16: records handed out by getEventHistory cannot change the stored history (init period and after)', async (t) => {
  for (const permanentlyRecordedInitPeriod of [60, 0]) {
    const h = harness(['A', 'B'], { config: { permanentlyRecordedInitPeriod } });
    h.handlers[1]!.onUpdate = () => 'changed';
    await h.controller.start();
    h.controller.pushEvent(new DBResync());
    const ev = tracked(pod('p'));
    h.controller.pushEvent(ev);
    await ev.settled;
    const [rec] = h.controller.getEventHistory({ seqNum: 2 });
    try {
      (rec as { name: string }).name = 'tampered';
    } catch {
      // a frozen record: fine either way, as long as the stored one is unchanged
    }
    t.throws(() => (rec!.handlers as unknown as unknown[]).push({}), { instanceOf: TypeError });
    t.throws(() => ((rec!.handlers[1] as { change: string }).change = 'tampered'), { instanceOf: TypeError });
    const again = h.controller.getEventHistory({ seqNum: 2 })[0]!;
    t.is(again.name, 'Kubernetes State Change');
    t.deepEqual(again.handlers.map((r) => r.change), ['', 'changed']);
    await h.controller.close();
  }
});
