// Failure-path audit of the connector: close() with requests queued behind a full ring and behind
// maxInFlight (never written) fails all of them with a typed error; a late reply across the 16-bit
// sequence wrap-around is counted, never delivered to a later request.
import test from 'ava';
import { ConnectorClosedError, ReplyTimeoutError, type Reply } from '../src/connector/index.js';
import { connected } from './helpers/dataplane-connect.js';

for (const transport of ['ring', 'postMessage'] as const) {
  test(`V3: close() fails requests queued behind backpressure and maxInFlight with ConnectorClosedError; none hangs (${transport})`, async (t) => {
    const { sim, c } = await connected(t, { ringBytes: 4096 }, { transport, replyTimeout: 60_000, maxInFlight: 64 });
    await sim.setFaults({ stallMs: 60_000 });
    // Far more than the ring and maxInFlight hold: most of these are queued, not written.
    const batch = c.requestBatch(Array.from({ length: 3000 }, (_, i) => ({ name: 'create_loopback', fields: { tag: `q-${i}` } })));
    const singles = Array.from({ length: 100 }, () => c.request('control_ping'));
    const dumps = Array.from({ length: 5 }, () => c.dump('sw_interface_dump'));
    const settled = Promise.allSettled([batch, ...singles, ...dumps]);
    t.true(c.stats().inFlight <= 64, 'maxInFlight bounds what is written');
    await c.close();
    const results = await settled;
    t.is(results.length, 106);
    for (const r of results) {
      t.is(r.status, 'rejected');
      if (r.status === 'rejected') t.true(r.reason instanceof ConnectorClosedError, String(r.reason));
    }
    t.is(c.stats().inFlight, 0);
    await t.throwsAsync(c.requestBatch([{ name: 'control_ping' }]), { instanceOf: ConnectorClosedError });
  });
}

test('V1 V3: a reply that arrives after its timeout, across the sequence wrap-around, is counted late and never delivered to a later request', async (t) => {
  // The connect ping takes sequence 0xfffe: the request that times out is 0xffff, the next ones wrap to 0, 1, ...
  const { sim, c } = await connected(t, {}, { replyTimeout: 100, initialSequence: 0xfffe, channel: 9 });
  await sim.setFaults({ stallMs: 400 });
  await t.throwsAsync(c.request('create_loopback', { tag: 'late' }), { instanceOf: ReplyTimeoutError });
  let after: Reply | null = null;
  let tag = '';
  for (let i = 0; after === null; i++) {
    try {
      tag = `after-${i}`;
      after = await c.request('create_loopback', { tag });
    } catch (err) {
      if (!(err instanceof ReplyTimeoutError) || i > 50) throw err;
    }
  }
  const snap = await sim.snapshot();
  const late = snap.interfaces.find((i) => i.tag === 'late');
  t.truthy(late, 'the timed-out request was applied by the dataplane');
  // The reply delivered is the one to the request that was answered, not the late one.
  t.not(after['sw_if_index'], late?.sw_if_index);
  const mine = snap.interfaces.find((i) => i.sw_if_index === after['sw_if_index']);
  t.is(mine?.tag, tag, 'each request gets the reply to itself (earlier retries timed out too)');
  const s = c.stats();
  t.true(s.lateReplies >= 1);
  t.is(s.protocolErrors, 0, 'the late reply was recognised by its context, not mistaken for another request');
  t.is(s.inFlight, 0);
});
