import test from 'ava';
import { DBResync, EventLoopAbortingError, KubeStateChange, newExternalConfigChange } from '../src/api/index.js';
import { InvalidEventError, StartupResyncDeadlineError } from '../src/controller/index.js';
import { harness, tracked } from './helpers/controller-fixtures.js';

const pod = (key: string) => new KubeStateChange({ key, resource: 'pod', newValue: { name: key } });

test('C4: events before the first DBResync are held, then processed right after it in arrival order', async (t) => {
  const h = harness(['A']);
  await h.controller.start();
  const early = [tracked(pod('e1')), tracked(newExternalConfigChange('s', false)), tracked(pod('e2'))];
  for (const ev of early) h.controller.pushEvent(ev);
  // Let the loop run: nothing may be processed or failed while no DBResync came.
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  t.is(h.calls.length, 0);
  t.deepEqual(early.map((e) => e.doneCount), [0, 0, 0]);
  t.is(h.controller.queueDepth, 3);
  const resync = tracked(new DBResync());
  h.controller.pushEvent(resync);
  const late = tracked(pod('late'));
  h.controller.pushEvent(late);
  await late.settled;
  t.deepEqual(
    h.controller.getEventHistory().map((r) => r.name),
    ['Database Resync', 'Kubernetes State Change', 'External Config Change', 'Kubernetes State Change', 'Kubernetes State Change'],
  );
  t.deepEqual(await Promise.all(early.map((e) => e.settled)), [null, null, null]);
  t.deepEqual(h.status.reports.map((r) => [r.name, r.state]), [['controller', 'ok']]);
  await h.controller.close();
});

test('C4: a missed startupResyncDeadline reports error, aborts, and fails every held event', async (t) => {
  const h = harness(['A'], { config: { startupResyncDeadline: 20 } });
  await h.controller.start();
  const held = [tracked(pod('h1')), tracked(pod('h2'))];
  for (const ev of held) h.controller.pushEvent(ev);
  await h.status.waitFor('error');
  const errs = await Promise.all(held.map((e) => e.settled));
  for (const err of errs) t.true(err instanceof EventLoopAbortingError);
  t.true(h.controller.isAborting);
  t.is(h.controller.healthState, 'error');
  const report = h.status.reports.find((r) => r.state === 'error')!;
  t.is(report.name, 'controller');
  t.true(report.err instanceof StartupResyncDeadlineError);
  // A DBResync arriving late is failed too: the loop is aborting.
  const lateResync = tracked(new DBResync());
  h.controller.pushEvent(lateResync);
  t.true((await lateResync.settled) instanceof EventLoopAbortingError);
  t.is(h.calls.length, 0);
  await h.controller.close();
  t.deepEqual(held.map((e) => e.doneCount), [1, 1]);
});

test('C4: the deadline does not fire once the first DBResync was processed', async (t) => {
  const h = harness(['A'], { config: { startupResyncDeadline: 30 } });
  await h.controller.start();
  const r = tracked(new DBResync());
  h.controller.pushEvent(r);
  await r.settled;
  await new Promise((res) => setTimeout(res, 60));
  t.false(h.controller.isAborting);
  t.false(h.status.reports.some((x) => x.state === 'error'));
  await h.controller.close();
});

test('C4: events pushed before start() are queued and processed after start', async (t) => {
  const h = harness(['A']);
  const r = tracked(new DBResync());
  const p = tracked(pod('p'));
  h.controller.pushEvent(r);
  h.controller.pushEvent(p);
  await new Promise((res) => setImmediate(res));
  t.is(p.doneCount, 0);
  await h.controller.start();
  t.is(await p.settled, null);
  await h.controller.close();
});

test('C4: a DBResync pushed in time is not aborted by the deadline while its handlers are still running', async (t) => {
  const h = harness(['A'], { config: { startupResyncDeadline: 30 } });
  h.handlers[0]!.onResync = () => new Promise((r) => setTimeout(r, 120));
  await h.controller.start();
  const resync = tracked(new DBResync());
  h.controller.pushEvent(resync);
  const later = tracked(pod('p1'));
  h.controller.pushEvent(later);
  t.is(await resync.settled, null);
  t.is(await later.settled, null);
  t.false(h.controller.isAborting);
  t.is(h.controller.healthState, 'ok');
  t.deepEqual(h.status.reports.map((r) => r.state), ['ok']);
  await h.controller.close();
});

