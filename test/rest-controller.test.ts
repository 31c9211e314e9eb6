import test from 'ava';
import { ControllerClosedError, EventMethodType, EventQueueFullError, HealingResync, HealingResyncType, TransactionError } from '../src/api/index.js';
import { startRestServer } from '../src/rest/index.js';
import { DbWatcherStateError } from '../src/dbwatcher/index.js';
import { ControllerDouble } from './helpers/ops-doubles.js';
import { http } from './helpers/ops-http.js';

test('C20 C16: event-history passes every filter to getEventHistory, times converted from Unix seconds', async (t) => {
  const controller = new ControllerDouble();
  const server = await startRestServer({ port: 0, controller });
  t.teardown(() => server.close());
  const r = await http(server, '/controller/event-history?seq-num=7&since=1700000000&until=1700000060.5&from=2&to=9&first=3&last=4');
  t.is(r.status, 200);
  t.deepEqual(controller.queries.at(-1), { seqNum: 7, since: 1_700_000_000_000, until: 1_700_000_060_500, from: 2, to: 9, first: 3, last: 4 });
  await http(server, '/controller/event-history');
  t.deepEqual(controller.queries.at(-1), {});
});

test('C20: event records are JSON with errors as { name, code, message } and Maps as objects', async (t) => {
  const controller = new ControllerDouble();
  const kvError = { key: 'config/vpp/v2/interfaces/tap1', error: new Error('no such entry') };
  controller.records = [
    {
      seqNum: 1,
      name: 'Kubernetes State Change',
      handlers: [{ handler: 'h1', revert: false, change: 'added pod', error: new ControllerClosedError() }],
      txnError: new TransactionError([kvError]),
      values: new Map([['k', { a: 1 }]]),
    },
  ];
  const server = await startRestServer({ port: 0, controller });
  t.teardown(() => server.close());
  const r = await http(server, '/controller/event-history');
  t.is(r.status, 200);
  t.regex(r.headers.get('content-type') ?? '', /application\/json/);
  const [rec] = r.json;
  t.deepEqual(rec.handlers[0].error, { name: 'ControllerClosedError', code: 'ERR_CONTROLLER_CLOSED', message: 'controller is closed' });
  t.is(rec.txnError.code, 'ERR_TRANSACTION');
  t.regex(rec.txnError.message, /tap1: no such entry/);
  t.deepEqual(rec.values, { k: { a: 1 } });
});

const badQueries: Array<[string, RegExp]> = [
  ['seq-num=-1', /seq-num.*non-negative integer.*"-1"/],
  ['first=abc', /first.*"abc"/],
  ['last=1.5', /last/],
  ['from=1e3', /from/],
  ['to=', /to/],
  ['since=-5', /since.*Unix seconds/],
  ['until=tomorrow', /until/],
  ['seq-num=1&seq-num=2', /given once/],
  ['seqNum=3', /unknown query parameter "seqNum"/],
];
for (const [query, message] of badQueries) {
  test(`C20: event-history ?${query} is a 400 with a JSON error`, async (t) => {
    const controller = new ControllerDouble();
    const server = await startRestServer({ port: 0, controller });
    t.teardown(() => server.close());
    const r = await http(server, `/controller/event-history?${query}`);
    t.is(r.status, 400);
    t.is(r.json.error.code, 'ERR_REST_BAD_QUERY');
    t.regex(r.json.error.message, message);
    t.is(controller.queries.length, 0);
  });
}

test('C20: POST /controller/resync pushes a downstream HealingResync by default and answers 202', async (t) => {
  const controller = new ControllerDouble();
  const server = await startRestServer({ port: 0, controller });
  t.teardown(() => server.close());
  const r = await http(server, '/controller/resync', { method: 'POST' });
  t.is(r.status, 202);
  t.true(r.json.accepted);
  t.is(controller.pushed.length, 1);
  const ev = controller.pushed[0];
  t.true(ev instanceof HealingResync);
  t.is((ev as HealingResync).type, HealingResyncType.Periodic);
  t.is(ev?.method(), EventMethodType.DownstreamResync);
});

test('C20: POST /controller/resync calls the resync option instead when given', async (t) => {
  const controller = new ControllerDouble();
  let calls = 0;
  const server = await startRestServer({
    port: 0,
    controller,
    resync: async () => {
      calls++;
      return 'remote DB resync queued';
    },
  });
  t.teardown(() => server.close());
  const r = await http(server, '/controller/resync', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  t.is(r.status, 202);
  t.is(r.json.description, 'remote DB resync queued');
  t.is(calls, 1);
  t.is(controller.pushed.length, 0);
});

test('C20 C2: a resync that cannot be queued (queue full, controller closed) is a 503 with the engine code', async (t) => {
  const controller = new ControllerDouble();
  const server = await startRestServer({ port: 0, controller });
  t.teardown(() => server.close());
  controller.pushError = new EventQueueFullError(1000);
  let r = await http(server, '/controller/resync', { method: 'POST' });
  t.is(r.status, 503);
  t.is(r.json.error.code, 'ERR_EVENT_QUEUE_FULL');
  controller.pushError = new ControllerClosedError();
  r = await http(server, '/controller/resync', { method: 'POST' });
  t.is(r.status, 503);
  t.is(r.json.error.code, 'ERR_CONTROLLER_CLOSED');
});

test('C20 D4: a resync trigger whose DB watcher is not started yet, or closed, is a 503 with its code', async (t) => {
  let err: Error = new DbWatcherStateError('not started', 'ERR_DBWATCHER_NOT_STARTED');
  const server = await startRestServer({ port: 0, controller: new ControllerDouble(), resync: () => Promise.reject(err) });
  t.teardown(() => server.close());
  let r = await http(server, '/controller/resync', { method: 'POST' });
  t.is(r.status, 503);
  t.is(r.json.error.code, 'ERR_DBWATCHER_NOT_STARTED');
  err = new DbWatcherStateError('closed', 'ERR_DBWATCHER_CLOSED');
  r = await http(server, '/controller/resync', { method: 'POST' });
  t.is(r.status, 503);
  t.is(r.json.error.code, 'ERR_DBWATCHER_CLOSED');
});

test('C20: controller endpoints without a controller are a 404 JSON error naming the missing part', async (t) => {
  const server = await startRestServer({ port: 0 });
  t.teardown(() => server.close());
  for (const [method, path] of [['GET', '/controller/event-history'], ['POST', '/controller/resync']] as const) {
    const r = await http(server, path, { method });
    t.is(r.status, 404);
    t.is(r.json.error.code, 'ERR_REST_NOT_CONFIGURED');
    t.regex(r.json.error.message, /controller/);
  }
});

test('C20: a throwing getEventHistory is a 500 JSON error and the server keeps serving', async (t) => {
  const controller = new ControllerDouble();
  controller.historyError = new TypeError('broken history');
  const server = await startRestServer({ port: 0, controller });
  t.teardown(() => server.close());
  const r = await http(server, '/controller/event-history');
  t.is(r.status, 500);
  t.is(r.json.error.code, 'ERR_REST_INTERNAL');
  t.regex(r.json.error.message, /broken history/);
  controller.historyError = null;
  t.is((await http(server, '/controller/event-history')).status, 200);
});
