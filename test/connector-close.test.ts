import test from 'ava';
import { startNativeSim } from '../native-sim/index.js';
import { ConnectorClosedError, VppConnector } from '../src/connector/index.js';

for (const transport of ['ring', 'postMessage'] as const) {
  test(`V3: close() fails in-flight operations with ConnectorClosedError; later calls reject; twice is harmless (${transport})`, async (t) => {
    const sim = await startNativeSim();
    t.teardown(() => sim.close());
    const c = await VppConnector.connect(sim, { transport, pingInterval: 0, replyTimeout: 60_000 });
    const states: string[] = [];
    c.onStateChange((s) => states.push(s));
    await sim.setFaults({ stallMs: 60_000 });
    const single = c.request('create_loopback');
    const batch = c.requestBatch([{ name: 'create_loopback' }, { name: 'create_loopback' }]);
    const dump = c.dump('sw_interface_dump');
    t.is(c.stats().inFlight, 4);
    await c.close();
    await t.throwsAsync(single, { instanceOf: ConnectorClosedError, code: 'ERR_CONNECTOR_CLOSED' });
    await t.throwsAsync(batch, { instanceOf: ConnectorClosedError });
    await t.throwsAsync(dump, { instanceOf: ConnectorClosedError });
    await t.throwsAsync(c.request('control_ping'), { instanceOf: ConnectorClosedError });
    await t.throwsAsync(c.requestBatch([]), { instanceOf: ConnectorClosedError });
    await t.throwsAsync(c.dump('acl_dump'), { instanceOf: ConnectorClosedError });
    await t.throwsAsync(c.createProducerRing(), { instanceOf: ConnectorClosedError });
    await c.close();
    t.is(c.state, 'closed');
    t.deepEqual(states, ['closed']);
    t.is(c.stats().inFlight, 0);
  });
}

test('N1: a closed sim can be reattached by a new connector; a second live connector is refused', async (t) => {
  const sim = await startNativeSim();
  t.teardown(() => sim.close());
  const a = await VppConnector.connect(sim, { pingInterval: 0 });
  await t.throwsAsync(VppConnector.connect(sim, { pingInterval: 0 }), { code: 'ERR_SIM_BUSY' });
  await a.close();
  const b = await VppConnector.connect(sim, { pingInterval: 0, transport: 'postMessage' });
  t.is((await b.request('create_loopback'))['retval'], 0);
  await b.close();
  const c = await VppConnector.connect(sim, { pingInterval: 0 });
  t.is((await c.request('create_loopback'))['sw_if_index'], 2, 'same dataplane, back on the rings');
  await c.close();
  await sim.close();
  await sim.close();
  await t.throwsAsync(sim.snapshot(), { code: 'ERR_SIM_CLOSED' });
});
