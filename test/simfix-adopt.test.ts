// A create whose reply was lost (timeout) did happen on the dataplane: the next attempt must end
// configured with exactly one object, never fail on "already exists" forever. Real stack.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { interfaceKey, routeKey, vrfTableKey } from '../src/descriptors/index.js';
import { ReplyTimeoutError } from '../src/connector/index.js';
import type { NativeSim } from '../native-sim/index.js';
import { inSync, type RealStack, realStack } from './helpers/scheduler-real-stack.js';

const tap = (name: string, extra: Record<string, unknown> = {}) => ({ name, type: 'TAP', enabled: true, ipAddresses: ['10.1.0.1/24'], vrf: 0, ...extra });
const route = { vrfId: 0, dstNetwork: '10.60.0.0/16', outgoingInterface: 't1', nextHopAddr: '10.1.0.2' };

/** Commits the tap while the dataplane stalls: the create times out but is applied afterwards. */
async function lostCreate(t: ExecutionContext, stack: RealStack, value: Record<string, unknown>): Promise<void> {
  const { sim, s, connector } = stack;
  await sim.setFaults({ stallMs: 500 });
  const r = await s.commit(new Map([[interfaceKey('t1'), value]]), {});
  t.is((r.error?.kvErrors[0]?.error as { code?: string } | undefined)?.code, 'ERR_REPLY_TIMEOUT');
  t.is(s.getStatus(interfaceKey('t1'))?.state, 'failed');
  // The sim answers in order: once a ping is answered, the lost create has been applied.
  for (let i = 0; ; i++) {
    try {
      await connector.request('control_ping');
      break;
    } catch (err) {
      if (!(err instanceof ReplyTimeoutError) || i > 50) throw err;
    }
  }
  t.is(await tapsTagged(sim, 't1'), 1, 'the dataplane did create it');
}

async function tapsTagged(sim: NativeSim, tag: string): Promise<number> {
  return (await sim.snapshot()).interfaces.filter((i) => i.tag === tag).length;
}

test('S5: a timed-out tap_create_v3 that did happen is adopted when a dependent commit plans it again', async (t) => {
  const stack = await realStack(t, 1, 200);
  const { sim, s } = stack;
  await lostCreate(t, stack, tap('t1'));
  // Only the route changes: the plan reaches the failed tap as its dependency, re-reads it (a dirty key)
  // and finds the tap the sim created late: it is adopted, not created twice.
  const r = await s.commit(new Map([[routeKey(route), route]]), {});
  t.is(r.error, null, String(r.error?.kvErrors.map((e) => e.error.message)));
  t.is(s.getStatus(interfaceKey('t1'))?.state, 'configured');
  t.is(await tapsTagged(sim, 't1'), 1);
  const snap = await sim.snapshot();
  t.deepEqual(snap.interfaces.find((i) => i.tag === 't1')?.addresses, ['10.1.0.1/24'], 'configured after adoption');
  await inSync(t, s);
});

test('S5: a retry commit of the timed-out tap ends configured with exactly one interface', async (t) => {
  const stack = await realStack(t, 1, 200);
  const { sim, s } = stack;
  await lostCreate(t, stack, tap('t1'));
  const r = await s.commit(new Map([[interfaceKey('t1'), tap('t1')]]), {});
  t.is(r.error, null);
  t.is(s.getStatus(interfaceKey('t1'))?.state, 'configured');
  t.is(await tapsTagged(sim, 't1'), 1);
  await inSync(t, s);
});

test('S5: an adopted object that update cannot reach (its VRF) is deleted and created again', async (t) => {
  const stack = await realStack(t, 1, 200);
  const { sim, s } = stack;
  const table = { id: 5, protocol: 'IPV4', label: '' };
  t.is((await s.commit(new Map([[vrfTableKey(5, 'IPV4'), table]]), {})).error, null);
  // The lost attempt created the tap but never configured it: it sits in VRF 0.
  await lostCreate(t, stack, tap('t1', { vrf: 5 }));
  const r5 = { ...route, vrfId: 5 };
  const r = await s.commit(new Map([[routeKey(r5), r5]]), {});
  t.is(r.error, null, String(r.error?.kvErrors.map((e) => `${e.key}: ${e.error.message}`)));
  t.is(await tapsTagged(sim, 't1'), 1);
  t.is((await sim.snapshot()).interfaces.find((i) => i.tag === 't1')?.vrf, 5);
  await inSync(t, s);
});
