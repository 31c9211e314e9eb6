import test from 'ava';
import { Packr } from 'msgpackr';
import { FrameCodec, writeRawFrame } from '../src/connector/index.js';
import { connected } from './helpers/dataplane-connect.js';

test('V6 N5: malformed request frames are counted by the sim, never answered, never a crash', async (t) => {
  const { sim, c } = await connected(t);
  const p = await c.createProducerRing();
  const answered = new Promise<Readonly<Record<string, unknown>>>((resolve) => p.onReply(resolve));
  const plain = new Packr();
  writeRawFrame(p.ring, new Uint8Array([0xc1, 0xc1, 0xc1]), 3, p.doorbell); // 0xc1 is never valid msgpack
  writeRawFrame(p.ring, plain.pack({ context: 5 }), undefined, p.doorbell); // no _msgname
  writeRawFrame(p.ring, plain.pack({ _msgname: 'create_loopback' }), undefined, p.doorbell); // no context
  writeRawFrame(p.ring, plain.pack([1, 2, 3]), undefined, p.doorbell);
  writeRawFrame(p.ring, plain.pack({ _msgname: 'teleport', context: 9 }), undefined, p.doorbell);
  // A valid request after the garbage on the same ring: the sim handles each ring in order.
  const ctx = (p.channel << 16) | 1;
  writeRawFrame(p.ring, new FrameCodec().encode({ _msgname: 'control_ping', context: ctx }), undefined, p.doorbell);
  t.like(await answered, { _msgname: 'control_ping_reply', context: ctx, retval: 0 });
  t.is((await sim.counters()).protocolErrors, 5);
  // A lying length prefix: the ring's content is discarded and counted, the ring keeps working.
  writeRawFrame(p.ring, new Uint8Array(8), 1 << 20, p.doorbell);
  t.is((await c.request('create_loopback'))['retval'], 0);
  await c.ping();
  t.true((await sim.counters()).protocolErrors >= 5);
});

test('V6 V1: malformed or unexpected reply frames are counted and dropped by the connector, never mis-delivered', async (t) => {
  const { sim, c } = await connected(t, {}, { replyTimeout: 5000 });
  // Stall the sim so it writes no replies while this test plays producer on its reply ring.
  await sim.setFaults({ stallMs: 200 });
  const pending = c.request('create_loopback', { tag: 'real' });
  const before = c.stats();
  const codec = new FrameCodec();
  const ring = sim.rings.reply;
  writeRawFrame(ring, new Uint8Array([0xc1]));
  writeRawFrame(ring, new Packr().pack({ hello: 1 }));
  // A reply for a context nobody issued.
  writeRawFrame(ring, codec.encode({ _msgname: 'create_loopback_reply', context: 0x0001fff0, retval: 0, sw_if_index: 99 }));
  // Contexts no connector can issue (not a u32): malformed, whatever channel they would map to.
  writeRawFrame(ring, codec.encode({ _msgname: 'create_loopback_reply', context: -1, retval: 0, sw_if_index: 98 }));
  writeRawFrame(ring, codec.encode({ _msgname: 'create_loopback_reply', context: 2 ** 32 + 1, retval: 0, sw_if_index: 97 }));
  const reply = await pending;
  t.like(reply, { retval: 0, sw_if_index: 1 }, 'the real reply, not the forged one');
  const s = c.stats();
  t.is(s.protocolErrors - before.protocolErrors, 4);
  t.is(s.lateReplies - before.lateReplies, 1);
});

test('V3 V6 N1: a reply at any size around the ring limit (capacity not a multiple of 8) is delivered or dropped as too large, never kills the sim', async (t) => {
  const { sim, c } = await connected(t, { ringBytes: 4100 }, { pingInterval: 0, replyTimeout: 2000 });
  // Interface details whose encoded size steps byte by byte across the limit.
  for (let n = 1950; n <= 1980; n++) await c.request('create_loopback', { tag: 'x'.repeat(n) });
  await c.dump('sw_interface_dump').catch(() => undefined);
  t.false(sim.closed, 'the sim thread is still alive');
  t.is(typeof (await c.ping()), 'number');
  t.true((await sim.counters()).protocolErrors > 0, 'the details too large for the ring were counted');
});

test('N1 N5: a dump too large for the ring that no control_ping ended does not fail a later dump on the same context', async (t) => {
  const { sim, c } = await connected(t, { ringBytes: 4100 }, { replyTimeout: 2000 });
  const big = (await c.request('create_loopback', { tag: 'x'.repeat(1985) }))['sw_if_index'] as number;
  const p = await c.createProducerRing();
  const replies: Array<Readonly<Record<string, unknown>>> = [];
  let waiting: (() => void) | null = null;
  p.onReply((r) => {
    replies.push(r);
    waiting?.();
  });
  const next = async (name: string): Promise<Readonly<Record<string, unknown>>> => {
    for (;;) {
      const found = replies.find((r) => r['_msgname'] === name);
      if (found) {
        replies.splice(replies.indexOf(found), 1);
        return found;
      }
      await new Promise<void>((resolve) => (waiting = resolve));
    }
  };
  const codec = new FrameCodec();
  const ctx = (p.channel << 16) | 7;
  const send = (m: Record<string, unknown>): void => {
    writeRawFrame(p.ring, codec.encode({ ...m, context: ctx }), undefined, p.doorbell);
  };
  // A producer's dump whose details do not fit, and no control_ping after it.
  send({ _msgname: 'sw_interface_dump' });
  await c.ping();
  t.true((await sim.counters()).protocolErrors > 0);
  // The producer's context comes round again with a dump that fits: complete.
  await c.request('delete_loopback', { sw_if_index: big });
  send({ _msgname: 'sw_interface_dump' });
  send({ _msgname: 'control_ping' });
  t.is((await next('control_ping_reply'))['retval'], 0, 'the later dump is complete');
  // Again, with another request on the context in between.
  const big2 = (await c.request('create_loopback', { tag: 'y'.repeat(1985) }))['sw_if_index'] as number;
  send({ _msgname: 'sw_interface_dump' });
  await c.ping();
  await c.request('delete_loopback', { sw_if_index: big2 });
  send({ _msgname: 'create_loopback' });
  t.is((await next('create_loopback_reply'))['retval'], 0);
  send({ _msgname: 'sw_interface_dump' });
  send({ _msgname: 'control_ping' });
  t.is((await next('control_ping_reply'))['retval'], 0, 'that dump is complete too');
  // A dump too large for the ring, ended by its ping, still fails.
  await c.request('create_loopback', { tag: 'z'.repeat(1985) });
  send({ _msgname: 'sw_interface_dump' });
  send({ _msgname: 'control_ping' });
  t.is((await next('control_ping_reply'))['retval'], -1);
});
