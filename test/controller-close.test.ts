import test from 'ava';
import {
  ControllerClosedError,
  DBResync,
  KubeStateChange,
  UpdateDirectionType,
  UpdateTransactionType,
} from '../src/api/index.js';
import { Controller } from '../src/controller/index.js';
import { SchedulerDouble } from './helpers/controller-scheduler-double.js';
import { harness, tracked } from './helpers/controller-fixtures.js';

const pod = (key: string) => new KubeStateChange({ key, resource: 'pod', newValue: { name: key } });

test('C17: close() pushes Shutdown, which handlers see as a Forward BestEffort update after every queued event', async (t) => {
  const h = harness(['A', 'B']);
  const seen: Array<[string, number, number]> = [];
  h.handlers[0]!.onUpdate = (ev) => {
    const u = ev as unknown as { transactionType(): number; direction(): number };
    seen.push([ev.getName(), u.transactionType(), u.direction()]);
  };
  await h.controller.start();
  h.controller.pushEvent(new DBResync());
  const queued = [tracked(pod('a')), tracked(pod('b'))];
  for (const ev of queued) h.controller.pushEvent(ev);
  await h.controller.close();
  t.deepEqual(queued.map((e) => e.doneCount), [1, 1]);
  t.deepEqual(seen.at(-1), ['Shutdown', UpdateTransactionType.BestEffort, UpdateDirectionType.Forward]);
  t.deepEqual(h.calls.slice(-2).map((c) => `${c.handler}:${c.event}`), ['A:Shutdown', 'B:Shutdown']);
  t.is(h.controller.getEventHistory().at(-1)!.name, 'Shutdown');
});

test('C17: a failing Shutdown is logged, not thrown; calling close() twice is harmless', async (t) => {
  const h = harness(['A']);
  h.handlers[0]!.onUpdate = (ev) => {
    if (ev.getName() === 'Shutdown') throw new Error('cannot shut down');
  };
  await h.controller.start();
  h.controller.pushEvent(new DBResync());
  const first = h.controller.close();
  const second = h.controller.close();
  t.is(first, second);
  await t.notThrowsAsync(first);
  await t.notThrowsAsync(h.controller.close());
  t.true(h.logger.entries.some((e) => e.level === 'warn' && e.msg.includes('cannot shut down')));
});

test('C17: events pushed during close() are refused; follow-ups pushed while closing are refused too', async (t) => {
  const h = harness(['A']);
  let followUpError: unknown;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  h.handlers[0]!.onUpdate = async (ev) => {
    if ((ev as KubeStateChange).key !== 'slow') return;
    await gate;
    try {
      h.controller.pushEvent(pod('late-follow-up'));
    } catch (err) {
      followUpError = err;
    }
  };
  await h.controller.start();
  h.controller.pushEvent(new DBResync());
  const slow = tracked(pod('slow'));
  h.controller.pushEvent(slow);
  const closing = h.controller.close();
  t.throws(() => h.controller.pushEvent(pod('x')), { instanceOf: ControllerClosedError });
  release();
  await closing;
  t.is(await slow.settled, null);
  t.true(followUpError instanceof ControllerClosedError);
});

test('C17/C19: close() of a controller that never started finishes queued events with ControllerClosedError', async (t) => {
  const h = harness(['A']);
  const queued = [tracked(new DBResync()), tracked(pod('a'))];
  for (const ev of queued) h.controller.pushEvent(ev);
  await h.controller.close();
  for (const ev of queued) t.true((await ev.settled) instanceof ControllerClosedError);
  t.is(h.calls.length, 0);
});

test('C17/C19: close() before the startup resync fails held events and ends without calling handlers', async (t) => {
  const h = harness(['A']);
  await h.controller.start();
  const held = tracked(pod('held'));
  h.controller.pushEvent(held);
  await h.controller.close();
  const err = await held.settled;
  t.true(err instanceof ControllerClosedError);
  t.is(h.calls.length, 0);
  t.is(h.controller.queueDepth, 0);
});

