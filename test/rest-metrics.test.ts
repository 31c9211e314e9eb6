import test from 'ava';
import { EngineMetrics } from '../src/metrics/index.js';
import { startRestServer } from '../src/rest/index.js';
import { ControllerDouble } from './helpers/ops-doubles.js';
import { http } from './helpers/ops-http.js';

test('C20: GET /metrics serves the Prometheus text of the engine metrics, values moving after events', async (t) => {
  const controller = new ControllerDouble();
  const metrics = new EngineMetrics({ controller });
  const server = await startRestServer({ port: 0, controller, metrics });
  t.teardown(() => server.close());
  let r = await http(server, '/metrics');
  t.is(r.status, 200);
  t.regex(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  for (const name of ['events_processed_total', 'handler_duration_seconds', 'commit_duration_seconds', 'event_queue_depth', 'healing_resyncs_total', 'ring_used_bytes', 'process_resident_memory_bytes']) {
    t.regex(r.text, new RegExp(`# TYPE vpp_engine_${name} `), name);
  }
  t.notRegex(r.text, /events_processed_total\{event="External Config Change"/);
  controller.emit({ name: 'External Config Change', commitMs: 1 });
  r = await http(server, '/metrics');
  t.regex(r.text, /vpp_engine_events_processed_total\{event="External Config Change",result="ok"\} 1\n/);
  t.regex(r.text, /vpp_engine_commit_duration_seconds_count 1\n/);
});
