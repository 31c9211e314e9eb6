import test from 'ava';
import { register as globalRegistry } from 'prom-client';
import { EngineMetrics } from '../src/metrics/index.js';
import { ResyncOrchestrator } from '../src/resync/index.js';
import { ConnectorDouble, ControllerDouble } from './helpers/ops-doubles.js';

/** The value of one sample line of the exposition, e.g. `name{a="b"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('C20: events processed, handler and commit durations, healing resyncs move with controller events', async (t) => {
  const controller = new ControllerDouble();
  const m = new EngineMetrics({ controller, defaultMetrics: false });
  let text = await m.metrics();
  t.regex(text, /# TYPE vpp_engine_events_processed_total counter/);
  t.regex(text, /# TYPE vpp_engine_handler_duration_seconds histogram/);
  t.regex(text, /# TYPE vpp_engine_commit_duration_seconds histogram/);
  t.is(sample(text, 'vpp_engine_healing_resyncs_total'), 0);
  controller.emit({ name: 'Kubernetes State Change', handlerMs: [{ handler: 'ipam', ms: 2 }, { handler: 'pods', ms: 3 }], commitMs: 0.25 });
  controller.emit({ name: 'Kubernetes State Change', result: 'error', error: new Error('x'), handlerMs: [{ handler: 'ipam', ms: 1 }] });
  controller.emit({ name: 'Healing Resync', healing: true, commitMs: 4 });
  text = await m.metrics();
  t.is(sample(text, 'vpp_engine_events_processed_total{event="Kubernetes State Change",result="ok"}'), 1);
  t.is(sample(text, 'vpp_engine_events_processed_total{event="Kubernetes State Change",result="error"}'), 1);
  t.is(sample(text, 'vpp_engine_events_processed_total{event="Healing Resync",result="ok"}'), 1);
  t.is(sample(text, 'vpp_engine_handler_duration_seconds_count{handler="ipam"}'), 2);
  t.is(sample(text, 'vpp_engine_handler_duration_seconds_sum{handler="ipam"}'), 0.003);
  t.is(sample(text, 'vpp_engine_handler_duration_seconds_count{handler="pods"}'), 1);
  // Buckets are cumulative: 1 ms falls in le=0.001, 2 ms in le=0.005.
  t.is(sample(text, 'vpp_engine_handler_duration_seconds_bucket{handler="ipam",le="0.0005"}'), 0);
  t.is(sample(text, 'vpp_engine_handler_duration_seconds_bucket{handler="ipam",le="0.001"}'), 1);
  t.is(sample(text, 'vpp_engine_handler_duration_seconds_bucket{handler="ipam",le="0.005"}'), 2);
  t.is(sample(text, 'vpp_engine_handler_duration_seconds_bucket{handler="ipam",le="+Inf"}'), 2);
  t.is(sample(text, 'vpp_engine_commit_duration_seconds_count'), 2);
  t.is(sample(text, 'vpp_engine_commit_duration_seconds_sum'), 0.00425);
  t.is(sample(text, 'vpp_engine_event_duration_seconds_count{event="Healing Resync"}'), 1);
  t.is(sample(text, 'vpp_engine_healing_resyncs_total'), 1);
});

test('C20: queue depth is read from the controller on each scrape', async (t) => {
  const controller = new ControllerDouble();
  const m = new EngineMetrics({ defaultMetrics: false });
  m.attachController(controller);
  controller.queueDepth = 17;
  t.is(sample(await m.metrics(), 'vpp_engine_event_queue_depth'), 17);
  controller.queueDepth = 0;
  t.is(sample(await m.metrics(), 'vpp_engine_event_queue_depth'), 0);
});

test('C20 V4: ring occupancy and dataplane errors come from the connector stats on scrape', async (t) => {
  const connector = new ConnectorDouble();
  const m = new EngineMetrics({ connector, defaultMetrics: false });
  connector.current = { ...connector.current, requestRingUsedBytes: 512, replyRingUsedBytes: 64, inFlight: 3, errorsByRetval: { NO_SUCH_ENTRY: 2, VALUE_EXIST: 1 }, timeouts: 1 };
  let text = await m.metrics();
  t.is(sample(text, 'vpp_engine_ring_used_bytes{ring="request"}'), 512);
  t.is(sample(text, 'vpp_engine_ring_used_bytes{ring="reply"}'), 64);
  t.is(sample(text, 'vpp_engine_ring_capacity_bytes{ring="request"}'), 1 << 20);
  t.is(sample(text, 'vpp_engine_dataplane_requests_in_flight'), 3);
  t.is(sample(text, 'vpp_engine_dataplane_up'), 1);
  t.is(sample(text, 'vpp_engine_dataplane_errors_total{code="NO_SUCH_ENTRY"}'), 2);
  t.is(sample(text, 'vpp_engine_dataplane_errors_total{code="VALUE_EXIST"}'), 1);
  t.is(sample(text, 'vpp_engine_dataplane_timeouts_total'), 1);
  connector.current = { ...connector.current, errorsByRetval: { NO_SUCH_ENTRY: 5, VALUE_EXIST: 1 }, timeouts: 1, protocolErrors: 2 };
  text = await m.metrics();
  t.is(sample(text, 'vpp_engine_dataplane_errors_total{code="NO_SUCH_ENTRY"}'), 5);
  t.is(sample(text, 'vpp_engine_dataplane_errors_total{code="VALUE_EXIST"}'), 1);
  t.is(sample(text, 'vpp_engine_dataplane_timeouts_total'), 1);
  t.is(sample(text, 'vpp_engine_dataplane_protocol_errors_total'), 2);
  connector.state = 'not-responding';
  t.is(sample(await m.metrics(), 'vpp_engine_dataplane_up'), 0);
  connector.state = 'up';
  t.is(sample(await m.metrics(), 'vpp_engine_dataplane_up'), 1);
  // A connector whose counters restart (reconnect) keeps the metric monotonic.
  connector.current = { ...connector.current, errorsByRetval: { NO_SUCH_ENTRY: 1 } };
  t.is(sample(await m.metrics(), 'vpp_engine_dataplane_errors_total{code="NO_SUCH_ENTRY"}'), 6);
});

test('C20: dataplane_up is 0 with no connector attached, or after the last one is detached', async (t) => {
  const m = new EngineMetrics({ defaultMetrics: false });
  t.is(sample(await m.metrics(), 'vpp_engine_dataplane_up'), 0, 'nothing attached: no dataplane is up');
  const connector = new ConnectorDouble();
  connector.state = 'not-responding';
  const detach = m.attachConnector(connector);
  t.is(sample(await m.metrics(), 'vpp_engine_dataplane_up'), 0);
  connector.state = 'up';
  t.is(sample(await m.metrics(), 'vpp_engine_dataplane_up'), 1);
  detach();
  t.is(sample(await m.metrics(), 'vpp_engine_dataplane_up'), 0);
});

test('R3: orchestrator runs are counted', async (t) => {
  const orchestrator = new ResyncOrchestrator();
  const m = new EngineMetrics({ orchestrator, defaultMetrics: false });
  await orchestrator.doResync();
  t.is(sample(await m.metrics(), 'vpp_engine_orchestrator_resyncs_total{completed="true"}'), 1);
  await orchestrator.close();
});

test('C20: metrics live in their own registry, with the process default metrics, never in the global one', async (t) => {
  const a = new EngineMetrics();
  const b = new EngineMetrics({ prefix: 'other_' });
  const text = await a.metrics();
  t.regex(text, /vpp_engine_process_cpu_user_seconds_total/);
  t.regex(text, /vpp_engine_nodejs_heap_size_used_bytes/);
  t.regex(await b.metrics(), /other_events_processed_total/);
  t.is(globalRegistry.getSingleMetric('vpp_engine_events_processed_total'), undefined);
  t.regex(a.contentType, /text\/plain/);
});

test('C20: detaching stops counting; close detaches everything', async (t) => {
  const controller = new ControllerDouble();
  const m = new EngineMetrics({ defaultMetrics: false });
  const off = m.attachController(controller);
  m.attachController(controller);
  t.is(controller.listenerCount, 1);
  controller.emit({ name: 'Shutdown' });
  off();
  t.is(controller.listenerCount, 0);
  controller.emit({ name: 'Shutdown' });
  t.is(sample(await m.metrics(), 'vpp_engine_events_processed_total{event="Shutdown",result="ok"}'), 1);
  m.attachController(controller);
  m.close();
  t.is(controller.listenerCount, 0);
});

test('C20: options and sources are validated, naming the option, the expectation and the value', (t) => {
  t.throws(() => new EngineMetrics({ prefix: '9x' }), { instanceOf: TypeError, message: /options\.prefix.*"9x"/ });
  t.throws(() => new EngineMetrics({ defaultMetrics: 'no' as never }), { instanceOf: TypeError, message: /options\.defaultMetrics/ });
  t.throws(() => new EngineMetrics({ durationBuckets: [1, 0.5] }), { instanceOf: RangeError, message: /options\.durationBuckets.*increasing/ });
  t.throws(() => new EngineMetrics({ commitBuckets: [] }), { instanceOf: TypeError, message: /options\.commitBuckets/ });
  const m = new EngineMetrics({ defaultMetrics: false });
  t.throws(() => m.attachController({} as never), { instanceOf: TypeError, message: /onEvent/ });
  t.throws(() => m.attachConnector({} as never), { instanceOf: TypeError, message: /stats/ });
  t.throws(() => m.attachOrchestrator(null as never), { instanceOf: TypeError, message: /onResync/ });
});

test('C20 V4: a connector detached and attached again, or attached after close(), does not count its errors twice', async (t) => {
  const connector = new ConnectorDouble();
  const m = new EngineMetrics({ connector, defaultMetrics: false });
  connector.current = { ...connector.current, errorsByRetval: { NO_SUCH_ENTRY: 5 }, timeouts: 3, protocolErrors: 1 };
  const scrape = async (): Promise<number[]> => {
    const text = await m.metrics();
    return ['vpp_engine_dataplane_errors_total{code="NO_SUCH_ENTRY"}', 'vpp_engine_dataplane_timeouts_total', 'vpp_engine_dataplane_protocol_errors_total'].map((s) => sample(text, s) ?? 0);
  };
  t.deepEqual(await scrape(), [5, 3, 1]);
  const off = m.attachConnector(connector);
  off();
  m.attachConnector(connector);
  t.deepEqual(await scrape(), [5, 3, 1], 'nothing new happened');
  m.close();
  m.attachConnector(connector);
  connector.current = { ...connector.current, errorsByRetval: { NO_SUCH_ENTRY: 6 }, timeouts: 3, protocolErrors: 1 };
  t.deepEqual(await scrape(), [6, 3, 1], 'only what happened since');
});

test('C20: record() refuses durations that are not finite numbers >= 0 (TypeError), and changes nothing', async (t) => {
  const m = new EngineMetrics({ defaultMetrics: false });
  const ok = { seqNum: 1, name: 'E', method: 0, isFollowUp: false, result: 'ok', error: null, durationMs: 1, handlerMs: [{ handler: 'h', ms: 0.5 }], commitMs: 0.2, healing: false } as const;
  for (const bad of [{ durationMs: NaN }, { durationMs: -1 }, { commitMs: Infinity }, { handlerMs: [{ handler: 'h', ms: -0.005 }] }, { handlerMs: null }, { result: 'maybe' }]) {
    t.throws(() => m.record({ ...ok, ...bad } as never), { instanceOf: TypeError }, JSON.stringify(bad));
  }
  t.throws(() => m.record(null as never), { instanceOf: TypeError });
  const text = await m.metrics();
  t.is(sample(text, 'vpp_engine_events_processed_total{event="E",result="ok"}'), undefined, 'nothing was recorded');
  m.record(ok as never);
  t.is(sample(await m.metrics(), 'vpp_engine_event_duration_seconds_sum{event="E"}'), 0.001);
});

test('C20: registry.resetMetrics() zeroes every metric, the fast ones included, and counting goes on', async (t) => {
  const m = new EngineMetrics({ defaultMetrics: false });
  const info = { seqNum: 1, name: 'E', method: 0, isFollowUp: false, result: 'ok', error: null, durationMs: 2, handlerMs: [], commitMs: 1, healing: true } as const;
  m.record(info as never);
  m.registry.resetMetrics();
  let text = await m.metrics();
  t.is(sample(text, 'vpp_engine_events_processed_total{event="E",result="ok"}'), 0);
  t.is(sample(text, 'vpp_engine_event_duration_seconds_count{event="E"}'), 0);
  t.is(sample(text, 'vpp_engine_healing_resyncs_total'), 0);
  m.record(info as never);
  text = await m.metrics();
  t.is(sample(text, 'vpp_engine_events_processed_total{event="E",result="ok"}'), 1);
  t.is(sample(text, 'vpp_engine_commit_duration_seconds_count'), 1);
});

test('C20: the process metrics are collected once per prefix, however many EngineMetrics are made and closed', async (t) => {
  const a = new EngineMetrics();
  const b = new EngineMetrics();
  const metricOf = (m: EngineMetrics): unknown => m.registry.getSingleMetric('vpp_engine_nodejs_heap_size_used_bytes');
  t.truthy(metricOf(a));
  t.is(metricOf(a), metricOf(b), 'one collector shared, not one per instance');
  a.close();
  t.regex(await b.metrics(), /vpp_engine_nodejs_gc_duration_seconds/);
});
