import test from 'ava';
import { ReplyTimeoutError } from '../src/connector/index.js';
import { connected, nextState } from './helpers/dataplane-connect.js';

for (const transport of ['ring', 'postMessage'] as const) {
  test(`V3 N4: a stalled dataplane fails requests with ReplyTimeoutError; the late reply is discarded and counted (${transport})`, async (t) => {
    const { sim, c } = await connected(t, {}, { transport, replyTimeout: 100 });
    await sim.setFaults({ stallMs: 400 });
    const before = c.stats();
    const err = await t.throwsAsync(c.request('create_loopback', { tag: 'late' }), { instanceOf: ReplyTimeoutError });
    t.is(err?.code, 'ERR_REPLY_TIMEOUT');
    t.is(err?.messageName, 'create_loopback');
    t.is(c.stats().timeouts, before.timeouts + 1);
    // The sim answers in order: once a later request is answered, the late reply has been seen.
    await retryUntilAnswered(() => c.request('control_ping'));
    const snap = await sim.snapshot();
    t.true(snap.interfaces.some((i) => i.tag === 'late'), 'the timed-out request was still applied by the dataplane');
    t.true(c.stats().lateReplies >= before.lateReplies + 1);
    t.is(c.stats().inFlight, 0);
  });

  test(`V5: two missed pings mark the connector not-responding; it comes back up when the dataplane answers (${transport})`, async (t) => {
    const { sim, c } = await connected(t, {}, { transport, pingInterval: 25, replyTimeout: 1000 });
    t.is(c.state, 'up');
    const down = nextState(c, 'not-responding');
    await sim.setFaults({ stallMs: 400 });
    await down;
    t.is(c.state, 'not-responding');
    await nextState(c, 'up');
    t.is(c.state, 'up');
  });

  test(`N4 V3: latencyMs delays replies beyond a short timeout; without it the same request succeeds (${transport})`, async (t) => {
    const { sim, c } = await connected(t, {}, { transport, replyTimeout: 40 });
    await sim.setFaults({ latencyMs: 300 });
    await t.throwsAsync(c.request('create_loopback'), { instanceOf: ReplyTimeoutError });
    await sim.setFaults({ latencyMs: 0 });
    const r = await retryUntilAnswered(() => c.request('create_loopback'));
    t.is(r['retval'], 0);
  });
}

test('V3: requests queued behind a full ring time out when nothing moves; the ring drains afterwards', async (t) => {
  const { sim, c } = await connected(t, { ringBytes: 4096 }, { replyTimeout: 150 });
  await sim.setFaults({ stallMs: 600 });
  const results = await c.requestBatch(Array.from({ length: 1000 }, () => ({ name: 'sw_interface_set_flags', fields: { sw_if_index: 0, flags: 1 } })));
  t.true(results.every((r) => r instanceof ReplyTimeoutError));
  const ok = await retryUntilAnswered(() => c.request('control_ping'));
  t.is(ok['retval'], 0);
});

/** Repeats a request while it times out (the dataplane is still stalled), bounded. */
async function retryUntilAnswered<T>(fn: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof ReplyTimeoutError) || i > 50) throw err;
    }
  }
}
