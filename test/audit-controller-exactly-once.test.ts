// Failure-path audit of the controller (SPEC C2, C3, C13, C17, C19): seeded random runs mix handlers
// that throw, reject, hang past handlerTimeout (a commit past commitTimeout), abort, go fatal, push follow-ups (blocking ones too),
// close the controller from inside a handler, or whose done() throws, with commits that fail and a
// close() at a random point. Every accepted event must be finished exactly once, every refused push
// never. The scheduler is a test double of the KVScheduler interface.
import test from 'ava';
import fc from 'fast-check';
import { EventMethodType, UpdateDirectionType, UpdateTransactionType } from '../src/api/enums.js';
import { AbortEventError, EngineError, FatalError } from '../src/api/errors.js';
import { DBResync, WaitableEvent, type Event, type UpdateEvent } from '../src/api/events.js';
import type { UpdateOperations } from '../src/api/transactions.js';
import { Controller } from '../src/controller/index.js';
import { SchedulerDouble } from './helpers/controller-scheduler-double.js';
import { TestHandler } from './helpers/controller-fixtures.js';

const BEHAVIOURS = ['ok', 'throw', 'reject', 'hang', 'slow', 'followUp', 'blockingFollowUp', 'abort', 'fatal', 'close', 'doneThrows', 'timerPush', 'failCommit', 'hangCommit'] as const;
type Behaviour = (typeof BEHAVIOURS)[number];

class AuditEvent extends WaitableEvent implements UpdateEvent {
  static next = 0;
  readonly id = ++AuditEvent.next;
  doneCount = 0;
  readonly behaviour: Behaviour;
  readonly blocking: boolean;
  readonly revert: boolean;
  constructor(behaviour: Behaviour, blocking = false, revert = false) {
    super();
    this.behaviour = behaviour;
    this.blocking = blocking;
    this.revert = revert;
  }
  getName(): string {
    return 'Audit';
  }
  override toString(): string {
    return `Audit #${this.id} (${this.behaviour})`;
  }
  method(): EventMethodType {
    return EventMethodType.Update;
  }
  transactionType(): UpdateTransactionType {
    return this.revert ? UpdateTransactionType.RevertOnFailure : UpdateTransactionType.BestEffort;
  }
  direction(): UpdateDirectionType {
    return UpdateDirectionType.Forward;
  }
  isBlocking(): boolean {
    return this.blocking;
  }
  override done(err: Error | null): void {
    this.doneCount++;
    super.done(err);
    if (this.behaviour === 'doneThrows') throw new Error('done() threw on purpose');
  }
}

class CountedResync extends DBResync {
  doneCount = 0;
  override done(err: Error | null): void {
    this.doneCount++;
    super.done(err);
  }
}

interface Step {
  readonly behaviour: Behaviour;
  readonly blocking: boolean;
  readonly revert: boolean;
  readonly yieldAfter: boolean;
}