/** A DBResync whose payload is malformed: it is failed as invalid and opens no startup gate. */
function malformedResync(): DBResync {
  const bad = new DBResync();
  (bad as { kubeState: unknown }).kubeState = {};
  return bad;
}

function busyWait(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // The deadline timer expires while the loop cannot run.
  }
}

test('C4 C13: a malformed first DBResync opens no gate: the deadline still aborts and fails the held events', async (t) => {
  const h = harness(['A'], { config: { startupResyncDeadline: 60 } });
  await h.controller.start();
  const bad = tracked(malformedResync());
  h.controller.pushEvent(bad);
  const held = tracked(pod('h1'));
  h.controller.pushEvent(held);
  t.true((await bad.settled) instanceof InvalidEventError);
  t.true((await held.settled) instanceof EventLoopAbortingError);
  t.true(h.status.reports.find((r) => r.state === 'error')?.err instanceof StartupResyncDeadlineError);
  t.is(h.calls.length, 0);
  await h.controller.close();
  t.is(held.doneCount, 1);
});

test('C4 C13: the deadline passing while a DBResync waits aborts once that DBResync turns out malformed', async (t) => {
  const h = harness(['A'], { config: { startupResyncDeadline: 20 } });
  await h.controller.start();
  // From the check phase: the drain scheduled now runs after the next timers phase, past the deadline.
  await new Promise((r) => setImmediate(r));
  const bad = tracked(malformedResync());
  h.controller.pushEvent(bad);
  const held = tracked(pod('h1'));
  h.controller.pushEvent(held);
  busyWait(40);
  t.true((await bad.settled) instanceof InvalidEventError);
  t.true((await held.settled) instanceof EventLoopAbortingError);
  t.true(h.controller.isAborting);
  await h.controller.close();
});

test('C4: a valid DBResync behind a malformed one still opens the gate after the deadline passed', async (t) => {
  const h = harness(['A'], { config: { startupResyncDeadline: 20 } });
  await h.controller.start();
  await new Promise((r) => setImmediate(r));
  const bad = tracked(malformedResync());
  const good = tracked(new DBResync());
  const held = tracked(pod('h1'));
  for (const ev of [bad, held, good]) h.controller.pushEvent(ev);
  busyWait(40);
  t.true((await bad.settled) instanceof InvalidEventError);
  t.is(await good.settled, null);
  t.is(await held.settled, null);
  t.false(h.controller.isAborting);
  t.deepEqual(h.status.reports.map((r) => r.state), ['ok']);
  await h.controller.close();
});

test('C4 C2: events held before the first DBResync never fill the queue against the DBResync that releases them', async (t) => {
  const h = harness(['A'], { config: { eventQueueSize: 2, startupResyncDeadline: 60_000 } });
  await h.controller.start();
  const early = [tracked(pod('k1')), tracked(pod('k2'))];
  for (const ev of early) h.controller.pushEvent(ev);
  await new Promise((r) => setTimeout(r, 20)); // both held by the gate
  t.throws(() => h.controller.pushEvent(pod('k3')), { code: 'ERR_EVENT_QUEUE_FULL' }, 'other events are still bounded');
  const resync = tracked(new DBResync());
  t.notThrows(() => h.controller.pushEvent(resync));
  t.throws(() => h.controller.pushEvent(new DBResync()), { code: 'ERR_EVENT_QUEUE_FULL' }, 'one DBResync on its way is enough');
  t.is(await resync.settled, null);
  t.deepEqual(await Promise.all(early.map((e) => e.settled)), [null, null]);
  t.false(h.controller.isAborting);
  await h.controller.close();
});

test('C4: an event pushed from the done() of a malformed DBResync is held by the startup gate like any other', async (t) => {
  const h = harness(['A'], { config: { startupResyncDeadline: 60_000 } });
  await h.controller.start();
  const bad = new DBResync();
  (bad as unknown as { kubeState: unknown }).kubeState = 'not a map';
  const follow = tracked(pod('k'));
  bad.done = () => h.controller.pushEvent(follow);
  h.controller.pushEvent(bad);
  await new Promise((r) => setTimeout(r, 50));
  t.deepEqual(h.calls, [], 'no handler ran before a DBResync was processed');
  t.is(follow.doneCount, 0);
  h.controller.pushEvent(new DBResync());
  t.is(await follow.settled, null);
  await h.controller.close();
});
