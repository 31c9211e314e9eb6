import test from 'ava';
import { DBResync, KubeStateChange, VerificationResync } from '../src/api/index.js';
import { harness, nextProcessed, processedTimes, tracked } from './helpers/controller-fixtures.js';

const pod = (key: string) => new KubeStateChange({ key, resource: 'pod', newValue: { name: key } });

test('C15: with enableVerification a VerificationResync follows every event that did not need healing', async (t) => {
  const h = harness(['A'], { config: { enableVerification: true, delayAfterErrorHealing: 100000 } });
  h.handlers[0]!.onUpdate = (ev) => {
    if ((ev as KubeStateChange).key === 'bad') throw new Error('bad');
  };
  const threeVerifications = processedTimes(h.controller, 'Verification Resync', 3);
  await h.controller.start();
  h.controller.pushEvent(new DBResync());
  h.controller.pushEvent(pod('good'));
  h.controller.pushEvent(pod('bad'));
  h.controller.pushEvent(pod('last'));
  // After DBResync, "good" and "last" ("bad" needed healing).
  await threeVerifications;
  const recs = h.controller.getEventHistory();
  t.deepEqual(
    recs.map((r) => r.name),
    [
      'Database Resync',
      'Verification Resync',
      'Kubernetes State Change',
      'Verification Resync',
      'Kubernetes State Change',
      'Kubernetes State Change',
      'Verification Resync',
    ],
  );
  for (const i of [1, 3, 6]) {
    t.true(recs[i]!.isFollowUp);
    t.is(recs[i]!.followUpTo, recs[i - 1]!.seqNum);
  }
  t.is(h.scheduler.commits.at(-1)!.options.resync, 'upstream');
  t.false(h.logger.entries.some((e) => e.level === 'error'));
  await h.controller.close();
});

test('C15: a handler whose internal data differs across the verification resync is logged as an error', async (t) => {
  const h = harness(['A', 'B'], { config: { enableVerification: true } });
  let counter = 0;
  h.handlers[0]!.describeInternalData = () => `state ${counter}`;
  h.handlers[0]!.onResync = () => {
    counter++;
  };
  h.handlers[1]!.describeInternalData = () => 'stable';
  await h.controller.start();
  const done = nextProcessed(h.controller, 'Verification Resync');
  h.controller.pushEvent(new DBResync());
  await done;
  const errors = h.logger.entries.filter((e) => e.level === 'error');
  t.is(errors.length, 1);
  t.regex(errors[0]!.msg, /verification: internal data of handler A changed/);
  t.deepEqual(errors[0]!.obj, { handler: 'A', before: 'state 1', after: 'state 2' });
  await h.controller.close();
});

test('C15: a verification resync that executed dataplane operations is logged as out of sync', async (t) => {
  const h = harness(['A'], { config: { enableVerification: false } });
  await h.controller.start();
  h.controller.pushEvent(new DBResync());
  h.scheduler.executedOps = [{ key: 'k', op: 'create' }];
  const v = tracked(new VerificationResync());
  h.controller.pushEvent(v);
  await v.settled;
  t.true(h.logger.entries.some((e) => e.level === 'error' && /dataplane was out of sync \(1 operation/.test(e.msg)));
  await h.controller.close();
});

test('C15: a describeInternalData() that throws before the resync is logged; the verification resync still runs and commits', async (t) => {
  const h = harness(['A', 'B'], { config: { enableVerification: true } });
  let calls = 0;
  h.handlers[0]!.describeInternalData = () => {
    if (++calls === 1) throw new Error('describe failed');
    return 'state';
  };
  h.handlers[1]!.describeInternalData = () => 'b';
  const verified = nextProcessed(h.controller, 'Verification Resync');
  await h.controller.start();
  h.controller.pushEvent(new DBResync());
  const info = await verified;
  t.is(info.result, 'ok');
  t.deepEqual(h.calls.map((c) => `${c.handler}:${c.stage}:${c.event}`), [
    'A:resync:Database Resync',
    'B:resync:Database Resync',
    'A:resync:Verification Resync',
    'B:resync:Verification Resync',
  ]);
  t.deepEqual(h.scheduler.commits.map((c) => c.options.resync), ['full', 'upstream']);
  t.deepEqual(h.controller.getEventHistory().map((r) => r.name), ['Database Resync', 'Verification Resync']);
  const errors = h.logger.entries.filter((e) => e.level === 'error').map((e) => e.msg);
  t.is(errors.length, 1, errors.join('\n'));
  t.regex(errors[0]!, /describeInternalData\(\) of A threw \(before the resync\)/);
  await h.controller.close();
});
