import test from 'ava';
import { HealthRegistry, startRestServer } from '../src/rest/index.js';
import { FatalError } from '../src/api/index.js';
import { http } from './helpers/ops-http.js';

test('C20 C4 C9: /health turns from ok (200) to error (503) when a component reports error, and back', async (t) => {
  const health = new HealthRegistry();
  const server = await startRestServer({ port: 0, health });
  t.teardown(() => server.close());
  let r = await http(server, '/health');
  t.is(r.status, 200);
  t.is(r.json.status, 'ok');
  t.deepEqual(r.json.components, {});
  health.reportStateChange('controller', 'ok');
  health.reportStateChange('dataplane', 'ok');
  r = await http(server, '/health');
  t.is(r.status, 200);
  t.is(r.json.components.controller.state, 'ok');
  health.reportStateChange('controller', 'error', new FatalError(new Error('handler exploded')));
  r = await http(server, '/health');
  t.is(r.status, 503);
  t.is(r.json.status, 'error');
  t.deepEqual(r.json.components.controller.error, { name: 'FatalError', code: 'ERR_FATAL', message: 'handler exploded' });
  t.is(r.json.components.dataplane.state, 'ok');
  health.reportStateChange('controller', 'ok', null);
  r = await http(server, '/health');
  t.is(r.status, 200);
  t.is(r.json.components.controller.error, undefined);
});

test('C20: HealthRegistry validates reports and notifies listeners', (t) => {
  const health = new HealthRegistry();
  const seen: string[] = [];
  const off = health.onChange((name, h) => seen.push(`${name}=${h.state}`));
  health.reportStateChange('a', 'error', 'not an Error' as unknown as Error);
  t.is(health.report().components['a']?.error?.message, 'non-Error value thrown: not an Error');
  off();
  health.reportStateChange('a', 'ok');
  t.deepEqual(seen, ['a=error']);
  t.throws(() => health.reportStateChange('a', 'degraded' as never), { instanceOf: TypeError, message: /state must be 'ok' or 'error'.*"degraded"/ });
  t.throws(() => health.reportStateChange('', 'ok'), { instanceOf: TypeError, message: /name/ });
  t.is(health.report().status, 'ok');
});
