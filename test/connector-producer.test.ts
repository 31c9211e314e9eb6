import test from 'ava';
import { Worker } from 'node:worker_threads';
import { type Reply, RequestRingProducer, UnsupportedTransportError, channelOf } from '../src/connector/index.js';
import { connected } from './helpers/dataplane-connect.js';

test('V1 N1: a worker writes straight into its own request ring; replies come back on its channel', async (t) => {
  const { sim, c } = await connected(t, { ringBytes: 4096 });
  const producer = await c.createProducerRing();
  t.not(producer.channel, c.channel);
  const count = 2000;
  const replies: Reply[] = [];
  const allIn = new Promise<void>((resolve) => {
    producer.onReply((r) => {
      replies.push(r);
      if (replies.length === count) resolve();
    });
  });
  const worker = new Worker(new URL('./fixtures/dataplane-producer.js', import.meta.url), {
    workerData: { ring: producer.ring, doorbell: producer.doorbell, channel: producer.channel, count },
  });
  // Main-ring traffic at the same time: the sim serves both rings.
  const mine = await c.requestBatch(Array.from({ length: 300 }, () => ({ name: 'create_loopback' })));
  const contexts = await new Promise<number[]>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await allIn;
  t.is(contexts.length, count);
  t.deepEqual(replies.map((r) => r['context']), contexts, 'every reply, in order, none lost');
  t.true(replies.every((r) => r['retval'] === 0 && channelOf(r['context'] as number) === producer.channel));
  t.false(mine.some((r) => r instanceof Error));
  const ids = new Set([...replies, ...(mine as Reply[])].map((r) => r['sw_if_index']));
  t.is(ids.size, count + 300, 'all sw_if_index values distinct');
  t.is((await sim.counters()).messages['create_loopback'], count + 300);
  await producer.close();
  await worker.terminate();
});

test('V1 V6: a producer-ring reply listener that sends a request is not re-entered: every reply is delivered once, none read twice', async (t) => {
  const { c } = await connected(t, {}, {});
  const producer = await c.createProducerRing();
  const seen: number[] = [];
  const mine: Array<Promise<unknown>> = [];
  const rounds = 300;
  const allIn = new Promise<void>((resolve) => {
    producer.onReply((r: Reply) => {
      seen.push(r['context'] as number);
      // Sending from the listener drains replies while the ring reader is still handing out frames.
      mine.push(c.request('sw_interface_set_flags', { sw_if_index: 0, flags: 1 }));
      if (seen.length === rounds) resolve();
    });
  });
  const p = new RequestRingProducer(producer.ring, producer.doorbell, producer.channel);
  const sent: number[] = [];
  for (let i = 0; i < rounds; i++) {
    sent.push(p.send('sw_interface_set_flags', { sw_if_index: 0, flags: 0 }));
    if (i % 3 === 2) p.commit();
  }
  p.commit();
  await allIn;
  const replies = await Promise.all(mine);
  await new Promise((r) => setTimeout(r, 50));
  t.deepEqual(seen, sent, 'each producer reply exactly once, in order');
  t.is(replies.length, rounds);
  t.is(c.stats().lateReplies, 0, 'no main-channel reply read twice');
  t.is(c.stats().protocolErrors, 0);
  await producer.close();
});

test('V1: producer rings need the ring transport', async (t) => {
  const { c } = await connected(t, {}, { transport: 'postMessage' });
  await t.throwsAsync(c.createProducerRing(), { instanceOf: UnsupportedTransportError, code: 'ERR_UNSUPPORTED_TRANSPORT' });
});
