import { MessageChannel } from 'node:worker_threads';
import test from 'ava';
import { startNativeSim } from '../native-sim/index.js';
import { InvalidMessageError, UnknownMessageError, VppApiError, VppConnector } from '../src/connector/index.js';

// The ring, and the postMessage baselines: structured clone and JSON text.
const TRANSPORTS = [
  ['ring', { transport: 'ring' }],
  ['postMessage', { transport: 'postMessage' }],
  ['postMessage json', { transport: 'postMessage', postMessageEncoding: 'json' }],
] as const;

for (const [transport, options] of TRANSPORTS) {
  test(`V1 V4 N1: request resolves with the reply or rejects with VppApiError (${transport})`, async (t) => {
    const sim = await startNativeSim();
    const c = await VppConnector.connect(sim, { ...options, pingInterval: 0 });
    try {
      const r = await c.request('create_loopback', { tag: 'x' });
      t.like(r, { _msgname: 'create_loopback_reply', retval: 0, sw_if_index: 1 });
      t.is((r['context'] as number) >>> 16, 1, 'channel 1 in the high bits');
      const err = await t.throwsAsync(c.request('create_loopback', { tag: 'x' }), { instanceOf: VppApiError });
      t.is(err?.code, 'ERR_VPP_API');
      t.is(err?.retval, -79);
      t.is(err?.retvalName, 'VIF_ALREADY_EXISTS');
      t.is(err?.messageName, 'create_loopback');
      await t.throwsAsync(c.request('no_such_msg'), { instanceOf: UnknownMessageError, code: 'ERR_UNKNOWN_MESSAGE' });
      await t.throwsAsync(c.request('sw_interface_dump'), { instanceOf: InvalidMessageError });
      await t.throwsAsync(c.request('create_loopback', 5 as unknown as Record<string, unknown>), { instanceOf: InvalidMessageError });
      t.is(c.stats().errorsByRetval['VIF_ALREADY_EXISTS'], 1);
    } finally {
      await c.close();
      await sim.close();
    }
  });

  test(`V1 V4: requestBatch returns one result per item, errors in place (${transport})`, async (t) => {
    const sim = await startNativeSim();
    const c = await VppConnector.connect(sim, { ...options, pingInterval: 0 });
    try {
      const res = await c.requestBatch([
        { name: 'create_loopback', fields: { tag: 'a' } },
        { name: 'create_loopback', fields: { tag: 'a' } },
        { name: 'bogus' },
        { name: 'sw_interface_set_flags', fields: { sw_if_index: 1, flags: 1 } },
        { name: 'sw_interface_set_flags', fields: { sw_if_index: 42, flags: 1 } },
      ]);
      t.is(res.length, 5);
      t.like(res[0], { retval: 0, sw_if_index: 1 });
      t.true(res[1] instanceof VppApiError && res[1].retval === -79);
      t.true(res[2] instanceof UnknownMessageError);
      t.like(res[3], { _msgname: 'sw_interface_set_flags_reply', retval: 0 });
      t.true(res[4] instanceof VppApiError && res[4].retval === -2);
      t.deepEqual(await c.requestBatch([]), []);
      const many = await c.requestBatch(Array.from({ length: 500 }, () => ({ name: 'create_loopback' })));
      const indices = many.map((r) => (r as Record<string, number>)['sw_if_index']);
      t.deepEqual(indices, Array.from({ length: 500 }, (_, i) => i + 2), 'in order, none lost');
      // Both sides publish a batch in parts (the connector its first frame and every 64th, the sim
      // its first replies in groups of 4): errors every 7th item still land on their own items.
      const mixed = await c.requestBatch(
        Array.from({ length: 300 }, (_, i) => ({ name: 'sw_interface_set_flags', fields: { sw_if_index: i % 7 === 3 ? 9999 : 1, flags: i & 1 } })),
      );
      t.is(mixed.length, 300);
      mixed.forEach((r, i) => {
        if (i % 7 === 3) t.true(r instanceof VppApiError && r.retval === -2, `item ${i}`);
        else t.like(r, { _msgname: 'sw_interface_set_flags_reply', retval: 0 }, `item ${i}`);
      });
    } finally {
      await c.close();
      await sim.close();
    }
  });

  test(`V2 N3: dump collects details until the control_ping_reply; dumps reflect state (${transport})`, async (t) => {
    const sim = await startNativeSim();
    const c = await VppConnector.connect(sim, { ...options, pingInterval: 0 });
    try {
      t.deepEqual((await c.dump('sw_interface_dump')).map((d) => d['interface_name']), ['local0']);
      await c.request('create_loopback');
      await c.request('tap_create_v3', { host_if_name: 'eth9' });
      const d = await c.dump('sw_interface_dump');
      t.deepEqual(d.map((x) => x['interface_name']), ['local0', 'loop0', 'tap0']);
      t.true(d.every((x) => x['_msgname'] === 'sw_interface_details' && x['context'] === d[0]?.['context']));
      t.deepEqual(await c.dump('acl_dump'), []);
      await t.throwsAsync(c.dump('create_loopback'), { instanceOf: InvalidMessageError });
      const snap = await sim.snapshot();
      t.deepEqual(snap.interfaces.map((i) => i.name), ['local0', 'loop0', 'tap0']);
      t.is(snap.interfaces[2]?.host_if_name, 'eth9');
    } finally {
      await c.close();
      await sim.close();
    }
  });
}

test('V6 N5: JSON text that does not parse is a counted protocol error in the sim, and the connection goes on (postMessage json)', async (t) => {
  const sim = await startNativeSim();
  const c = await VppConnector.connect(sim, { transport: 'postMessage', postMessageEncoding: 'json', pingInterval: 0 });
  try {
    const before = (await sim.counters()).protocolErrors;
    // What a broken producer on the same port would send: text that is not JSON.
    const { port1, port2 } = new MessageChannel();
    await c.close();
    await sim.serve('postMessage', port2);
    port1.postMessage('{"_msgname": "control_ping", ');
    port1.postMessage(JSON.stringify({ _msgname: 'control_ping', context: 7 }));
    const reply = await new Promise<unknown>((resolve) => port1.once('message', resolve));
    t.is(typeof reply, 'string', 'answered in the encoding it was asked in');
    t.like(JSON.parse(reply as string), { _msgname: 'control_ping_reply', context: 7, retval: 0 });
    t.is((await sim.counters()).protocolErrors, before + 1);
    port1.close();
  } finally {
    await sim.close();
  }
});

test('V1: postMessageEncoding is validated', async (t) => {
  const sim = await startNativeSim();
  try {
    await t.throwsAsync(VppConnector.connect(sim, { transport: 'postMessage', postMessageEncoding: 'xml' as 'json' }), {
      instanceOf: TypeError,
      message: /postMessageEncoding: expected 'clone' or 'json', received string xml/,
    });
  } finally {
    await sim.close();
  }
});
