import test from 'ava';
import { connected } from './helpers/dataplane-connect.js';

// In a file of its own, one test at a time: the batch holds this process's event loop for long
// stretches, which would delay the health timers of other tests running beside it.
for (const transport of ['ring', 'postMessage'] as const) {
  test.serial(`V5: a ping queued behind a long batch while replies keep coming is no miss: the connector stays up (${transport})`, async (t) => {
    const { c } = await connected(t, { ringBytes: 4096 }, { transport, pingInterval: 25, replyTimeout: 5000 });
    const states: string[] = [];
    c.onStateChange((s) => void states.push(s));
    const started = performance.now();
    const replies = await c.requestBatch(Array.from({ length: 40_000 }, () => ({ name: 'sw_interface_set_flags', fields: { sw_if_index: 0, flags: 1 } })));
    const ms = performance.now() - started;
    t.false(replies.some((r) => r instanceof Error));
    t.true(ms > 100, `the batch took ${ms.toFixed(0)} ms: several ping intervals`);
    t.deepEqual(states, []);
    t.is(c.state, 'up');
  });
}
