import test from 'ava';
import { Writable } from 'node:stream';
import pino from 'pino';
import { DBResync, KubeStateChange } from '../src/api/index.js';
import { Controller } from '../src/controller/index.js';
import { SchedulerDouble } from './helpers/controller-scheduler-double.js';
import { harness, tracked } from './helpers/controller-fixtures.js';

const pod = (key: string) => new KubeStateChange({ key, resource: 'pod', newValue: { name: key } });

test('C18: each event is logged when it starts (debug) and ends (info/warn) in a readable form', async (t) => {
  const h = harness(['A', 'B']);
  h.handlers[0]!.onUpdate = (_e, txn) => {
    txn.put('k', { v: 1 });
    return 'put k';
  };
  h.handlers[1]!.onUpdate = () => {
    throw new Error('B failed');
  };
  await h.controller.start();
  h.controller.pushEvent(new DBResync());
  const ev = tracked(pod('p1'));
  h.controller.pushEvent(ev);
  await ev.settled;
  const start = h.logger.entries.find((e) => e.level === 'debug' && e.msg.includes('#2'))!;
  t.regex(start.msg, /^\*\*\* Processing event #2: Kubernetes State Change \(add pod p1\) \[Update\] handlers: A, B$/);
  t.like(start.obj, { seqNum: 2, event: 'Kubernetes State Change', handlers: ['A', 'B'] });
  const end = h.logger.entries.find((e) => e.level === 'warn' && e.msg.includes('Finished event #2'))!;
  t.regex(end.msg, /A: "put k"; B: ERROR B failed; txn #2: ok/);
  t.like(end.obj, { seqNum: 2, txnSeqNum: 2, txnError: null });
  const resyncEnd = h.logger.entries.find((e) => e.level === 'info' && e.msg.includes('Finished event #1'))!;
  t.regex(resyncEnd.msg, /Database Resync in \d+ ms; A: ok; B: ok; txn #1: ok/);
  await h.controller.close();
});

test('C18: with the level off no log line is built (toString of the event is not even called for logs)', async (t) => {
  const h = harness(['A'], { config: { recordEventHistory: false } });
  h.logger.level = 'silent';
  await h.controller.start();
  h.controller.pushEvent(new DBResync());
  const ev = tracked(pod('p'));
  let toStringCalls = 0;
  ev.toString = () => {
    toStringCalls++;
    return 'p';
  };
  h.controller.pushEvent(ev);
  await ev.settled;
  t.is(h.logger.entries.length, 0);
  t.is(toStringCalls, 0);
  await h.controller.close();
});

test('C18: a real pino logger works as the logger option; silent by default', async (t) => {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  const logger = pino({ level: 'debug' }, stream);
  const controller = new Controller({ handlers: [], scheduler: new SchedulerDouble(), logger });
  await controller.start();
  const r = tracked(new DBResync());
  controller.pushEvent(r);
  await r.settled;
  await controller.close();
  const parsed = lines.map((l) => JSON.parse(l) as { msg: string; level: number });
  t.true(parsed.some((l) => l.level === 20 && l.msg.startsWith('*** Processing event #1: Database Resync')));
  t.true(parsed.some((l) => l.level === 30 && l.msg.startsWith('*** Finished event #1: Database Resync')));
  const quiet = new Controller({ handlers: [], scheduler: new SchedulerDouble() });
  await quiet.start();
  await quiet.close();
});
