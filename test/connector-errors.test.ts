import test from 'ava';
import { EngineError } from '../src/api/errors.js';
import { startNativeSim } from '../native-sim/index.js';
import {
  ConnectorClosedError,
  FrameTooLargeError,
  InvalidMessageError,
  ProtocolError,
  ReplyTimeoutError,
  UnknownMessageError,
  UnsupportedTransportError,
  VppApiError,
  VppConnector,
  makeContext,
  sequenceBefore,
  sequenceOf,
  channelOf,
} from '../src/connector/index.js';
import { SimBusyError, SimClosedError } from '../native-sim/index.js';

const cases: Array<[Error, string, string, RegExp]> = [
  [new ConnectorClosedError(), 'ConnectorClosedError', 'ERR_CONNECTOR_CLOSED', /closed/],
  [new ReplyTimeoutError('acl_del', 0x10002, 50), 'ReplyTimeoutError', 'ERR_REPLY_TIMEOUT', /acl_del.*0x10002.*50 ms/],
  [new VppApiError('acl_del', -6), 'VppApiError', 'ERR_VPP_API', /acl_del.*-6.*NO_SUCH_ENTRY/],
  [new FrameTooLargeError(9000, 2000), 'FrameTooLargeError', 'ERR_FRAME_TOO_LARGE', /9000.*2000/],
  [new UnknownMessageError('x'), 'UnknownMessageError', 'ERR_UNKNOWN_MESSAGE', /"x"/],
  [new InvalidMessageError('bad'), 'InvalidMessageError', 'ERR_INVALID_MESSAGE', /bad/],
  [new ProtocolError('p'), 'ProtocolError', 'ERR_PROTOCOL', /p/],
  [new UnsupportedTransportError('op', 'postMessage'), 'UnsupportedTransportError', 'ERR_UNSUPPORTED_TRANSPORT', /op.*postMessage/],
  [new SimClosedError(), 'SimClosedError', 'ERR_SIM_CLOSED', /closed/],
  [new SimBusyError(), 'SimBusyError', 'ERR_SIM_BUSY', /already/],
];

for (const [err, name, code, message] of cases) {
  test(`V3 V4 V6: ${name} has code ${code} and extends EngineError`, (t) => {
    t.true(err instanceof EngineError);
    t.is(err.name, name);
    t.is((err as EngineError).code, code);
    t.regex(err.message, message);
  });
}

test('V4: VppApiError carries the retval, its VPP name and the message name', (t) => {
  const e = new VppApiError('sw_interface_set_table', -65);
  t.is(e.retval, -65);
  t.is(e.retvalName, 'NO_SUCH_TABLE');
  t.is(e.messageName, 'sw_interface_set_table');
  t.is(new VppApiError('x', -999).retvalName, 'VPP_ERROR_-999');
});

test('V1: contexts carry the channel in the high 16 bits and compare sequences with wrap-around', (t) => {
  const ctx = makeContext(0xabcd, 0x1234);
  t.is(channelOf(ctx), 0xabcd);
  t.is(sequenceOf(ctx), 0x1234);
  t.true(ctx > 0, 'unsigned even with the top bit set');
  t.true(sequenceBefore(1, 2));
  t.false(sequenceBefore(2, 1));
  t.false(sequenceBefore(5, 5));
  t.true(sequenceBefore(0xfffe, 0x0001), 'across the wrap');
  t.false(sequenceBefore(0x0001, 0xfffe));
});

test('V1: the per-channel sequence wraps from 0xffff to 0 and every reply still finds its request', async (t) => {
  const sim = await startNativeSim();
  t.teardown(() => sim.close());
  const c = await VppConnector.connect(sim, { pingInterval: 0, initialSequence: 0xfff0, channel: 7 });
  t.teardown(() => c.close());
  const res = await c.requestBatch(Array.from({ length: 64 }, () => ({ name: 'create_loopback' })));
  const contexts = res.map((r) => (r as Record<string, number>)['context'] as number);
  t.true(contexts.every((x) => channelOf(x) === 7));
  t.true(contexts.some((x) => sequenceOf(x) === 0xffff) && contexts.some((x) => sequenceOf(x) === 0), 'wrapped');
  t.deepEqual(res.map((r) => (r as Record<string, number>)['sw_if_index']), Array.from({ length: 64 }, (_, i) => i + 1));
  const single = await Promise.all(Array.from({ length: 10 }, () => c.request('control_ping')));
  t.is(new Set(single.map((r) => r['context'])).size, 10);
});

const badOptions: Array<[Record<string, unknown>, typeof TypeError | typeof RangeError, RegExp]> = [
  [{ replyTimeout: 0 }, RangeError, /replyTimeout: expected 1\.\./],
  [{ replyTimeout: 'soon' }, TypeError, /replyTimeout: expected an integer, received string soon/],
  [{ pingInterval: -1 }, RangeError, /pingInterval/],
  [{ spinMicros: 1.5 }, TypeError, /spinMicros/],
  [{ transport: 'udp' }, TypeError, /transport: expected 'ring' or 'postMessage'/],
  [{ channel: 0 }, RangeError, /channel/],
  [{ channel: 0x10000 }, RangeError, /channel/],
  [{ maxInFlight: 40000 }, RangeError, /maxInFlight/],
  [{ initialSequence: -1 }, RangeError, /initialSequence/],
  [{ connectTimeout: null }, TypeError, /connectTimeout/],
  [{ logger: {} }, TypeError, /logger/],
];

test('V1: connector options are validated in one place, naming the option, expected and received', async (t) => {
  const sim = await startNativeSim();
  t.teardown(() => sim.close());
  for (const [opts, type, message] of badOptions) {
    await t.throwsAsync(VppConnector.connect(sim, opts), { instanceOf: type, message }, JSON.stringify(opts));
  }
  await t.throwsAsync(VppConnector.connect(sim, 'fast' as unknown as object), { instanceOf: TypeError, message: /options/ });
  await t.throwsAsync(VppConnector.connect({} as never), { instanceOf: TypeError, message: /sim/ });
  // Nothing was left attached by the failed attempts.
  const c = await VppConnector.connect(sim, { pingInterval: 0 });
  await c.close();
});
