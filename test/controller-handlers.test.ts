import test from 'ava';
import {
  DBResync,
  ExternalConfigResync,
  HealingResync,
  HealingResyncType,
  KubeStateChange,
  UpdateDirectionType,
  UpdateTransactionType,
  VerificationResync,
  newExternalConfigChange,
  type Event,
  type KubeStateData,
} from '../src/api/index.js';
import { TypedUpdate, harness, tracked } from './helpers/controller-fixtures.js';

test('C5: handlers run in the given order for resyncs and Forward updates, reversed for Reverse updates', async (t) => {
  const h = harness(['A', 'B', 'C']);
  await h.controller.start();
  h.controller.pushEvent(new DBResync());
  const fwd = tracked(new TypedUpdate(UpdateTransactionType.BestEffort, UpdateDirectionType.Forward, 'Custom'));
  const rev = tracked(new TypedUpdate(UpdateTransactionType.BestEffort, UpdateDirectionType.Reverse, 'Custom'));
  h.controller.pushEvent(fwd);
  h.controller.pushEvent(rev);
  await rev.settled;
  t.deepEqual(
    h.calls.map((c) => `${c.stage}:${c.handler}`),
    ['resync:A', 'resync:B', 'resync:C', 'update:A', 'update:B', 'update:C', 'update:C', 'update:B', 'update:A'],
  );
  await h.controller.close();
});

test('C5: handlers whose handlesEvent() is false are skipped; DownstreamResync calls no handler', async (t) => {
  const h = harness(['A', 'B']);
  h.handlers[0]!.handles = (ev: Event) => ev.getName() !== 'Custom';
  await h.controller.start();
  h.controller.pushEvent(new DBResync());
  const ev = tracked(new TypedUpdate(UpdateTransactionType.BestEffort, UpdateDirectionType.Forward, 'Custom'));
  h.controller.pushEvent(ev);
  const periodic = tracked(new HealingResync(HealingResyncType.Periodic));
  h.controller.pushEvent(periodic);
  await periodic.settled;
  t.deepEqual(h.calls.map((c) => `${c.stage}:${c.handler}:${c.event}`), [
    'resync:A:Database Resync',
    'resync:B:Database Resync',
    'update:B:Custom',
  ]);
  const commit = h.scheduler.commits.at(-1)!;
  t.is(commit.options.resync, 'downstream');
  t.is(commit.values.size, 0);
  await h.controller.close();
});

test('C5: a handlesEvent() that throws is recorded as that handler\'s error; the others still run', async (t) => {
  const h = harness(['A', 'B']);
  h.handlers[0]!.handles = (ev: Event) => {
    if (ev.getName() === 'Custom') throw new Error('cannot decide');
    return true;
  };
  await h.controller.start();
  h.controller.pushEvent(new DBResync());
  const ev = tracked(new TypedUpdate(UpdateTransactionType.BestEffort, UpdateDirectionType.Forward, 'Custom'));
  h.controller.pushEvent(ev);
  t.is((await ev.settled)?.message, 'cannot decide');
  t.true(h.calls.some((c) => c.stage === 'update' && c.handler === 'B'));
  await h.controller.close();
});

test('C6: every non-Update event increments resyncCount (first resync sees 1) and calls resync()', async (t) => {
  const h = harness(['A']);
  await h.controller.start();
  t.is(h.controller.resyncCount, 0);
  h.controller.pushEvent(new DBResync());
  h.controller.pushEvent(new ExternalConfigResync('ext', false, new Map()));
  h.controller.pushEvent(new HealingResync(HealingResyncType.Periodic));
  const last = tracked(new VerificationResync());
  h.controller.pushEvent(last);
  await last.settled;
  t.is(h.controller.resyncCount, 4);
  t.deepEqual(h.calls.map((c) => c.resyncCount), [1, 2, 4]);
  t.deepEqual(h.scheduler.commits.map((c) => c.options.resync), ['full', 'upstream', 'downstream', 'upstream']);
  await h.controller.close();
});

test('C6: DBResync replaces the kube state handed to handlers; KubeStateChange updates it (C7)', async (t) => {
  const h = harness(['A']);
  let seen: KubeStateData | null = null;
  h.handlers[0]!.onResync = (_ev, kube) => {
    seen = kube;
  };
  await h.controller.start();
  const kube: KubeStateData = new Map([['pod', new Map([['p1', { name: 'p1' }]])]]);
  h.controller.pushEvent(new DBResync({ kubeState: kube }));
  h.controller.pushEvent(new KubeStateChange({ key: 'p2', resource: 'pod', newValue: { name: 'p2' } }));
  h.controller.pushEvent(new KubeStateChange({ key: 'p1', resource: 'pod', prevValue: { name: 'p1' }, newValue: null }));
  // A resource the controller never heard of is applied, not a crash (C19).
  h.controller.pushEvent(new KubeStateChange({ key: 'x', resource: 'gadget', newValue: { v: 1 } }));
  const check = tracked(new ExternalConfigResync('ext', false));
  h.controller.pushEvent(check);
  await check.settled;
  const state = seen as unknown as KubeStateData;
  t.deepEqual([...state.get('pod')!.keys()], ['p2']);
  t.deepEqual(state.get('gadget')?.get('x'), { v: 1 });
  t.is(kube.get('pod')!.size, 1, 'the event\'s own map is not modified');
  await h.controller.close();
});

test('C7: update() return values are change descriptions kept in history and the commit description', async (t) => {
  const h = harness(['A', 'B', 'C']);
  h.handlers[0]!.onUpdate = (_ev, txn) => {
    txn.put('k/a', { a: 1 });
    return 'added a';
  };
  h.handlers[1]!.onUpdate = () => '';
  h.handlers[2]!.onUpdate = async (_ev, txn) => {
    txn.put('k/c', { c: 1 });
    return 'added c';
  };
  await h.controller.start();
  h.controller.pushEvent(new DBResync());
  const ev = tracked(newExternalConfigChange('s', false));
  h.controller.pushEvent(ev);
  await ev.settled;
  const rec = h.controller.getEventHistory().at(-1)!;
  t.deepEqual(rec.handlers.map((x) => [x.handler, x.change]), [
    ['A', 'added a'],
    ['B', ''],
    ['C', 'added c'],
  ]);
  t.is(h.scheduler.commits.at(-1)!.options.description, 'External Config Change\n* A: added a\n* C: added c');
  await h.controller.close();
});

test('C7: resync transactions reject delete; put rejects null/undefined values with TypeError', async (t) => {
  const h = harness(['A']);
  const errors: unknown[] = [];
  h.handlers[0]!.onResync = (_ev, _k, _c, txn) => {
    for (const f of [() => txn.put('k', null as never), () => txn.put('k', undefined as never), () => (txn as { delete?: (k: string) => void }).delete?.('k')]) {
      try {
        f();
      } catch (err) {
        errors.push(err);
      }
    }
    txn.put('k', { ok: true });
    t.deepEqual(txn.get('k'), { ok: true });
    t.is(txn.get('missing'), undefined);
  };
  await h.controller.start();
  const r = tracked(new DBResync());
  h.controller.pushEvent(r);
  t.is(await r.settled, null);
  t.is(errors.length, 3);
  for (const e of errors) t.true(e instanceof TypeError);
  await h.controller.close();
});
