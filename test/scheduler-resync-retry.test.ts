// Resync commits resolve after their own retries (real native-sim through the real connector).
import test from 'ava';
import type { Value } from '../src/api/index.js';
import { inSync, realStack } from './helpers/scheduler-real-stack.js';

function loopbacks(n: number): Map<string, Value> {
  const m = new Map<string, Value>();
  for (let i = 0; i < n; i++) {
    m.set(`config/vpp/v2/interfaces/lo${i}`, { name: `lo${i}`, type: 'SOFTWARE_LOOPBACK', enabled: true, ipAddresses: [`10.8.${i}.1/24`], vrf: 0 });
  }
  return m;
}

test('S4 S6 C14: a resync with retry options resolves after its retries repaired the failures', async (t) => {
  const { sim, s } = await realStack(t, 7);
  await sim.setFaults({ errorRate: 1, messages: ['create_loopback'], seed: 3 });
  const pending = s.commit(loopbacks(20), { resync: 'full', retry: { delay: 300, maxAttempts: 4, expBackoff: false } });
  // Once the first pass has failed every create, the dataplane recovers before the first retry.
  while (((await sim.counters()).errorsInjected['create_loopback'] ?? 0) < 20) await new Promise((r) => setTimeout(r, 5));
  await sim.setFaults({ errorRate: 0 });
  const result = await pending;
  t.is(result.error, null, 'the retries repaired every failure');
  const first = s.getRecordedTransaction(result.seqNum);
  t.is(first?.executed.filter((op) => op.error !== undefined).length, 20, 'the resync itself recorded its 20 failures');
  const retries = s.getTransactionHistory().filter((r) => r.retryOf === result.seqNum);
  t.true(retries.length >= 1, 'each retry is recorded as its own transaction (S7)');
  await inSync(t, s);
});

test('S6: a resync whose failures outlast maxAttempts reports the keys that still fail', async (t) => {
  const { sim, s } = await realStack(t, 8);
  await sim.setFaults({ errorRate: 1, messages: ['create_loopback'], seed: 1 });
  const result = await s.commit(loopbacks(3), { resync: 'full', retry: { delay: 1, maxAttempts: 2, expBackoff: true } });
  t.truthy(result.error);
  t.deepEqual(new Set(result.error?.kvErrors.map((e) => e.key)), new Set([...loopbacks(3).keys()]));
  t.is(s.getTransactionHistory().filter((r) => r.retryOf === result.seqNum).length, 2, 'two inline attempts, each recorded');
});

test('S6: an incremental update still answers at once and retries in the background', async (t) => {
  const { sim, s } = await realStack(t, 9);
  await sim.setFaults({ errorRate: 1, messages: ['create_loopback'], seed: 1 });
  const result = await s.commit(loopbacks(1), { retry: { delay: 60_000, maxAttempts: 3, expBackoff: false } });
  t.truthy(result.error, 'the update reports its failure without waiting a minute for the retry');
  t.is(s.getStatus('config/vpp/v2/interfaces/lo0')?.state, 'retrying');
});
