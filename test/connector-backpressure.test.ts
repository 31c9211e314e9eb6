import test from 'ava';
import { connected } from './helpers/dataplane-connect.js';

test('V3: with 4 KiB rings thousands of requests all get their replies, in order, none lost', async (t) => {
  const { sim, c } = await connected(t, { ringBytes: 4096 }, { replyTimeout: 60_000 });
  const N = 5000;
  const batch = c.requestBatch(Array.from({ length: N }, (_, i) => ({ name: 'create_loopback', fields: { tag: `if-${i}` } })));
  // Single requests queued behind the batch must wait their turn, not overtake or get dropped.
  const singles = Array.from({ length: 200 }, (_, i) => c.request('create_loopback', { tag: `single-${i}` }));
  const results = await batch;
  t.is(results.length, N);
  t.deepEqual(
    results.map((r) => (r as Record<string, number>)['sw_if_index']),
    Array.from({ length: N }, (_, i) => i + 1),
  );
  const single = await Promise.all(singles);
  t.deepEqual(single.map((r) => r['sw_if_index']), Array.from({ length: 200 }, (_, i) => N + 1 + i));
  const s = c.stats();
  t.is(s.requestRingBytes, 4096);
  t.is(s.timeouts, 0);
  t.is(s.inFlight, 0);
  t.is((await sim.counters()).messages['create_loopback'], N + 200);
});

test('V3 V2: a dump much larger than the reply ring arrives complete (the sim waits for room)', async (t) => {
  const { c } = await connected(t, { ringBytes: 4096 }, { replyTimeout: 60_000 });
  const N = 400;
  const created = await c.requestBatch(Array.from({ length: N }, () => ({ name: 'create_loopback' })));
  t.false(created.some((r) => r instanceof Error));
  const details = await c.dump('sw_interface_dump');
  t.is(details.length, N + 1);
  t.deepEqual(details.map((d) => d['sw_if_index']), Array.from({ length: N + 1 }, (_, i) => i));
});
