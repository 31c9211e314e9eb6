// A finished request must not be kept alive by the connector: its fields, its batch's replies and
// its callbacks are released once it is done, not when the reply-timeout sweep next runs (with a
// long replyTimeout and steady traffic that sweep may not run for a long time).
import test from 'ava';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { startNativeSim } from '../native-sim/index.js';
import { VppConnector } from '../src/connector/index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const macrotask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('V2 V3: the fields and replies of finished requests are released at once, whatever replyTimeout is', async (t) => {
  const sim = await startNativeSim({ seed: 1 });
  const connector = await VppConnector.connect(sim, { replyTimeout: 600_000, pingInterval: 0 });
  t.teardown(async () => {
    await connector.close();
    await sim.close();
  });
  const sent: Array<WeakRef<object>> = [];
  const received: Array<WeakRef<object>> = [];
  await (async () => {
    const msgs = Array.from({ length: 200 }, (_, i) => {
      const fields = { mac_address: '', tag: `retention-${i}` };
      sent.push(new WeakRef(fields));
      return { name: 'create_loopback', fields };
    });
    const replies = await connector.requestBatch(msgs);
    for (const r of replies) {
      if (r instanceof Error) throw r;
      received.push(new WeakRef(r));
    }
  })();
  // WeakRef targets stay alive until the current job ends: let it end, then collect.
  await macrotask();
  gc();
  await macrotask();
  gc();
  t.is(sent.filter((w) => w.deref() !== undefined).length, 0, 'request fields still referenced');
  t.is(received.filter((w) => w.deref() !== undefined).length, 0, 'replies still referenced');
  // The connector still works afterwards.
  t.is((await connector.request('control_ping', {}))['retval'], 0);
});
