// Regressions from a review of the scheduler and descriptors: each failed before its fix.
import test from 'ava';
import { aclKey, interfaceKey } from '../src/descriptors/index.js';
import { startNativeSim } from '../native-sim/index.js';
import { VppConnector } from '../src/connector/index.js';
import { Scheduler } from '../src/scheduler/index.js';
import { fakeScheduler, kv, T } from './helpers/scheduler-setup.js';
import { thing } from './helpers/scheduler-fake-dataplane.js';
import { realStack, sorted } from './helpers/scheduler-real-stack.js';

/** Resolves when `cond` holds, checking after each macrotask (bounded). */
async function waitFor(cond: () => boolean, rounds = 2000): Promise<boolean> {
  for (let i = 0; i < rounds; i++) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 2));
  }
  return cond();
}

for (const protocol of [6, 17]) {
  test(`S2 S4: an ACL rule naming protocol ${protocol} by number reads back as committed; a full resync right after it is a no-op`, async (t) => {
    const { s } = await realStack(t);
    const acl = new Map([[aclKey('a'), { name: 'a', rules: [{ action: 'PERMIT', ipRule: { ip: { destinationNetwork: '10.0.0.0/8', protocol } } }] }]]);
    t.is((await s.commit(acl, {})).error, null);
    t.deepEqual(sorted(await s.dump('', 'sb')), sorted(await s.dump('', 'nb')));
    const r = await s.commit(acl, { resync: 'full' });
    t.is(r.error, null);
    t.deepEqual(s.getRecordedTransaction(r.seqNum)?.executed, [], 'no drift to fix');
  });
}

test('S4: a startup full resync over a dataplane with memifs of an earlier run creates a new memif', async (t) => {
  const sim = await startNativeSim({ seed: 1 });
  const connector = await VppConnector.connect(sim, { replyTimeout: 2000 });
  t.teardown(async () => {
    await connector.close();
    await sim.close();
  });
  const memif = (name: string) => ({ name, type: 'MEMIF', enabled: true, ipAddresses: [], vrf: 0 });
  const before = new Scheduler({ connector });
  t.is((await before.commit(new Map([[interfaceKey('m1'), memif('m1')]]), { resync: 'full', isStartup: true })).error, null);
  await before.close(); // the agent restarts; the dataplane keeps m1
  const s = new Scheduler({ connector });
  t.teardown(() => s.close());
  const r = await s.commit(new Map([[interfaceKey('m1'), memif('m1')], [interfaceKey('m2'), memif('m2')]]), { resync: 'full', isStartup: true });
  t.is(r.error, null, r.error?.message);
  t.is(s.getStatus(interfaceKey('m2'))?.state, 'configured');
  t.deepEqual(sorted(await s.dump('', 'sb')), sorted(await s.dump('', 'nb')));
});

test('S6: while a resync waits to retry a failed key, the key is retrying, not failed', async (t) => {
  const { dp, s } = fakeScheduler();
  t.teardown(() => s.close());
  dp.failNext('thing_add');
  const done = s.commit(kv({ a: thing(1) }), { resync: 'full', retry: { delay: 60, maxAttempts: 3, expBackoff: false } });
  t.true(await waitFor(() => dp.log.length > 0 && s.getStatus(T('a'))?.state !== 'pending'));
  const waiting = s.getStatus(T('a'));
  t.is(waiting?.state, 'retrying');
  t.is((await done).error, null);
  t.is(s.getStatus(T('a'))?.state, 'configured');
});
