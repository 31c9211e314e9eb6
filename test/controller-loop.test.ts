import test from 'ava';
import {
  ControllerClosedError,
  DBResync,
  EventMethodType,
  EventQueueFullError,
  ExternalConfigChange,
  ExternalConfigResync,
  KubeStateChange,
  newExternalConfigChange,
  type Event,
} from '../src/api/index.js';
import { InvalidEventError } from '../src/controller/index.js';
import { harness, tracked } from './helpers/controller-fixtures.js';

const pod = (key: string) => new KubeStateChange({ key, resource: 'pod', newValue: { name: key } });

test('C1: pushEvent never runs a handler synchronously; events run one at a time in arrival order', async (t) => {
  const h = harness(['A']);
  let inFlight = 0;
  let maxInFlight = 0;
  h.handlers[0]!.onUpdate = async (ev) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((r) => setImmediate(r));
    inFlight--;
    return (ev as KubeStateChange).key;
  };
  await h.controller.start();
  h.controller.pushEvent(new DBResync());
  const events = ['p1', 'p2', 'p3', 'p4'].map((k) => tracked(pod(k)));
  for (const ev of events) h.controller.pushEvent(ev);
  t.is(h.calls.length, 0, 'nothing ran inside pushEvent');
  await Promise.all(events.map((e) => e.settled));
  t.is(maxInFlight, 1);
  t.deepEqual(
    h.calls.filter((c) => c.stage === 'update').map((c) => c.event),
    ['Kubernetes State Change', 'Kubernetes State Change', 'Kubernetes State Change', 'Kubernetes State Change'],
  );
  t.deepEqual(
    h.controller.getEventHistory().filter((r) => r.method === EventMethodType.Update).map((r) => r.handlers[0]!.change),
    ['p1', 'p2', 'p3', 'p4'],
  );
  await h.controller.close();
});

test('C2: a full queue throws EventQueueFullError at once and drops nothing', async (t) => {
  const h = harness(['A'], { config: { eventQueueSize: 3 } });
  const events = [tracked(new DBResync()), tracked(pod('a')), tracked(pod('b'))];
  for (const ev of events) h.controller.pushEvent(ev);
  const err = t.throws(() => h.controller.pushEvent(pod('c')), { instanceOf: EventQueueFullError });
  t.is(err?.code, 'ERR_EVENT_QUEUE_FULL');
  t.is(h.controller.queueDepth, 3);
  await h.controller.start();
  t.deepEqual(await Promise.all(events.map((e) => e.settled)), [null, null, null]);
  h.controller.pushEvent(pod('d'));
  await h.controller.close();
});

test('C2: after close() started, pushEvent throws ControllerClosedError', async (t) => {
  const h = harness();
  await h.controller.start();
  const closing = h.controller.close();
  const err = t.throws(() => h.controller.pushEvent(pod('x')), { instanceOf: ControllerClosedError });
  t.is(err?.code, 'ERR_CONTROLLER_CLOSED');
  await closing;
  t.throws(() => h.controller.pushEvent(pod('y')), { instanceOf: ControllerClosedError });
  await t.throwsAsync(h.controller.start(), { instanceOf: ControllerClosedError });
});

test('C13: every event is finished exactly once, with null or its error', async (t) => {
  const h = harness(['A', 'B']);
  h.handlers[1]!.onUpdate = (ev) => {
    if ((ev as KubeStateChange).key === 'bad') throw new Error('B failed');
  };
  await h.controller.start();
  const events = [tracked(new DBResync()), tracked(pod('ok')), tracked(pod('bad')), tracked(pod('ok2'))];
  for (const ev of events) h.controller.pushEvent(ev);
  const results = await Promise.all(events.map((e) => e.settled));
  t.is(results[0], null);
  t.is(results[1], null);
  t.is(results[2]?.message, 'B failed');
  t.is(results[3], null);
  await h.controller.close();
  t.deepEqual(events.map((e) => e.doneCount), [1, 1, 1, 1]);
});

