import { connect } from 'node:net';
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
  t.is((await http(server, '/controller/event-history', { headers: { authorization: 'bearer s3cret' } })).status, 200, 'scheme in any case');
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

test('C20: a body that is not JSON (text/plain, form, octet-stream) is a 415 JSON error and triggers nothing', async (t) => {
  const controller = new ControllerDouble();
  const server = await startRestServer({ port: 0, controller });
  t.teardown(() => server.close());
  for (const type of ['text/plain', 'text/plain; charset=utf-8', 'application/x-www-form-urlencoded', 'application/octet-stream']) {
    const r = await http(server, '/controller/resync', { method: 'POST', headers: { 'content-type': type }, body: 'resync please' });
    t.is(r.status, 415, type);
    t.is(r.json.error.code, 'ERR_REST_UNSUPPORTED_MEDIA_TYPE', type);
  }
  t.is(controller.pushed.length, 0);
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
  await t.throwsAsync(startRestServer({ requestTimeout: 0 }), { instanceOf: RangeError, message: /options\.requestTimeout.*received 0/ });
  await t.throwsAsync(startRestServer({ requestTimeout: 2 ** 31 }), { instanceOf: RangeError, message: /options\.requestTimeout/ });
  await t.throwsAsync(startRestServer({ requestTimeout: '5s' as never }), { instanceOf: TypeError, message: /options\.requestTimeout.*"5s"/ });
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

/** Sends raw bytes, resolves with everything the server answered before closing. */
function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let answer = '';
    socket.on('data', (d) => (answer += String(d)));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer')));
  });
}

function parsed(answer: string): { status: number; body: unknown } {
  const [head = '', body = ''] = answer.split('\r\n\r\n');
  return { status: Number(head.split(' ')[1]), body: JSON.parse(body) as unknown };
}

test('C20: a request whose body stalls after its headers gets 408 after requestTimeout, not a connection held for ever', async (t) => {
  const controller = new ControllerDouble();
  const server = await startRestServer({ port: 0, controller, requestTimeout: 300 });
  t.teardown(() => server.close());
  const started = Date.now();
  const answer = await raw(server.port, 'POST /controller/resync HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"par');
  const r = parsed(answer);
  t.is(r.status, 408);
  t.like(r.body, { error: { code: 'ERR_REST_TIMEOUT' } });
  t.true(Date.now() - started >= 300);
  t.is(controller.pushed.length, 0);
});

test('C20: requests rejected before routing (bad URL, bad request line, huge headers) get the same JSON error body', async (t) => {
  const server = await startRestServer({ port: 0, token: 's3cret', controller: new ControllerDouble() });
  t.teardown(() => server.close());
  const cases: Array<[string, number, string]> = [
    ['GET /% HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 400, 'ERR_REST_BAD_REQUEST'],
    ['GARBAGE\r\n\r\n', 400, 'ERR_REST_BAD_REQUEST'],
    [`GET /${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, 431, 'ERR_REST_HEADERS_TOO_LARGE'],
  ];
  for (const [request, status, code] of cases) {
    const r = parsed(await raw(server.port, request));
    t.is(r.status, status, request.slice(0, 20));
    t.like(r.body, { error: { code } });
    t.is(typeof (r.body as { error: { message: unknown } }).error.message, 'string');
  }
});
