import test from 'ava';
import { DBResync, KubeStateChange } from '../src/api/index.js';
import {
  CommitTimeoutError,
  InvalidCommitResultError,
  Controller,
  DEFAULT_CONTROLLER_CONFIG,
  HandlerTimeoutError,
  HealingFailedError,
  InvalidEventError,
  StartupResyncDeadlineError,
  type ControllerOptions,
  type ProcessedEventInfo,
} from '../src/controller/index.js';
import { SchedulerDouble } from './helpers/controller-scheduler-double.js';
import { harness, tracked } from './helpers/controller-fixtures.js';

const pod = (key: string) => new KubeStateChange({ key, resource: 'pod', newValue: { name: key } });

test('C2 C14 C15 C16: config defaults are the reference ones', (t) => {
  t.like(DEFAULT_CONTROLLER_CONFIG, {
    enableRetry: true,
    delayRetry: 1000,
    maxRetryAttempts: 3,
    enableExpBackoffRetry: true,
    delayLocalResync: 5000,
    startupResyncDeadline: 30000,
    enablePeriodicHealing: false,
    periodicHealingInterval: 60000,
    delayAfterErrorHealing: 5000,
    remoteDBProbingInterval: 3000,
    recordEventHistory: true,
    eventHistoryAgeLimit: 1440,
    permanentlyRecordedInitPeriod: 60,
    enableVerification: false,
    eventQueueSize: 1000,
    handlerTimeout: 0,
    commitTimeout: 0,
  });
  t.true(Object.isFrozen(DEFAULT_CONTROLLER_CONFIG));
});

const bad: Array<[string, unknown, typeof TypeError | typeof RangeError, RegExp]> = [
  ['eventQueueSize', 0, RangeError, /options\.config\.eventQueueSize must be an integer >= 1, received 0/],
  ['eventQueueSize', 1.5, RangeError, /eventQueueSize/],
  ['eventQueueSize', '10', TypeError, /options\.config\.eventQueueSize must be a number, received "10"/],
  ['delayRetry', -1, RangeError, /options\.config\.delayRetry must be a finite number >= 0, received -1/],
  ['startupResyncDeadline', Infinity, RangeError, /startupResyncDeadline/],
  ['startupResyncDeadline', 2 ** 32, RangeError, /startupResyncDeadline must be <=/],
  ['enableRetry', 'yes', TypeError, /options\.config\.enableRetry must be a boolean, received "yes"/],
  ['handlerTimeout', Number.NaN, TypeError, /handlerTimeout must be a number, received NaN/],
  ['noSuchOption', 1, TypeError, /options\.config\.noSuchOption is not a controller option/],
];

for (const [key, value, type, message] of bad) {
  test(`C19: config: ${key}=${String(value)} is rejected with ${type.name} naming it`, (t) => {
    t.throws(() => new Controller({ handlers: [], scheduler: new SchedulerDouble(), config: { [key]: value } as never }), {
      instanceOf: type,
      message,
    });
  });
}

test('C14 C19: config: periodic healing with a zero interval is rejected', (t) => {
  t.throws(
    () => new Controller({ handlers: [], scheduler: new SchedulerDouble(), config: { enablePeriodicHealing: true, periodicHealingInterval: 0 } }),
    { instanceOf: RangeError, message: /periodicHealingInterval/ },
  );
});

test('C19: options: bad handlers, scheduler, sources, logger, statusCheck and unknown options are TypeErrors naming the option', (t) => {
  const s = new SchedulerDouble();
  const cases: Array<[unknown, RegExp]> = [
    [undefined, /options must be an object/],
    [{ scheduler: s }, /options\.handlers must be an array/],
    [{ handlers: [{}], scheduler: s }, /options\.handlers\[0\] must implement EventHandler/],
    [{ handlers: [], scheduler: {} }, /options\.scheduler must implement KVScheduler/],
    [{ handlers: [], createScheduler: 5 }, /options\.createScheduler must be a function/],
    [{ handlers: [], scheduler: s, extSources: [{}] }, /options\.extSources\[0\] must have getConfigSnapshot/],
    [{ handlers: [], scheduler: s, extSources: [{ toString: () => 'db', getConfigSnapshot: () => new Map() }] }, /already taken/],
    [{ handlers: [], scheduler: s, logger: console.log }, /options\.logger must be pino-compatible/],
    [{ handlers: [], scheduler: s, statusCheck: {} }, /options\.statusCheck must have reportStateChange/],
    [{ handlers: [], scheduler: s, now: 3 }, /options\.now must be a function/],
    // `stack` belongs to Engine.start: silently ignored, it would leave the pool on.
    [{ handlers: [], stack: { offload: false } }, /options\.stack is not a controller option/],
  ];
  for (const [options, message] of cases) {
    t.throws(() => new Controller(options as ControllerOptions), { instanceOf: TypeError, message });
  }
});