test('C13 C14: a logger that throws at every level never stops an event or the loop: each is finished once, healing runs, close() ends', async (t) => {
  const boom = (): never => {
    throw new Error('log sink gone');
  };
  const logger = { debug: boom, info: boom, warn: boom, error: boom, isLevelEnabled: () => true };
  const h = harness(['A'], { logger, config: { delayAfterErrorHealing: 5 } });
  h.handlers[0]!.onUpdate = (ev) => {
    if ((ev as KubeStateChange).key === 'bad') throw new Error('A failed');
  };
  await h.controller.start();
  const notAnEvent = { getName: () => 'x', method: () => 9, isBlocking: () => false, done: () => undefined, toString: () => 'x' };
  const invalid = tracked(notAnEvent as never);
  const events = [tracked(new DBResync()), tracked(pod('bad')), invalid, tracked(pod('ok'))];
  for (const ev of events) h.controller.pushEvent(ev);
  const results = await Promise.all(events.map((e) => e.settled));
  t.is(results[1]?.message, 'A failed');
  t.true(results[2] instanceof InvalidEventError);
  t.is(results[3], null);
  while (!h.controller.getEventHistory().some((r) => r.name === 'Healing Resync')) await new Promise((r) => setTimeout(r, 5));
  await h.controller.close();
  t.deepEqual(events.map((e) => e.doneCount), [1, 1, 1, 1]);
});

test('C13: a waitable event\'s wait() resolves or rejects with the processing error', async (t) => {
  const h = harness(['A']);
  h.handlers[0]!.onUpdate = (ev) => {
    if ((ev as { source?: string }).source === 'bad') throw new Error('nope');
  };
  await h.controller.start();
  h.controller.pushEvent(new DBResync());
  const good = newExternalConfigChange('good', false);
  const bad = newExternalConfigChange('bad', false);
  h.controller.pushEvent(good);
  h.controller.pushEvent(bad);
  await t.notThrowsAsync(good.wait());
  await t.throwsAsync(bad.wait(), { message: 'nope' });
  await h.controller.close();
});

test('C19: pushEvent rejects objects that are not events with InvalidEventError, synchronously', async (t) => {
  const h = harness();
  for (const bad of [null, undefined, 42, 'event', {}, { getName: () => 'x', method: () => 3 }]) {
    const err = t.throws(() => h.controller.pushEvent(bad as unknown as Event), { instanceOf: InvalidEventError });
    t.is(err?.code, 'ERR_INVALID_EVENT');
  }
  t.is(h.controller.queueDepth, 0);
  await h.controller.close();
});

function oddEvent(over: Partial<Record<'getName' | 'method' | 'toString', () => unknown>>): Event & { settled: Promise<Error | null> } {
  const ev = {
    getName: () => 'Odd',
    toString: () => 'Odd event',
    method: () => EventMethodType.Update,
    isBlocking: () => false,
    done: (_e: Error | null) => undefined,
    ...over,
  };
  return tracked(ev as unknown as Event);
}

test('C19: an Update event that does not implement UpdateEvent is finished with InvalidEventError', async (t) => {
  const h = harness(['A']);
  await h.controller.start();
  h.controller.pushEvent(new DBResync());
  const ev = oddEvent({});
  h.controller.pushEvent(ev);
  const err = await ev.settled;
  t.true(err instanceof InvalidEventError);
  t.is((err as InvalidEventError).code, 'ERR_INVALID_EVENT');
  t.false(h.calls.some((c) => c.stage === 'update'));
  await h.controller.close();
});

test('C19: an event whose getName()/method() throws, or whose method() is bogus, is finished with InvalidEventError', async (t) => {
  const h = harness(['A']);
  await h.controller.start();
  h.controller.pushEvent(new DBResync());
  const events = [
    oddEvent({ getName: () => { throw new Error('no name'); } }),
    oddEvent({ method: () => { throw 'no method'; } }),
    oddEvent({ method: () => 17 }),
  ];
  for (const ev of events) h.controller.pushEvent(ev);
  for (const ev of events) t.true((await ev.settled) instanceof InvalidEventError);
  const after = tracked(pod('still-working'));
  h.controller.pushEvent(after);
  t.is(await after.settled, null);
  await h.controller.close();
});

