import test from 'ava';
import {
  DuplicateRegistrationError,
  ResyncOrchestrator,
  ResyncOrchestratorClosedError,
  type Registration,
} from '../src/resync/index.js';
import { ResyncStatus } from '../src/api/index.js';
import { nextRun, recordingLogger, settle, takeOne } from './helpers/ops-resync.js';

/** Acknowledges every status event (after a few turns of the loop unless `immediate`), logging start/ack. */
function ackingConsumer(reg: Registration, log: string[], immediate = false): void {
  void (async () => {
    for await (const ev of reg.statusEvents()) {
      log.push(`${reg.name}:${ev.resyncStatus()}`);
      if (!immediate) await settle(2);
      log.push(`${reg.name}:ack`);
      ev.ack();
    }
  })();
}

test('R1: a duplicate registration name throws a typed error', (t) => {
  const o = new ResyncOrchestrator();
  t.is(o.register('a').name, 'a');
  const err = t.throws(() => o.register('a'), { instanceOf: DuplicateRegistrationError });
  t.is(err?.code, 'ERR_RESYNC_DUPLICATE_REGISTRATION');
  t.regex(err?.message ?? '', /"a"/);
  t.throws(() => o.register(''), { instanceOf: TypeError, message: /name/ });
  t.throws(() => o.register(42 as unknown as string), { instanceOf: TypeError, message: /number/ });
});

test('R1: registering after close throws a typed error', async (t) => {
  const o = new ResyncOrchestrator();
  await o.close();
  const err = t.throws(() => o.register('late'), { instanceOf: ResyncOrchestratorClosedError });
  t.is(err?.code, 'ERR_RESYNC_ORCHESTRATOR_CLOSED');
});

test('R1 R2: registrations resync one by one, in registration order, each acked before the next starts', async (t) => {
  const o = new ResyncOrchestrator({ acceptTimeout: 5000, ackTimeout: 5000 });
  const log: string[] = [];
  for (const name of ['c', 'a', 'b']) ackingConsumer(o.register(name), log);
  const run = nextRun(o);
  await o.doResync();
  t.deepEqual(log, ['c:Started', 'c:ack', 'a:Started', 'a:ack', 'b:Started', 'b:ack']);
  const info = await run;
  t.is(info.run, 1);
  t.true(info.completed);
  t.deepEqual(info.outcomes.map((x) => [x.name, x.outcome]), [['c', 'acked'], ['a', 'acked'], ['b', 'acked']]);
  t.is(o.resyncCount, 1);
  await o.doResync();
  t.is(log.length, 12);
  t.is(o.resyncCount, 2);
  await o.close();
});

test('R2: a registration that does not take the Started event within acceptTimeout is skipped with a warning', async (t) => {
  const { logger, entries } = recordingLogger();
  const o = new ResyncOrchestrator({ acceptTimeout: 15, ackTimeout: 5000, logger });
  const log: string[] = [];
  const idle = o.register('idle');
  ackingConsumer(o.register('busy'), log);
  const run = nextRun(o);
  await o.doResync();
  const info = await run;
  t.deepEqual(info.outcomes.map((x) => [x.name, x.outcome]), [['idle', 'skipped'], ['busy', 'acked']]);
  t.deepEqual(log, ['busy:Started', 'busy:ack']);
  const warn = entries.find((e) => e.level === 'warn' && (e.obj as { registration?: string }).registration === 'idle');
  t.truthy(warn);
  t.regex(warn?.msg ?? '', /skipped/);

  // The withdrawn event is not delivered late: a reader that starts now gets the next run's event.
  const taken = takeOne(idle.statusEvents());
  let got = false;
  void taken.then(() => (got = true));
  await settle();
  t.false(got);
  const second = o.doResync();
  const ev = await taken;
  t.is(ev.resyncStatus(), ResyncStatus.Started);
  ev.ack();
  await second;
  await o.close();
});

test('R2: a taken event that is not acked within ackTimeout lets the resync go on with a warning; a late ack is harmless', async (t) => {
  const { logger, entries } = recordingLogger();
  const o = new ResyncOrchestrator({ acceptTimeout: 5000, ackTimeout: 20, logger });
  const slow = o.register('slow');
  const log: string[] = [];
  // Acks at once: the 20 ms ack timeout must only catch 'slow', however loaded the machine is.
  ackingConsumer(o.register('next'), log, true);
  const held = takeOne(slow.statusEvents());
  const run = nextRun(o);
  await o.doResync();
  const info = await run;
  t.deepEqual(info.outcomes.map((x) => [x.name, x.outcome]), [['slow', 'ack-timeout'], ['next', 'acked']]);
  t.deepEqual(log, ['next:Started', 'next:ack']);
  t.truthy(entries.find((e) => e.level === 'warn' && /acknowledge/.test(e.msg ?? '')));
  const ev = await held;
  t.notThrows(() => ev.ack());
  t.notThrows(() => ev.ack());
  t.is(o.state, 'idle');
  await o.close();
});

test('R2: a reader already waiting takes the Started event at once, even with acceptTimeout 0', async (t) => {
  const o = new ResyncOrchestrator({ acceptTimeout: 0, ackTimeout: 5000 });
  const reg = o.register('eager');
  const pending = takeOne(reg.statusEvents());
  await settle();
  const done = o.doResync();
  const ev = await pending;
  ev.ack();
  await done;
  t.is(o.resyncCount, 1);
  await o.close();
});

test('R2: a logger that throws never ends a resync: doResync() settles and every registration is walked', async (t) => {
  const throwing = {
    warn: () => {
      throw new Error('log sink gone');
    },
    info: () => {
      throw new Error('log sink gone');
    },
    debug: () => {
      throw new Error('log sink gone');
    },
  };
  const o = new ResyncOrchestrator({ acceptTimeout: 1000, ackTimeout: 1000, logger: throwing });
  const log: string[] = [];
  ackingConsumer(o.register('a'), log, true);
  ackingConsumer(o.register('b'), log, true);
  await o.doResync();
  t.deepEqual(log, ['a:Started', 'a:ack', 'b:Started', 'b:ack']);
  await o.close();
});
