// The loop runs sync handlers directly and falls into its general (suspending) path mid-event; it
// reuses one per-event state object. These tests pin what must not change across those switches.
import test from 'ava';
import { DBResync, KubeStateChange } from '../src/api/index.js';
import { harness, tracked } from './helpers/controller-fixtures.js';

const pod = (key: string) => new KubeStateChange({ key, resource: 'pod', newValue: { name: key } });

test('C1/C8: a handler returning a promise between sync handlers is awaited before the next one runs; one commit has every key', async (t) => {
  const h = harness(['A', 'B', 'C']);
  const order: string[] = [];
  h.handlers[0]!.onUpdate = (_e, txn) => {
    order.push('A');
    txn.put('key/A', { by: 'A' });
  };
  h.handlers[1]!.onUpdate = (_e, txn) =>
    new Promise<string>((resolve) =>
      setImmediate(() => {
        order.push('B settled');
        txn.put('key/B', { by: 'B' });
        resolve('B changed');
      }),
    );
  h.handlers[2]!.onUpdate = (_e, txn) => {
    order.push('C');
    txn.put('key/C', { by: 'C' });
  };
  await h.controller.start();
  h.controller.pushEvent(new DBResync());
  const ev = tracked(pod('p1'));
  h.controller.pushEvent(ev);
  t.is(await ev.settled, null);
  t.deepEqual(order, ['A', 'B settled', 'C']);
  const commit = h.scheduler.commits.at(-1)!;
  t.deepEqual([...commit.values.keys()], ['key/A', 'key/B', 'key/C']);
  t.true(commit.options.description?.includes('* B: B changed'));
  const rec = h.controller.getEventHistory().at(-1)!;
  t.deepEqual(
    rec.handlers.map((r) => `${r.handler}:${r.change}:${r.error === null ? 'ok' : 'error'}`),
    ['A::ok', 'B:B changed:ok', 'C::ok'],
  );
  await h.controller.close();
});

test('C5/C8/C16: per-event state is not carried over: records, handler lists and errors belong to their own event', async (t) => {
  const h = harness(['A', 'B', 'C']);
  let failB = true;
  h.handlers[1]!.onUpdate = () => {
    if (failB) throw new Error('B broke');
  };
  // C declines the second event only.
  h.handlers[2]!.handles = (event) => !(event instanceof KubeStateChange && event.key === 'p2');
  await h.controller.start();
  h.controller.pushEvent(new DBResync());
  const first = tracked(pod('p1'));
  h.controller.pushEvent(first);
  t.is((await first.settled)?.message, 'B broke');
  failB = false;
  const second = tracked(pod('p2'));
  const third = tracked(pod('p3'));
  h.controller.pushEvent(second);
  h.controller.pushEvent(third);
  t.is(await second.settled, null);
  t.is(await third.settled, null);
  const [r1, r2, r3] = h.controller.getEventHistory({ last: 3 });
  const summary = (r: typeof r1) => r!.handlers.map((x) => `${x.handler}:${x.error === null ? 'ok' : x.error.message}`);
  t.deepEqual(summary(r1), ['A:ok', 'B:B broke', 'C:ok']);
  t.deepEqual(summary(r2), ['A:ok', 'B:ok']);
  t.deepEqual(summary(r3), ['A:ok', 'B:ok', 'C:ok']);
  t.is(r2!.txnError, null);
  t.is(r3!.txnError, null);
  t.deepEqual(
    h.calls.filter((c) => c.stage === 'update').map((c) => c.handler),
    ['A', 'B', 'C', 'A', 'B', 'A', 'B', 'C'],
  );
  // The first event's record is unchanged by the later events.
  t.deepEqual(summary(h.controller.getEventHistory({ seqNum: r1!.seqNum })[0]), ['A:ok', 'B:B broke', 'C:ok']);
  await h.controller.close();
});

test('C3: a push from the commit continuation of an event with sync handlers is a follow-up of that event', async (t) => {
  const h = harness(['A']);
  h.handlers[0]!.onUpdate = (_e, txn) => txn.put('key/A', { by: 'A' });
  await h.controller.start();
  const resync = tracked(new DBResync());
  h.controller.pushEvent(resync);
  await resync.settled;
  const follow = tracked(pod('follow'));
  let pushed = false;
  h.scheduler.onCommit = () => {
    if (pushed) return;
    pushed = true;
    void Promise.resolve().then(() => h.controller.pushEvent(follow));
  };
  const ev = tracked(pod('p1'));
  h.controller.pushEvent(ev);
  await ev.settled;
  await follow.settled;
  const evRec = h.controller.getEventHistory().find((r) => r.description.includes('p1'))!;
  const followRec = h.controller.getEventHistory().find((r) => r.description.includes('follow'))!;
  t.true(followRec.isFollowUp);
  t.is(followRec.followUpTo, evRec.seqNum);
  await h.controller.close();
});
