// Dataplane faults on the real stack (Scheduler -> VppConnector -> native-sim with injected faults).
import test from 'ava';
import { interfaceKey, routeKey } from '../src/descriptors/index.js';
import { SchedulerClosedError } from '../src/scheduler/index.js';
import type { Scheduler } from '../src/scheduler/index.js';
import { inSync, realStack } from './helpers/scheduler-real-stack.js';

const loop = (name: string, extra: Record<string, unknown> = {}) => ({ name, type: 'SOFTWARE_LOOPBACK', enabled: true, ipAddresses: [], vrf: 0, ...extra });
const route = { vrfId: 0, dstNetwork: '10.60.0.0/16', outgoingInterface: 'f1', nextHopAddr: '10.0.0.2' };

/** Resolves when `cond` holds, checking after each macrotask (bounded). */
async function waitFor(cond: () => boolean, rounds = 3000): Promise<boolean> {
  for (let i = 0; i < rounds && !cond(); i++) await new Promise((r) => setTimeout(r, 2));
  return cond();
}

function config(): Map<string, Record<string, unknown>> {
  return new Map<string, Record<string, unknown>>([
    [interfaceKey('f1'), loop('f1', { ipAddresses: ['10.0.0.1/24'] })],
    [routeKey(route), route],
  ]);
}

test('S5: a negative retval fails only its key, carrying the VPP code; the next commit heals it', async (t) => {
  const { sim, s } = await realStack(t);
  await sim.setFaults({ errorRate: 1, messages: ['ip_route_add_del'], seed: 1 });
  const r = await s.commit(config(), {});
  t.deepEqual(r.error?.kvErrors.map((e) => e.key), [routeKey(route)]);
  const err = r.error?.kvErrors[0]?.error as { code?: string; retval?: number };
  t.is(err.code, 'ERR_VPP_API');
  t.true((err.retval ?? 0) < 0);
  t.is(s.getStatus(interfaceKey('f1'))?.state, 'configured');
  t.is(s.getStatus(routeKey(route))?.state, 'failed');
  await sim.setFaults({ errorRate: 0 });
  t.is((await s.commit(new Map([[routeKey(route), route]]), {})).error, null);
  await inSync(t, s);
});

test('S5: with revert on the real dataplane, a failure undoes what the commit created', async (t) => {
  const { sim, s } = await realStack(t);
  await sim.setFaults({ errorRate: 1, messages: ['ip_route_add_del'], seed: 1 });
  const r = await s.commit(config(), { revert: true });
  t.truthy(r.error);
  t.deepEqual([...(await s.dump('', 'sb')).keys()], [], 'the interface created before the failure is gone');
  t.deepEqual([...(await s.dump('', 'nb')).keys()], []);
  t.true(s.getRecordedTransaction(r.seqNum)?.executed.some((o) => o.op === 'delete' && o.note === 'revert'));
});

test('S6: retries with backoff succeed once the dataplane stops failing', async (t) => {
  const { sim, s } = await realStack(t);
  await sim.setFaults({ errorRate: 1, messages: ['create_loopback'], seed: 1 });
  const r = await s.commit(config(), { retry: { delay: 5, maxAttempts: 10, expBackoff: true } });
  t.deepEqual(r.error?.kvErrors.map((e) => e.key), [interfaceKey('f1')]);
  t.is(s.getStatus(interfaceKey('f1'))?.state, 'retrying');
  t.is(s.getStatus(routeKey(route))?.state, 'pending');
  // Let one retry fail too, then lift the fault.
  t.true(await waitFor(() => s.getTransactionHistory().some((x) => x.origin === 'retry')));
  await sim.setFaults({ errorRate: 0 });
  t.true(await waitFor(() => s.getStatus(routeKey(route))?.state === 'configured'));
  const retries = s.getTransactionHistory().filter((x) => x.origin === 'retry');
  t.true(retries.every((x) => x.retryOf === r.seqNum));
  await inSync(t, s);
});

test('S5: a stalled dataplane fails the wave with a reply timeout; the key is re-read and healed later', async (t) => {
  const { sim, s } = await realStack(t, 1, 200);
  await sim.setFaults({ stallMs: 600 });
  const r = await s.commit(config(), {});
  t.is((r.error?.kvErrors[0]?.error as { code?: string }).code, 'ERR_REPLY_TIMEOUT');
  t.is(s.getStatus(interfaceKey('f1'))?.state, 'failed');
  await waitForHealthy(s);
  const again = await s.commit(config(), {});
  t.is(again.error, null);
  await inSync(t, s);
});

test('S5: close() while the dataplane stalls fails the in-flight commit with SchedulerClosedError', async (t) => {
  const { sim, s } = await realStack(t, 1, 5000);
  await sim.setFaults({ stallMs: 1000 });
  const inflight = s.commit(config(), {});
  await new Promise((r) => setImmediate(r));
  await s.close();
  const r = await inflight;
  t.true(r.error?.kvErrors[0]?.error instanceof SchedulerClosedError);
  await t.throwsAsync(() => s.commit(config(), {}), { instanceOf: SchedulerClosedError });
});

/** The stall is over when a dump answers again; a stall that never ends fails the test here, named. */
async function waitForHealthy(s: Scheduler): Promise<void> {
  let last: unknown;
  for (let i = 0; i < 100; i++) {
    try {
      await s.dump('config/vpp/v2/interfaces/', 'sb');
      return;
    } catch (err) {
      last = err; // still stalled: the dump timed out; ask again
    }
  }
  throw new Error(`the dataplane did not answer a dump after 100 tries: ${String(last)}`);
}

test('S3 S5: a value waiting for a dependency whose create failed half way is created once a re-read finds the dependency (by retry or by the next commit)', async (t) => {
  const tap = { name: 'tap1', type: 'TAP', enabled: true, ipAddresses: ['10.1.0.2/24'] };
  const r2 = { vrfId: 0, dstNetwork: '10.2.0.0/16', outgoingInterface: 'tap1', nextHopAddr: '10.1.0.1' };
  const want = new Map<string, Record<string, unknown>>([[interfaceKey('tap1'), tap], [routeKey(r2), r2]]);
  // The TAP is made, its admin-up fails: the interface is fixed by an update, never a create.
  for (const heal of ['retry', 'recommit'] as const) {
    const { sim, s } = await realStack(t);
    await sim.setFaults({ errorRate: 1, messages: ['sw_interface_set_flags'], seed: 1 });
    const first = await s.commit(want, heal === 'retry' ? { retry: { delay: 50, maxAttempts: 3, expBackoff: false } } : {});
    t.truthy(first.error, heal);
    t.is(s.getStatus(routeKey(r2))?.state, 'pending');
    await sim.setFaults({ errorRate: 0, messages: [] });
    if (heal === 'recommit') await s.commit(new Map([[interfaceKey('tap1'), tap]]), {});
    t.true(await waitFor(() => s.getStatus(routeKey(r2))?.state === 'configured'), `${heal}: the route is ${JSON.stringify(s.getStatus(routeKey(r2)))}`);
    t.is(s.getStatus(interfaceKey('tap1'))?.state, 'configured');
    await inSync(t, s);
  }
});
