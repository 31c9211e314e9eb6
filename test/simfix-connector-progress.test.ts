import test from 'ava';
import { ReplyTimeoutError, VppConnector } from '../src/connector/index.js';
import { resolveConnectorOptions } from '../src/connector/options.js';
import { connected } from './helpers/dataplane-connect.js';

test('V3: the default replyTimeout is 5000 ms (1 s was too tight for a loaded machine)', (t) => {
  t.is(resolveConnectorOptions({}).replyTimeout, 5000);
});

test('V3 N3: a dump much longer than replyTimeout succeeds while its details keep arriving', async (t) => {
  // A small reply ring makes the sim hand over a few details at a time: the dump takes many
  // round trips, each far shorter than replyTimeout, together far longer.
  // The interfaces are created through a first connector with the default replyTimeout: only the
  // dump is under test, so a loaded machine's pause while creating them cannot fail it.
  const { sim, c: setup } = await connected(t, { ringBytes: 4096 });
  const n = 8_000;
  const created = await setup.requestBatch(Array.from({ length: n }, (_, i) => ({ name: 'create_loopback', fields: { tag: `l${i}` } })));
  t.true(created.every((r) => !(r instanceof Error)));
  await setup.close();
  const c = await VppConnector.connect(sim, { pingInterval: 0, replyTimeout: 300 });
  t.teardown(() => c.close());
  const started = performance.now();
  const details = await c.dump('sw_interface_dump');
  t.log(`dump of ${details.length} interfaces took ${(performance.now() - started).toFixed(0)} ms (replyTimeout 300 ms)`);
  t.is(details.length, n + 1);
  t.is(new Set(details.map((d) => d['tag'])).size, n + 1);
});

test('V3 N4: an op the sim never reaches still times out while nothing moves', async (t) => {
  const { sim, c } = await connected(t, {}, { replyTimeout: 100 });
  await c.request('control_ping');
  await sim.setFaults({ stallMs: 400 });
  await t.throwsAsync(c.dump('sw_interface_dump'), { instanceOf: ReplyTimeoutError });
});
