// A revert commit with a pool under the scheduler stops where the inline executor stops: same
// per-key errors, statuses, records and dataplane state (found by the model test run with a pool).
import test from 'ava';
import type { Value } from '../src/api/values.js';
import { interfaceKey, routeKey } from '../src/descriptors/index.js';
import { schedStack, sorted, type SchedStack } from './helpers/schedpool-stack.js';

const if0 = interfaceKey('if0');
const if1 = interfaceKey('if1');
const viaIf0 = { vrfId: 0, dstNetwork: '10.100.0.0/24', outgoingInterface: 'if0', nextHopAddr: '10.0.0.254' };
const route = routeKey(viaIf0);

/** What a commit left, in plain data: its errors' codes, its executed ops, statuses, the dataplane. */
async function outcome(st: SchedStack, seqNum: number, error: { kvErrors: ReadonlyArray<{ key: string; error: Error }> } | null) {
  const code = (e: Error | undefined): unknown => (e as { code?: unknown } | undefined)?.code;
  return {
    errors: (error?.kvErrors ?? []).map((e) => [e.key, code(e.error)]),
    executed: (st.s.getRecordedTransaction(seqNum)?.executed ?? []).map((e) => [e.op, e.key, e.note ?? '', code(e.error)]),
    statuses: [if0, if1, route].map((k) => {
      const s = st.s.getStatus(k);
      return [k, s?.state, s && 'error' in s ? code(s.error) : undefined];
    }),
    sb: sorted(await st.s.dump('', 'sb')),
  };
}

test('S5: a revert commit whose pooled delete fails stops at the same wave as inline (same errors, statuses, records)', async (t) => {
  // inlineThreshold 1: the route's delete goes to the pool.
  const [pooled, inline] = await Promise.all([schedStack(t, { offload: { inlineThreshold: 1 } }), schedStack(t, { offload: null })]);
  const results = [];
  for (const st of [pooled, inline]) {
    const setup = new Map<string, Value>([
      [if0, { name: 'if0', type: 'SOFTWARE_LOOPBACK', enabled: true, ipAddresses: ['10.0.0.1/24'] }],
      [route, viaIf0],
    ]);
    t.is((await st.s.commit(setup, {})).error, null);
    if (st.pool?.workers) t.true(st.pool.ops > 0, 'the pool took the route');
    await st.sim.setFaults({ errorRate: 1, messages: ['ip_route_add_del'] });
    // Inline, the route's delete and if1's create share the first wave: if1 is created half way
    // (its addresses are a second wave), interrupted, then deleted by the revert.
    const next = new Map<string, Value | null>([
      [route, null],
      [if1, { name: 'if1', type: 'SOFTWARE_LOOPBACK', enabled: true, ipAddresses: ['10.1.0.1/24'] }],
    ]);
    const r = await st.s.commit(next, { revert: true });
    t.truthy(r.error);
    results.push(await outcome(st, r.seqNum, r.error));
  }
  const [a, b] = results;
  t.deepEqual(a, b);
});