const step = fc.record({
  behaviour: fc.constantFrom(...BEHAVIOURS),
  blocking: fc.boolean(),
  revert: fc.boolean(),
  yieldAfter: fc.boolean(),
});

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function runScenario(steps: readonly Step[], resyncAt: number, closeAt: number, asyncCommits: boolean): Promise<string | null> {
  const scheduler = new SchedulerDouble();
  scheduler.async = asyncCommits;
  const hangKeys = new Set<string>();
  // A commit carrying a 'hangCommit' key never settles (commitTimeout ends it).
  scheduler.onCommit = (values) => {
    scheduler.hang = [...values.keys()].some((k) => hangKeys.has(k));
  };
  const accepted: Array<AuditEvent | CountedResync> = [];
  const refused: Array<{ event: AuditEvent | CountedResync; err: unknown }> = [];
  const timerPushes: Array<Promise<void>> = [];
  // Handlers are built before the controller they push into.
  const box = {} as { controller: Controller };
  const closes: Array<Promise<void>> = [];

  const push = (event: AuditEvent | CountedResync): void => {
    try {
      box.controller.pushEvent(event);
      accepted.push(event);
    } catch (err) {
      refused.push({ event, err });
    }
  };

  const handler = new TestHandler('A');
  handler.onUpdate = (event: Event, txn: UpdateOperations): unknown => {
    if (!(event instanceof AuditEvent)) return undefined;
    txn.put(`k/${event.id}`, { id: event.id });
    switch (event.behaviour) {
      case 'throw':
        throw new Error('handler threw');
      case 'reject':
        return Promise.reject(new Error('handler rejected'));
      case 'hang':
        return new Promise(() => undefined);
      case 'slow':
        return turn().then(() => 'slow change');
      case 'followUp':
        push(new AuditEvent('ok'));
        return turn().then(() => push(new AuditEvent('slow')));
      case 'blockingFollowUp':
        push(new AuditEvent('ok', true));
        return undefined;
      case 'abort':
        throw new AbortEventError(new Error('abort this one'));
      case 'fatal':
        throw new FatalError(new Error('fatal'));
      case 'close':
        closes.push(box.controller.close());
        return undefined;
      case 'timerPush':
        timerPushes.push(
          new Promise((resolve) =>
            setImmediate(() => {
              push(new AuditEvent('ok'));
              resolve();
            }),
          ),
        );
        return undefined;
      case 'hangCommit':
        hangKeys.add(`k/${event.id}`);
        return undefined;
      case 'failCommit':
        scheduler.failKeys.add(`k/${event.id}`);
        return undefined;
      default:
        return undefined;
    }
  };
  const second = new TestHandler('B');
  second.onUpdate = (event: Event) => (event instanceof AuditEvent && event.revert && event.behaviour === 'ok' ? Promise.reject(new Error('B fails reverts')) : undefined);

  const controller = (box.controller = new Controller({
    handlers: [handler, second],
    scheduler,
    config: { eventQueueSize: 6, handlerTimeout: 20, commitTimeout: 20, delayAfterErrorHealing: 1, startupResyncDeadline: 60_000 },
  }));
  await controller.start();
  for (let i = 0; i <= steps.length; i++) {
    if (i === resyncAt) push(new CountedResync());
    if (i === closeAt) closes.push(controller.close());
    const s = steps[i];
    if (s === undefined) break;
    push(new AuditEvent(s.behaviour, s.blocking, s.revert));
    if (s.yieldAfter) await turn();
  }
  closes.push(controller.close());
  await Promise.all(closes);
  await Promise.all(timerPushes);

  for (const e of accepted) {
    if (e.doneCount !== 1) return `accepted ${String(e)} finished ${e.doneCount} times`;
  }
  for (const { event, err } of refused) {
    if (event.doneCount !== 0) return `refused ${String(event)} was finished ${event.doneCount} times`;
    if (!(err instanceof EngineError)) return `refused ${String(event)} with an untyped error: ${String(err)}`;
  }
  // A blocking event that was accepted: its producer's wait() has settled.
  for (const e of accepted) if (e instanceof AuditEvent && e.blocking && !e.isDone) return `wait() of ${String(e)} never settles`;
  return null;
}

test('C2 C3 C13 C17 C19: every accepted event is finished exactly once, every refused push never (seeded mix of failures and a close at a random point)', async (t) => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(step, { minLength: 1, maxLength: 14 }),
      // The startup resync mostly comes first (else everything is held until close), sometimes later.
      fc.oneof(fc.constant(0), fc.nat({ max: 16 })),
      fc.nat({ max: 24 }),
      fc.boolean(),
      async (steps, resyncAt, closeAt, asyncCommits) => {
        const problem = await runScenario(steps, resyncAt, closeAt, asyncCommits);
        if (problem !== null) throw new Error(problem);
      },
    ),
    { seed: Number(process.env['AUDIT_SEED'] ?? 20261122), numRuns: Number(process.env['AUDIT_RUNS'] ?? 100) },
  );
  t.pass();
});
