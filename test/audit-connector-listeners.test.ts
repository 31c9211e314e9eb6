// Failure-path audit of the connector's user listeners: one that throws is logged and never stops
// the connector — close() still fails every operation in flight, and the other listeners of a
// producer ring still get their replies (V1, V3, V5).
import test from 'ava';
import { ConnectorClosedError, RequestRingProducer, type ConnectorLogger, type Reply } from '../src/connector/index.js';
import { connected } from './helpers/dataplane-connect.js';

function recordingLogger(): ConnectorLogger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, warn: (_obj, msg = '') => void warnings.push(msg), debug: () => undefined };
}

test('V3 V5: a state listener that throws does not stop close(): operations in flight still fail with ConnectorClosedError', async (t) => {
  const logger = recordingLogger();
  const { sim, c } = await connected(t, {}, { replyTimeout: 60_000, logger });
  c.onStateChange(() => {
    throw new Error('listener bug');
  });
  const seen: string[] = [];
  c.onStateChange((s) => seen.push(s));
  await sim.setFaults({ stallMs: 60_000 });
  const pending = c.request('create_loopback');
  await c.close();
  await t.throwsAsync(pending, { instanceOf: ConnectorClosedError });
  t.is(c.state, 'closed');
  t.deepEqual(seen, ['closed'], 'the listeners after the one that threw are still called');
  t.true(logger.warnings.some((w) => /state listener threw: listener bug/.test(w)));
});

test('V1: a producer-ring reply listener that throws does not stop delivery to the others or the connector', async (t) => {
  const logger = recordingLogger();
  const { c } = await connected(t, {}, { logger });
  const producer = await c.createProducerRing();
  t.teardown(() => producer.close());
  producer.onReply(() => {
    throw new Error('listener bug');
  });
  const got: Reply[] = [];
  const three = new Promise<void>((resolve) => {
    producer.onReply((r) => {
      got.push(r);
      if (got.length === 3) resolve();
    });
  });
  const writer = new RequestRingProducer(producer.ring, producer.doorbell, producer.channel);
  const contexts = [writer.send('control_ping'), writer.send('control_ping'), writer.send('control_ping')];
  writer.commit();
  await three;
  t.deepEqual(got.map((r) => r['context']), contexts);
  t.is((await c.request('control_ping'))['retval'], 0, 'the connector goes on');
  t.true(logger.warnings.some((w) => /producer reply listener threw: listener bug/.test(w)));
});
