import test from 'ava';
import { DBResync, HealingResync, HealingResyncType, KubeStateChange } from '../src/api/index.js';
import { harness, nextProcessed, tracked } from './helpers/controller-fixtures.js';

const pod = (key: string) => new KubeStateChange({ key, resource: 'pod', newValue: { name: key } });

test('C14: after a failed event one HealingResync(AfterError) is pushed after delayAfterErrorHealing, at most one at a time', async (t) => {
  const h = harness(['A'], { config: { delayAfterErrorHealing: 30 } });
  h.handlers[0]!.onUpdate = () => {
    throw new Error('boom');
  };
  await h.controller.start();
  h.controller.pushEvent(new DBResync());
  const healing = nextProcessed(h.controller, 'Healing Resync');
  const failing = [tracked(pod('a')), tracked(pod('b')), tracked(pod('c'))];
  for (const ev of failing) h.controller.pushEvent(ev);
  await Promise.all(failing.map((e) => e.settled));
  const info = await healing;
  t.is(info.healing, true);
  t.is(info.result, 'ok');
  const records = h.controller.getEventHistory();
  t.is(records.filter((r) => r.name === 'Healing Resync').length, 1);
  const last = records.at(-1)!;
  t.is(last.name, 'Healing Resync');
  t.regex(last.description, /after error: boom/);
  t.false(last.isFollowUp, 'pushed by a timer, not from an event');
  t.true(last.processingStart - records[3]!.processingEnd >= 25, 'after the delay');
  t.is(h.scheduler.commits.at(-1)!.options.resync, 'full');
  await h.controller.close();
});

test('C14: after the healing resync ran, a new failure schedules healing again', async (t) => {
  const h = harness(['A'], { config: { delayAfterErrorHealing: 1 } });
  h.handlers[0]!.onUpdate = () => {
    throw new Error('boom');
  };
  await h.controller.start();
  h.controller.pushEvent(new DBResync());
  for (let round = 0; round < 2; round++) {
    const healing = nextProcessed(h.controller, 'Healing Resync');
    h.controller.pushEvent(pod(`p${round}`));
    await healing;
  }
  t.is(h.controller.getEventHistory().filter((r) => r.name === 'Healing Resync').length, 2);
  await h.controller.close();
});

test('C19: a healing resync that could not be pushed (queue full) does not block later healing', async (t) => {
  const h = harness(['A'], { config: { delayAfterErrorHealing: 5, eventQueueSize: 1 } });
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let blocked!: () => void;
  const isBlocked = new Promise<void>((r) => (blocked = r));
  h.handlers[0]!.onUpdate = async (ev) => {
    const key = (ev as KubeStateChange).key;
    if (key === 'block') {
      blocked();
      await gate;
    }
    if (key.startsWith('fail')) throw new Error(`failed ${key}`);
  };
  const pushFailed = new Promise<void>((resolve) => {
    h.logger.onEntry = (e) => {
      if (e.level === 'error' && e.msg.includes('failed to push the healing resync')) resolve();
    };
  });
  await h.controller.start();
  const r = tracked(new DBResync());
  h.controller.pushEvent(r);
  await r.settled;
  const fail1 = tracked(pod('fail1'));
  h.controller.pushEvent(fail1);
  await fail1.settled;
  // The loop is now stuck in "block" and the queue (capacity 1) is full when the healing timer fires.
  h.controller.pushEvent(pod('block'));
  await isBlocked;
  const filler = tracked(pod('filler'));
  h.controller.pushEvent(filler);
  await pushFailed;
  release();
  t.is(await filler.settled, null);
  const healing = nextProcessed(h.controller, 'Healing Resync');
  h.controller.pushEvent(pod('fail2'));
  t.is((await healing).result, 'ok');
  t.regex(h.controller.getEventHistory().at(-1)!.description, /failed fail2/);
  await h.controller.close();
});

test('C14: with enablePeriodicHealing a periodic HealingResync (downstream) is pushed every interval after the first DBResync', async (t) => {
  const h = harness(['A'], { config: { enablePeriodicHealing: true, periodicHealingInterval: 10 } });
  // The periodic timer is unref'd (it must not keep an embedder's process alive): keep this one alive.
  const keepAlive = setInterval(() => {}, 1000);
  t.teardown(() => clearInterval(keepAlive));
  await h.controller.start();
  const r = tracked(new DBResync());
  h.controller.pushEvent(r);
  await r.settled;
  const first = await nextProcessed(h.controller, 'Healing Resync');
  const second = await nextProcessed(h.controller, 'Healing Resync');
  t.true(first.healing && second.healing);
  const periodic = h.controller.getEventHistory().filter((x) => x.name === 'Healing Resync');
  t.true(periodic.length >= 2);
  t.true(periodic.every((x) => x.description === 'Healing Resync (periodic)' && x.handlers.length === 0));
  t.is(h.scheduler.commits.at(-1)!.options.resync, 'downstream');
  t.deepEqual(h.calls.map((c) => c.event), ['Database Resync'], 'no handler sees a periodic healing');
  await h.controller.close();
  const count = h.controller.getEventHistory().length;
  await new Promise((res) => setTimeout(res, 30));
  t.is(h.controller.getEventHistory().length, count, 'timer stopped by close()');
});

test('C14: periodic healing does not start before the first DBResync', async (t) => {
  const h = harness(['A'], { config: { enablePeriodicHealing: true, periodicHealingInterval: 5 } });
  await h.controller.start();
  await new Promise((res) => setTimeout(res, 30));
  t.is(h.controller.queueDepth, 0);
  t.deepEqual(h.controller.getEventHistory(), []);
  await h.controller.close();
});

test('C14: HealingResync events can also be pushed by the embedder', async (t) => {
  const h = harness(['A']);
  await h.controller.start();
  h.controller.pushEvent(new DBResync());
  const processed = nextProcessed(h.controller, 'Healing Resync');
  const ev = tracked(new HealingResync(1, new Error('external')));
  h.controller.pushEvent(ev);
  t.is(await ev.settled, null);
  // It ran as a resync: the handler's resync was called and a full resync was committed.
  const info = await processed;
  t.is(info.healing, true);
  t.deepEqual(h.calls.filter((c) => c.stage === 'resync').map((c) => c.event), ['Database Resync', 'Healing Resync']);
  t.deepEqual(h.scheduler.commits.map((c) => c.options.resync), ['full', 'full']);
  await h.controller.close();
});

test('C14 C17: a HealingResync pushed by others does not re-open scheduling: one timer at a time, and close() stops it', async (t) => {
  const h = harness(['A'], { config: { delayAfterErrorHealing: 80 } });
  h.handlers[0]!.onUpdate = (ev) => {
    if ((ev as KubeStateChange).key.startsWith('bad')) throw new Error('boom');
  };
  await h.controller.start();
  h.controller.pushEvent(new DBResync());
  const first = tracked(pod('bad1'));
  h.controller.pushEvent(first);
  await first.settled; // healing timer armed
  const ours = tracked(new HealingResync(HealingResyncType.AfterError, new Error('pushed by the embedder')));
  h.controller.pushEvent(ours);
  await ours.settled;
  const second = tracked(pod('bad2'));
  h.controller.pushEvent(second);
  await second.settled; // must not arm a second timer
  await h.controller.close();
  await new Promise((r) => setTimeout(r, 150));
  t.deepEqual(
    h.logger.entries.filter((e) => e.msg.includes('healing resync')).map((e) => e.msg),
    [],
    'no healing timer fired after close()',
  );
  t.is(h.controller.getEventHistory().filter((r) => r.name === 'Healing Resync').length, 1, 'only the embedder\'s');
});
