import test from 'ava';
import { ResyncOrchestrator, ResyncOrchestratorClosedError, type Registration, type StatusEvent } from '../src/resync/index.js';
import { nextRun, recordingLogger, settle, takeOne } from './helpers/ops-resync.js';

function autoAck(reg: Registration): void {
  void (async () => {
    for await (const ev of reg.statusEvents()) ev.ack();
  })();
}

test('R3: reportError plans a resync that starts asynchronously, never inside the call', async (t) => {
  const o = new ResyncOrchestrator();
  const reg = o.register('a');
  let received = 0;
  void (async () => {
    for await (const ev of reg.statusEvents()) {
      received++;
      ev.ack();
    }
  })();
  await settle();
  const run = nextRun(o);
  o.reportError('a', new Error('boom'));
  t.is(o.state, 'planned');
  t.is(o.resyncCount, 0);
  t.is(received, 0);
  const info = await run;
  t.is(received, 1);
  t.is(info.reasons.length, 1);
  t.is(info.reasons[0]?.name, 'a');
  t.is(info.reasons[0]?.error.message, 'boom');
  await o.close();
});

test('R3: reports that arrive while a resync is planned merge into it', async (t) => {
  const { logger, entries } = recordingLogger();
  const o = new ResyncOrchestrator({ logger });
  autoAck(o.register('a'));
  const run = nextRun(o);
  o.reportError('a', new Error('e1'));
  o.reportError('b', new Error('e2'));
  const explicit = o.doResync();
  o.reportError('c', 'not an error' as unknown as Error);
  const info = await run;
  await explicit;
  t.deepEqual(info.reasons.map((r) => r.name), ['a', 'b', 'c']);
  t.true(info.reasons[2]?.error instanceof Error);
  await settle();
  t.is(o.state, 'idle');
  t.is(o.resyncCount, 1);
  t.is(entries.filter((e) => e.level === 'warn' && /error reported/.test(e.msg ?? '')).length, 3);
  await o.close();
});

test('R3: reports during a running resync plan exactly one more after it', async (t) => {
  const o = new ResyncOrchestrator({ acceptTimeout: 5000, ackTimeout: 5000 });
  const reg = o.register('a');
  const events: StatusEvent[] = [];
  let gotFirst!: () => void;
  const first = new Promise<void>((resolve) => (gotFirst = resolve));
  void (async () => {
    for await (const ev of reg.statusEvents()) {
      events.push(ev);
      if (events.length === 1) gotFirst();
      else ev.ack();
    }
  })();
  const run1 = nextRun(o);
  const done1 = o.doResync();
  await first;
  t.is(o.state, 'running');
  o.reportError('a', new Error('x'));
  o.reportError('a', new Error('y'));
  o.reportError('a', new Error('z'));
  t.is(o.state, 'running');
  const run2 = (async () => {
    await run1;
    return nextRun(o);
  })();
  events[0]?.ack();
  await done1;
  const info1 = await run1;
  t.is(info1.reasons.length, 0);
  const info2 = await run2;
  t.is(info2.run, 2);
  t.deepEqual(info2.reasons.map((r) => r.error.message), ['x', 'y', 'z']);
  await settle();
  t.is(o.state, 'idle');
  t.is(o.resyncCount, 2);
  t.is(events.length, 2);
  await o.close();
});

test('R3: after close reports are ignored, pending timeouts are cancelled, late acks block nothing, iterators end; the callers of the run cut short and of the planned one get ResyncOrchestratorClosedError', async (t) => {
  const o = new ResyncOrchestrator({ acceptTimeout: 600_000, ackTimeout: 600_000 });
  const holder = o.register('holder');
  o.register('never-reads');
  const held = takeOne(holder.statusEvents());
  const run = nextRun(o);
  const done = o.doResync();
  const ev = await held;
  // The run now waits up to 10 minutes for the ack: close must cut that short.
  const planned = o.doResync();
  const plannedResult = planned.then(() => 'resolved', (err: unknown) => err);
  await o.close();
  await t.throwsAsync(done, { instanceOf: ResyncOrchestratorClosedError });
  const info = await run;
  t.false(info.completed);
  t.deepEqual(info.outcomes.map((x) => [x.name, x.outcome]), [['holder', 'cancelled']]);
  const err = await plannedResult;
  t.true(err instanceof ResyncOrchestratorClosedError);
  t.notThrows(() => ev.ack());
  o.reportError('holder', new Error('after close'));
  t.is(o.state, 'closed');
  await settle();
  t.is(o.resyncCount, 1);
  await t.throwsAsync(o.doResync(), { instanceOf: ResyncOrchestratorClosedError });
  const after: StatusEvent[] = [];
  for await (const e of holder.statusEvents()) after.push(e);
  t.is(after.length, 0);
  await t.notThrowsAsync(o.close());
});

test('R3: close ends iterators that are waiting for an event', async (t) => {
  const o = new ResyncOrchestrator();
  const reg = o.register('a');
  const seen: StatusEvent[] = [];
  const loop = (async () => {
    for await (const ev of reg.statusEvents()) seen.push(ev);
    return 'ended';
  })();
  await settle();
  await o.close();
  t.is(await loop, 'ended');
  t.is(seen.length, 0);
});

test('R3: a report planned before close never starts', async (t) => {
  const o = new ResyncOrchestrator();
  let runs = 0;
  o.onResync(() => runs++);
  autoAck(o.register('a'));
  o.reportError('a', new Error('x'));
  await o.close();
  await settle();
  t.is(runs, 0);
  t.is(o.resyncCount, 0);
});