test('C17 C19: createScheduler: a bad result (its close() called) or a rejection makes start() reject; start() can then be retried', async (t) => {
  let attempt = 0;
  let released = 0;
  const scheduler = new SchedulerDouble();
  const controller = new Controller({
    handlers: [],
    createScheduler: async () => {
      attempt++;
      if (attempt === 1) throw new Error('sim failed to boot');
      // Built, but without a scheduler: what it holds is released.
      if (attempt === 2) return { close: async () => void released++ } as never;
      if (attempt === 3) return {} as never;
      return { scheduler, close: async () => undefined };
    },
  });
  await t.throwsAsync(controller.start(), { message: 'sim failed to boot' });
  await t.throwsAsync(controller.start(), { instanceOf: TypeError, message: /createScheduler must resolve/ });
  t.is(released, 1);
  await t.throwsAsync(controller.start(), { instanceOf: TypeError, message: /createScheduler must resolve/ });
  await controller.start();
  const r = tracked(new DBResync());
  controller.pushEvent(r);
  t.is(await r.settled, null);
  t.is(scheduler.commits.length, 1);
  await controller.close();
});

test('C11 C13: a scheduler whose commit resolves to no { seqNum, error } fails the event with InvalidCommitResultError', async (t) => {
  const h = harness(['A']);
  const scheduler = h.scheduler;
  const commit = scheduler.commit.bind(scheduler);
  let malformed = false;
  scheduler.commit = (values, options) => (malformed ? Promise.resolve(undefined as never) : commit(values, options));
  await h.controller.start();
  h.controller.pushEvent(new DBResync());
  malformed = true;
  const ev = tracked(new KubeStateChange({ key: 'p', resource: 'pod', newValue: { name: 'p' } }));
  h.handlers[0]!.onUpdate = (_e, txn) => void txn.put('k/p', { v: 1 });
  h.controller.pushEvent(ev);
  const err = await ev.settled;
  t.true(err instanceof InvalidCommitResultError);
  t.is((err as InvalidCommitResultError).code, 'ERR_INVALID_COMMIT_RESULT');
  t.regex(err!.message, /resolved to undefined/);
  malformed = false;
  await h.controller.close();
});

test('C13: errors: each controller error has its stable code and name', (t) => {
  const cases: Array<[Error & { code: string }, string, string]> = [
    [new InvalidEventError('x'), 'ERR_INVALID_EVENT', 'InvalidEventError'],
    [new HandlerTimeoutError('h', 'update', 5), 'ERR_HANDLER_TIMEOUT', 'HandlerTimeoutError'],
    [new CommitTimeoutError(5), 'ERR_COMMIT_TIMEOUT', 'CommitTimeoutError'],
    [new InvalidCommitResultError('undefined'), 'ERR_INVALID_COMMIT_RESULT', 'InvalidCommitResultError'],
    [new HealingFailedError(new Error('a'), new Error('b')), 'ERR_HEALING_FAILED', 'HealingFailedError'],
    [new StartupResyncDeadlineError(5), 'ERR_STARTUP_RESYNC_DEADLINE', 'StartupResyncDeadlineError'],
  ];
  for (const [err, code, name] of cases) {
    t.is(err.code, code);
    t.is(err.name, name);
    t.true(err.message.length > 0);
  }
});

test('C2 C16: hooks: onEvent reports every processed event with timings; unsubscribe stops it; queueDepth counts both queues', async (t) => {
  const h = harness(['A', 'B']);
  h.handlers[0]!.onUpdate = (_e, txn) => txn.put('k', { v: 1 });
  h.handlers[1]!.onUpdate = (ev) => {
    if ((ev as KubeStateChange).key === 'bad') throw new Error('bad');
    if ((ev as KubeStateChange).key === 'spawn') {
      h.controller.pushEvent(pod('child'));
      t.is(h.controller.queueDepth, 2, 'the follow-up plus the event queued behind');
    }
  };
  const infos: ProcessedEventInfo[] = [];
  const off = h.controller.onEvent((i) => infos.push(i));
  h.controller.onEvent(() => {
    throw new Error('listener bug');
  });
  await h.controller.start();
  h.controller.pushEvent(new DBResync());
  h.controller.pushEvent(pod('spawn'));
  const bad = tracked(pod('bad'));
  h.controller.pushEvent(bad);
  await bad.settled;
  off();
  const after = tracked(pod('after'));
  h.controller.pushEvent(after);
  await after.settled;
  t.deepEqual(infos.map((i) => [i.seqNum, i.name, i.isFollowUp, i.result]), [
    [1, 'Database Resync', false, 'ok'],
    [2, 'Kubernetes State Change', false, 'ok'],
    [3, 'Kubernetes State Change', true, 'ok'],
    [4, 'Kubernetes State Change', false, 'error'],
  ]);
  const info = infos[3]!;
  t.is(info.error?.message, 'bad');
  t.deepEqual(info.handlerMs.map((x) => x.handler), ['A', 'B']);
  t.true(info.handlerMs.every((x) => x.ms >= 0));
  t.true(typeof info.commitMs === 'number' && info.durationMs >= 0);
  t.false(info.healing);
  t.true(h.logger.entries.some((e) => e.msg === 'onEvent listener threw'));
  t.is(h.controller.healthState, 'ok');
  t.false(h.controller.isAborting);
  t.is(h.controller.queueDepth, 0);
  t.throws(() => h.controller.onEvent(5 as never), { instanceOf: TypeError });
  await h.controller.close();
});
