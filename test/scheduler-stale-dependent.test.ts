// A key whose last operation failed half-way (its object may be on the dataplane, unknown to the
// scheduler) must be re-read before any plan acts on it, also when the plan reaches it only
// through a dependency. Otherwise the re-create of a dependency creates it a second time: an ACL
// has no unique name on the dataplane, so the copy the scheduler lost track of outlives every
// later delete and full resync. Real stack: Scheduler -> VppConnector -> native-sim.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import type { Value } from '../src/api/values.js';
import { ReplyTimeoutError } from '../src/connector/index.js';
import { aclKey, interfaceKey } from '../src/descriptors/index.js';
import type { NativeSim } from '../native-sim/index.js';
import type { Scheduler } from '../src/scheduler/index.js';
import { realStack, sorted } from './helpers/scheduler-real-stack.js';

const IF1 = interfaceKey('if1');
const ACL0 = aclKey('acl0');
const iface = (type: string): Value => ({ name: 'if1', type, enabled: true, ipAddresses: ['10.1.0.1/24'], vrf: 0 });
const acl: Value = {
  name: 'acl0',
  rules: [{ action: 'PERMIT', ipRule: { ip: { sourceNetwork: '10.0.0.0/16' } } }],
  interfaces: { ingress: ['if1'], egress: [] },
};

async function aclTags(sim: NativeSim): Promise<string[]> {
  return (await sim.snapshot()).acls.map((a) => a.tag);
}

/**
 * From a state where acl0's create failed after the dataplane made the ACL: re-creating if1 (a
 * type change) reaches acl0 only as if1's dependent; then a full resync without acl0 must leave
 * no ACL behind.
 */
async function recreateDependencyThenResync(t: ExecutionContext, sim: NativeSim, s: Scheduler): Promise<void> {
  t.deepEqual(await aclTags(sim), ['acl0'], 'the failed create left the ACL on the dataplane');
  const r = await s.commit(new Map([[IF1, iface('TAP')]]), {});
  t.is(r.error, null);
  t.is(s.getStatus(ACL0)?.state, 'configured');
  t.deepEqual(await aclTags(sim), ['acl0'], 'one ACL named acl0, not a second copy');
  t.deepEqual(sorted(await s.dump('', 'sb')), sorted(await s.dump('', 'nb')));

  const final = await s.commit(new Map([[IF1, iface('TAP')]]), { resync: 'full' });
  t.is(final.error, null);
  t.deepEqual(await aclTags(sim), [], 'no ACL survives the full resync that removed it');
  t.deepEqual(sorted(await s.dump('', 'sb')), sorted(await s.dump('', 'nb')));
  t.is(s.getStatus(ACL0)?.state, 'removed');
}

test('S3 S4 S5: an ACL whose binding failed after its create is re-read before a dependency re-create plans it again', async (t) => {
  const { sim, s } = await realStack(t);
  t.is((await s.commit(new Map([[IF1, iface('SOFTWARE_LOOPBACK')]]), {})).error, null);
  await sim.setFaults({ errorRate: 1, messages: ['acl_interface_set_acl_list'], seed: 1 });
  const r = await s.commit(new Map([[ACL0, acl]]), {});
  t.deepEqual(r.error?.kvErrors.map((e) => e.key), [ACL0]);
  t.is(s.getStatus(ACL0)?.state, 'failed');
  await sim.setFaults({ errorRate: 0 });
  await recreateDependencyThenResync(t, sim, s);
});

test('S3 S4 S5 V3: an ACL create that timed out but was applied late is re-read before a dependency re-create plans it again', async (t) => {
  const { sim, connector, s } = await realStack(t, 1, 750);
  t.is((await s.commit(new Map([[IF1, iface('SOFTWARE_LOOPBACK')]]), {})).error, null);
  // The dataplane stops reading requests until told otherwise: the create times out unanswered.
  await sim.setFaults({ stallMs: 600_000 });
  const r = await s.commit(new Map([[ACL0, acl]]), {});
  t.true(r.error?.kvErrors.find((e) => e.key === ACL0)?.error instanceof ReplyTimeoutError);
  t.is(s.getStatus(ACL0)?.state, 'failed');
  // Resumed, it executes the create it had queued (its reply comes too late and is discarded).
  await sim.setFaults({ stallMs: 0 });
  // The sim answers in order: once a later ping is answered, the create has been applied.
  await connector.ping();
  t.is(connector.stats().lateReplies, 1);
  await recreateDependencyThenResync(t, sim, s);
});