test('C13: a done() that throws is logged and the loop goes on', async (t) => {
  const h = harness(['A']);
  await h.controller.start();
  h.controller.pushEvent(new DBResync());
  const ev = pod('x');
  ev.done = () => {
    throw new Error('done exploded');
  };
  h.controller.pushEvent(ev);
  const next = tracked(pod('y'));
  h.controller.pushEvent(next);
  t.is(await next.settled, null);
  t.true(h.logger.entries.some((e) => e.level === 'error' && e.msg.includes('done exploded')));
  await h.controller.close();
});

test('C1: a run of slow events yields to timers and I/O every few milliseconds, not only every 512 events', async (t) => {
  const h = harness(['A']);
  let processed = 0;
  h.handlers[0]!.onUpdate = () => {
    // A synchronous handler that takes 1 ms: 100 of them would hold the loop for 100 ms.
    const until = performance.now() + 1;
    while (performance.now() < until);
    processed++;
  };
  await h.controller.start();
  const resync = tracked(new DBResync());
  h.controller.pushEvent(resync);
  await resync.settled;
  const events = Array.from({ length: 100 }, (_, i) => tracked(pod(`p${i}`)));
  for (const ev of events) h.controller.pushEvent(ev);
  const seenByTimer = await new Promise<number>((r) => setImmediate(() => r(processed)));
  await Promise.all(events.map((e) => e.settled));
  t.is(processed, 100);
  t.true(seenByTimer < 50, `a timer ran only after ${seenByTimer} of 100 events`);
  await h.controller.close();
});

test('C19 C16 C6: a built-in event whose payload is not its maps fails as invalid, recorded, with nothing of it applied', async (t) => {
  const h = harness(['A']);
  await h.controller.start();
  h.controller.pushEvent(new DBResync({ externalConfig: new Map([['ext/k', { v: 1 }]]) }));
  const bad = [
    tracked(new ExternalConfigChange('src', false, { k: { a: 1 } } as unknown as Map<string, null>)),
    tracked(new ExternalConfigResync('src', false, null as unknown as Map<string, never>)),
    tracked(new DBResync({ kubeState: new Map([['pod', { x: 1 }]]) as unknown as Map<string, Map<string, never>> })),
    // The kube part is good, the external part is not: neither may be applied.
    tracked(new DBResync({ kubeState: new Map([['pod', new Map([['p', { name: 'p' }]])]]), externalConfig: 'x' as unknown as Map<string, never> })),
  ];
  for (const e of bad) h.controller.pushEvent(e);
  const after = tracked(pod('after'));
  h.controller.pushEvent(after);
  t.is(await after.settled, null);
  for (const e of bad) {
    const err = await e.settled;
    t.true(err instanceof InvalidEventError, String(err));
    t.is((err as InvalidEventError).code, 'ERR_INVALID_EVENT');
    t.regex(err!.message, /malformed payload: \w+(\[pod\])? must be a Map|is not a valid Event/);
    t.is(e.doneCount, 1);
  }
  t.deepEqual(h.controller.getEventHistory().map((r) => r.seqNum), [1, 2, 3, 4, 5, 6], 'every event has a record');
  t.is(h.controller.resyncCount, 1, 'no invalid resync counted');
  t.deepEqual(h.calls.map((c) => `${c.stage}:${c.event}`), ['resync:Database Resync', 'update:Kubernetes State Change']);
  // The db snapshot from the first DBResync is still the one merged into commits (kube state untouched too).
  t.deepEqual(h.scheduler.commits[0]!.values.get('ext/k'), { v: 1 });
  await h.controller.close();
});

test('C13: an async done() that rejects is logged, not an unhandled rejection', async (t) => {
  const h = harness(['A']);
  await h.controller.start();
  h.controller.pushEvent(new DBResync());
  const ev = pod('p');
  let called = 0;
  ev.done = (() => {
    called++;
    return Promise.reject(new Error('done rejected'));
  }) as unknown as (err: Error | null) => void;
  h.controller.pushEvent(ev);
  const next = tracked(pod('q'));
  h.controller.pushEvent(next);
  await next.settled;
  await new Promise((r) => setImmediate(r));
  t.is(called, 1);
  t.true(h.logger.entries.some((e) => e.level === 'error' && e.msg.includes('done rejected')));
  await h.controller.close();
});