test('C17/C19: close() on an aborting loop still ends it and finishes every queued event', async (t) => {
  const h = harness(['A'], { config: { startupResyncDeadline: 1 } });
  await h.controller.start();
  await h.status.waitFor('error');
  const ev = tracked(pod('after-abort'));
  h.controller.pushEvent(ev);
  await h.controller.close();
  t.is((await ev.settled as { code?: string }).code, 'ERR_EVENT_LOOP_ABORTING');
});

test('C17: close() stops timers (healing) and closes the scheduler stack built by createScheduler', async (t) => {
  const scheduler = new SchedulerDouble();
  let closed = 0;
  const failing = {
    toString: () => 'failing',
    handlesEvent: () => true,
    resync: () => undefined,
    update: () => {
      throw new Error('needs healing');
    },
    revert: () => undefined,
  };
  const controller = new Controller({
    handlers: [failing],
    createScheduler: async () => ({ scheduler, close: async () => void closed++ }),
    config: { delayAfterErrorHealing: 5 },
  });
  await controller.start();
  controller.pushEvent(new DBResync());
  const failed = tracked(pod('p'));
  controller.pushEvent(failed);
  t.is((await failed.settled)?.message, 'needs healing');
  await controller.close();
  t.is(closed, 1);
  const count = controller.getEventHistory().length;
  await new Promise((r) => setTimeout(r, 20));
  t.is(controller.getEventHistory().length, count, 'no healing resync after close');
  t.false(controller.getEventHistory().some((r) => r.name === 'Healing Resync'));
  await controller.close();
  t.is(closed, 1);
});

test('C14 C17: a healing timer that expires while the Shutdown waits in the queue is cancelled, not logged as a failed push', async (t) => {
  const h = harness(['A'], { config: { delayAfterErrorHealing: 5 } });
  await h.controller.start();
  h.controller.pushEvent(new DBResync());
  h.handlers[0]!.onUpdate = (ev) => {
    if ((ev as KubeStateChange).key === 'bad') throw new Error('needs healing');
    return new Promise((r) => setTimeout(r, 60));
  };
  const failed = tracked(pod('bad'));
  const slow = tracked(pod('slow'));
  h.controller.pushEvent(failed);
  h.controller.pushEvent(slow);
  t.is((await failed.settled)?.message, 'needs healing');
  // The healing timer (5 ms) expires while the slow event runs and the Shutdown waits behind it.
  await h.controller.close();
  t.is(await slow.settled, null);
  const complaints = h.logger.entries.filter((e) => /healing resync/.test(e.msg) && (e.level === 'error' || e.level === 'warn'));
  t.deepEqual(complaints.map((e) => e.msg), []);
  t.false(h.controller.getEventHistory().some((r) => r.name === 'Healing Resync'));
});

test('C17: await close() from inside a handler resolves (the loop closes after that event) instead of waiting on itself', async (t) => {
  const h = harness(['A']);
  let insideResolved = false;
  h.handlers[0]!.onUpdate = async (ev) => {
    if (!(ev instanceof KubeStateChange) || ev.key !== 'pod-a') return;
    await h.controller.close(); // would never resolve if it waited for the loop to end
    insideResolved = true;
  };
  await h.controller.start();
  h.controller.pushEvent(new DBResync());
  const ev = tracked(pod('pod-a'));
  const after = tracked(pod('pod-b'));
  h.controller.pushEvent(ev);
  h.controller.pushEvent(after);
  await ev.settled;
  t.true(insideResolved);
  t.is(ev.doneCount, 1);
  // From outside, close() is the whole close: the event queued before it, then the Shutdown.
  await h.controller.close();
  t.is(after.doneCount, 1);
  t.deepEqual(
    h.controller.getEventHistory().map((r) => r.name).slice(-3),
    ['Kubernetes State Change', 'Kubernetes State Change', 'Shutdown'],
  );
});
