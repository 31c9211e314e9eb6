import test from 'ava';
import { startRestServer } from '../src/rest/index.js';
import { ControllerDouble, SchedulerDouble } from './helpers/ops-doubles.js';
import { bearer, http } from './helpers/ops-http.js';

test('C20: listens on 127.0.0.1 unless told otherwise and reports the actual port', async (t) => {
  const server = await startRestServer({ port: 0 });
  t.teardown(() => server.close());
  t.regex(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  t.true(server.port > 0);
  t.is(server.url, `http://127.0.0.1:${server.port}`);
});

test('C20: with a token every endpoint but /health needs the bearer token (401 otherwise)', async (t) => {
  const server = await startRestServer({ port: 0, token: 's3cret', controller: new ControllerDouble(), scheduler: new SchedulerDouble() });
  t.teardown(() => server.close());
  for (const [method, path] of [
    ['GET', '/controller/event-history'],
    ['POST', '/controller/resync'],
    ['GET', '/scheduler/txn-history'],
    ['GET', '/scheduler/dump'],
    ['GET', '/metrics'],
    ['GET', '/no/such/route'],
  ] as const) {
    const none = await http(server, path, { method });
    t.is(none.status, 401, `${method} ${path}`);
    t.is(none.json.error.code, 'ERR_REST_UNAUTHORIZED');
    t.is(none.headers.get('www-authenticate'), 'Bearer');
    const wrong = await http(server, path, { method, headers: { authorization: 'Bearer s3cre' } });
    t.is(wrong.status, 401);
    const basic = await http(server, path, { method, headers: { authorization: 's3cret' } });
    t.is(basic.status, 401);
  }
  t.is((await http(server, '/controller/event-history', bearer('s3cret'))).status, 200);
  t.is((await http(server, '/health')).status, 200);
});

test('C20: unknown routes and wrong methods are a 404 JSON error', async (t) => {
  const server = await startRestServer({ port: 0, controller: new ControllerDouble() });
  t.teardown(() => server.close());
  let r = await http(server, '/controller/nope');
  t.is(r.status, 404);
  t.deepEqual(r.json, { error: { code: 'ERR_REST_NOT_FOUND', message: 'no route GET /controller/nope' } });
  r = await http(server, '/controller/resync');
  t.is(r.status, 404);
  r = await http(server, '/health', { method: 'DELETE' });
  t.is(r.status, 404);
});

test('C20: an oversized body is a 413 JSON error; a malformed one a 400', async (t) => {
  const controller = new ControllerDouble();
  const server = await startRestServer({ port: 0, controller, bodyLimit: 1024 });
  t.teardown(() => server.close());
  let r = await http(server, '/controller/resync', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ pad: 'x'.repeat(2048) }),
  });
  t.is(r.status, 413);
  t.is(r.json.error.code, 'ERR_REST_BODY_TOO_LARGE');
  r = await http(server, '/controller/resync', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{oops' });
  t.is(r.status, 400);
  t.is(r.json.error.code, 'ERR_REST_BAD_REQUEST');
  t.is(controller.pushed.length, 0);
  r = await http(server, '/controller/resync', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"small":true}' });
  t.is(r.status, 202);
  t.is(controller.pushed.length, 1);
});

test('C20: endpoints without parameters refuse unknown ones', async (t) => {
  const server = await startRestServer({ port: 0, controller: new ControllerDouble() });
  t.teardown(() => server.close());
  const r = await http(server, '/controller/resync?force=1', { method: 'POST' });
  t.is(r.status, 400);
  t.regex(r.json.error.message, /unknown query parameter "force".*takes none/);
});

test('C20: options are validated, naming the option, the expectation and the value', async (t) => {
  await t.throwsAsync(startRestServer({ port: 70000 }), { instanceOf: RangeError, message: /options\.port.*70000/ });
  await t.throwsAsync(startRestServer({ port: 1.5 }), { instanceOf: TypeError, message: /options\.port.*integer/ });
  await t.throwsAsync(startRestServer({ port: '80' as never }), { instanceOf: TypeError, message: /options\.port.*"80"/ });
  await t.throwsAsync(startRestServer({ host: 'a b' }), { instanceOf: TypeError, message: /options\.host/ });
  await t.throwsAsync(startRestServer({ token: '' }), { instanceOf: TypeError, message: /options\.token/ });
  await t.throwsAsync(startRestServer({ bodyLimit: 0 }), { instanceOf: RangeError, message: /options\.bodyLimit/ });
  await t.throwsAsync(startRestServer({ controller: {} as never }), { instanceOf: TypeError, message: /options\.controller.*getEventHistory/ });
  await t.throwsAsync(startRestServer({ metrics: {} as never }), { instanceOf: TypeError, message: /options\.metrics/ });
  await t.throwsAsync(startRestServer({ resync: 'yes' as never }), { instanceOf: TypeError, message: /options\.resync/ });
  await t.throwsAsync(startRestServer(7 as never), { instanceOf: TypeError, message: /options must be an object/ });
});

test('C20: a port already in use rejects; close is harmless twice', async (t) => {
  const first = await startRestServer({ port: 0 });
  const err = await t.throwsAsync(startRestServer({ port: first.port }));
  t.is((err as NodeJS.ErrnoException | undefined)?.code, 'EADDRINUSE');
  await first.close();
  await t.notThrowsAsync(first.close());
  await t.throwsAsync(fetch(`${first.url}/health`));
});
