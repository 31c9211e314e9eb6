import test from 'ava';
import {
  DBResync,
  DeadlockError,
  EventQueueFullError,
  KubeStateChange,
  newExternalConfigChange,
  type Event,
} from '../src/api/index.js';
import { harness, tracked } from './helpers/controller-fixtures.js';

const pod = (key: string) => new KubeStateChange({ key, resource: 'pod', newValue: { name: key } });
const keyOf = (ev: Event) => (ev as KubeStateChange).key;

function keyIn(description: string): string {
  return /pod (\S+)\)$/.exec(description)?.[1] ?? description;
}

function order(h: ReturnType<typeof harness>): string[] {
  return h.controller
    .getEventHistory()
    .filter((r) => r.name === 'Kubernetes State Change')
    .map((r) => `${keyIn(r.description)}${r.isFollowUp ? `<-#${String(r.followUpTo)}` : ''}`);
}

test('C3: a follow-up pushed by a handler overtakes events queued from outside', async (t) => {
  const h = harness(['A']);
  const fu = tracked(pod('follow'));
  h.handlers[0]!.onUpdate = (ev) => {
    if (keyOf(ev) === 'first') h.controller.pushEvent(fu);
  };
  await h.controller.start();
  h.controller.pushEvent(new DBResync());
  const last = tracked(pod('second'));
  h.controller.pushEvent(pod('first'));
  h.controller.pushEvent(last);
  await last.settled;
  const history = h.controller.getEventHistory();
  const first = history.find((r) => keyIn(r.description) === 'first')!;
  t.deepEqual(order(h), ['first', `follow<-#${first.seqNum}`, 'second']);
  await h.controller.close();
});

test('C3: follow-ups from an async continuation of a handler, from done() and from the scheduler', async (t) => {
  const h = harness(['A']);
  h.handlers[0]!.onUpdate = async (ev) => {
    if (keyOf(ev) === 'async-src') {
      await new Promise((r) => setImmediate(r));
      await Promise.resolve();
      h.controller.pushEvent(pod('from-async'));
    }
  };
  h.scheduler.onCommit = (values) => {
    if (values.has('sched-src')) h.controller.pushEvent(pod('from-scheduler'));
  };
  h.handlers[0]!.onResync = () => undefined;
  await h.controller.start();
  h.controller.pushEvent(new DBResync());
  const doneSrc = pod('done-src');
  doneSrc.done = () => h.controller.pushEvent(pod('from-done'));
  const schedSrc = new KubeStateChange({ key: 'sched', resource: 'pod', newValue: { a: 1 } });
  const origUpdate = h.handlers[0]!.onUpdate;
  h.handlers[0]!.onUpdate = (ev, txn) => {
    if (ev === schedSrc) txn.put('sched-src', { x: 1 });
    return origUpdate(ev, txn);
  };
  h.controller.pushEvent(pod('async-src'));
  h.controller.pushEvent(doneSrc);
  h.controller.pushEvent(schedSrc);
  const last = tracked(pod('outside'));
  h.controller.pushEvent(last);
  await last.settled;
  const recs = h.controller.getEventHistory().filter((r) => r.name === 'Kubernetes State Change');
  const seq = (suffix: string) => recs.find((r) => keyIn(r.description) === suffix)!;
  for (const [follow, src] of [
    ['from-async', 'async-src'],
    ['from-done', 'done-src'],
    ['from-scheduler', 'sched'],
  ] as const) {
    t.true(seq(follow).isFollowUp, follow);
    t.is(seq(follow).followUpTo, seq(src).seqNum, follow);
    t.is(seq(follow).seqNum, seq(src).seqNum + 1, `${follow} runs right after its source`);
  }
  t.false(seq('outside').isFollowUp);
  t.is(seq('outside').followUpTo, null);
  await h.controller.close();
});

test('C3: an event pushed by an unrelated timer while an event is in flight is a normal event', async (t) => {
  const h = harness(['A']);
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let timerPushed!: () => void;
  const pushedByTimer = new Promise<void>((r) => (timerPushed = r));
  h.handlers[0]!.onUpdate = async (ev) => {
    if (keyOf(ev) === 'slow') await gate;
  };
  await h.controller.start();
  h.controller.pushEvent(new DBResync());
  h.controller.pushEvent(pod('slow'));
  h.controller.pushEvent(pod('queued'));
  // The timer is created outside any event's context; it fires while "slow" is in flight.
  const timerEvent = tracked(pod('timer'));
  setTimeout(() => {
    h.controller.pushEvent(timerEvent);
    timerPushed();
  }, 5);
  await pushedByTimer;
  release();
  await timerEvent.settled;
  t.deepEqual(order(h), ['slow', 'queued', 'timer']);
  await h.controller.close();
});

test('C3: a producer resuming after wait() pushes a normal event', async (t) => {
  const h = harness(['A']);
  await h.controller.start();
  h.controller.pushEvent(new DBResync());
  const ev = newExternalConfigChange('src', true);
  h.controller.pushEvent(ev);
  await ev.wait();
  const next = tracked(pod('after-wait'));
  h.controller.pushEvent(next);
  await next.settled;
  const rec = h.controller.getEventHistory().find((r) => keyIn(r.description) === 'after-wait')!;
  t.false(rec.isFollowUp);
  await h.controller.close();
});

test('C3: a timer set by a handler that fires after its event finished pushes a normal event', async (t) => {
  const h = harness(['A']);
  let fired!: () => void;
  const firedP = new Promise<void>((r) => (fired = r));
  const late = tracked(pod('late'));
  h.handlers[0]!.onUpdate = (ev) => {
    if (keyOf(ev) === 'src') {
      setTimeout(() => {
        h.controller.pushEvent(late);
        fired();
      }, 1);
    }
  };
  await h.controller.start();
  h.controller.pushEvent(new DBResync());
  const src = tracked(pod('src'));
  h.controller.pushEvent(src);
  await src.settled;
  await firedP;
  await late.settled;
  t.false(h.controller.getEventHistory().find((r) => keyIn(r.description) === 'late')!.isFollowUp);
  await h.controller.close();
});

test('C3: a blocking follow-up throws DeadlockError; the pushing handler fails, the loop goes on', async (t) => {
  const h = harness(['A']);
  let thrown: unknown;
  h.handlers[0]!.onUpdate = (ev) => {
    if (keyOf(ev) === 'src') {
      try {
        h.controller.pushEvent(newExternalConfigChange('x', true));
      } catch (err) {
        thrown = err;
        throw err;
      }
    }
  };
  await h.controller.start();
  h.controller.pushEvent(new DBResync());
  const src = tracked(pod('src'));
  h.controller.pushEvent(src);
  const err = await src.settled;
  t.true(thrown instanceof DeadlockError);
  t.is((thrown as DeadlockError).code, 'ERR_DEADLOCK');
  t.is(err, thrown as Error);
  const next = tracked(pod('next'));
  h.controller.pushEvent(next);
  t.is(await next.settled, null);
  await h.controller.close();
});

test('C3: the follow-up queue has the same bounded capacity', async (t) => {
  const h = harness(['A'], { config: { eventQueueSize: 2 } });
  const errors: unknown[] = [];
  h.handlers[0]!.onUpdate = (ev) => {
    if (keyOf(ev) !== 'src') return;
    for (let i = 0; i < 3; i++) {
      try {
        h.controller.pushEvent(pod(`fu${i}`));
      } catch (err) {
        errors.push(err);
      }
    }
  };
  await h.controller.start();
  h.controller.pushEvent(new DBResync());
  const src = tracked(pod('src'));
  h.controller.pushEvent(src);
  await src.settled;
  t.is(errors.length, 1);
  t.true(errors[0] instanceof EventQueueFullError);
  await h.controller.close();
  t.deepEqual(order(h).map((s) => s.split('<')[0]), ['src', 'fu0', 'fu1']);
});
