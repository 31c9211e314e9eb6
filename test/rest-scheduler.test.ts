import test from 'ava';
import { startRestServer } from '../src/rest/index.js';
import { SchedulerDouble, txn } from './helpers/ops-doubles.js';
import { http } from './helpers/ops-http.js';

async function serve(t: { teardown(fn: () => unknown): void }, scheduler = new SchedulerDouble()) {
  const server = await startRestServer({ port: 0, scheduler });
  t.teardown(() => server.close());
  return { server, scheduler };
}

test('C20 S7: txn-history lists recorded transactions, filtered by since/until on their start', async (t) => {
  const { server, scheduler } = await serve(t);
  scheduler.txns = [txn(1, 1_000_000), txn(2, 2_000_000, { executed: [{ key: 'k', op: 'create', error: new Error('retval -6') }] }), txn(3, 3_000_000)];
  let r = await http(server, '/scheduler/txn-history');
  t.is(r.status, 200);
  t.deepEqual(r.json.map((x: { seqNum: number }) => x.seqNum), [1, 2, 3]);
  t.deepEqual(r.json[1].executed[0].error, { name: 'Error', message: 'retval -6' });
  r = await http(server, '/scheduler/txn-history?since=1500&until=2500');
  t.deepEqual(r.json.map((x: { seqNum: number }) => x.seqNum), [2]);
  r = await http(server, '/scheduler/txn-history?since=2000');
  t.deepEqual(r.json.map((x: { seqNum: number }) => x.seqNum), [2, 3]);
});

test('C20 S7: txn-history?seq-num returns that transaction, 404 when absent, 400 when malformed', async (t) => {
  const { server, scheduler } = await serve(t);
  scheduler.txns = [txn(5, 1000)];
  let r = await http(server, '/scheduler/txn-history?seq-num=5');
  t.is(r.status, 200);
  t.is(r.json.seqNum, 5);
  t.is(r.json.description, 'txn 5');
  r = await http(server, '/scheduler/txn-history?seq-num=6');
  t.is(r.status, 404);
  t.is(r.json.error.code, 'ERR_REST_NOT_FOUND');
  r = await http(server, '/scheduler/txn-history?seq-num=x');
  t.is(r.status, 400);
  r = await http(server, '/scheduler/txn-history?last=2');
  t.is(r.status, 400);
  t.regex(r.json.error.message, /unknown query parameter "last"/);
});

test('C20 S4: dump returns the values under key-prefix for each view, cached by default', async (t) => {
  const { server, scheduler } = await serve(t);
  scheduler.values.set('config/vpp/v2/interfaces/tap1', { name: 'tap1', type: 'TAP', enabled: true });
  scheduler.values.set('config/vpp/v2/vrf-table/id/1/protocol/IPV4', { id: 1, protocol: 'IPV4' });
  let r = await http(server, '/scheduler/dump?key-prefix=config/vpp/v2/interfaces/');
  t.is(r.status, 200);
  t.deepEqual(r.json, { 'config/vpp/v2/interfaces/tap1': { name: 'tap1', type: 'TAP', enabled: true } });
  for (const view of ['nb', 'sb', 'cached'] as const) {
    r = await http(server, `/scheduler/dump?view=${view}`);
    t.is(r.status, 200);
    t.is(Object.keys(r.json).length, 2);
  }
  t.deepEqual(scheduler.dumps.map(([, v]) => v), ['cached', 'nb', 'sb', 'cached']);
  t.deepEqual(scheduler.dumps[0], ['config/vpp/v2/interfaces/', 'cached']);
});

test('C20: dump with a bad view is a 400 naming the views', async (t) => {
  const { server, scheduler } = await serve(t);
  const r = await http(server, '/scheduler/dump?view=applied');
  t.is(r.status, 400);
  t.is(r.json.error.code, 'ERR_REST_BAD_QUERY');
  t.regex(r.json.error.message, /nb, sb, cached.*"applied"/);
  t.is(scheduler.dumps.length, 0);
});

test('C20: a failing dump (e.g. dataplane down) is a 500 JSON error', async (t) => {
  const scheduler = new SchedulerDouble();
  scheduler.dump = async () => {
    throw new Error('connector is not responding');
  };
  const { server } = await serve(t, scheduler);
  const r = await http(server, '/scheduler/dump?view=sb');
  t.is(r.status, 500);
  t.regex(r.json.error.message, /not responding/);
});

test('C20 S3: status returns the key state, 400 without key, 404 for an unknown key', async (t) => {
  const { server, scheduler } = await serve(t);
  scheduler.statuses.set('config/vpp/v2/route/vrf/0/dst/10.0.0.0/24', { state: 'pending', details: ['waiting for interface tap1'] });
  scheduler.statuses.set('config/vpp/v2/interfaces/bad', { state: 'failed', error: Object.assign(new Error('invalid value'), { code: 'ERR_VPP_RETVAL' }) });
  let r = await http(server, `/scheduler/status?key=${encodeURIComponent('config/vpp/v2/route/vrf/0/dst/10.0.0.0/24')}`);
  t.is(r.status, 200);
  t.deepEqual(r.json, { key: 'config/vpp/v2/route/vrf/0/dst/10.0.0.0/24', state: 'pending', details: ['waiting for interface tap1'] });
  r = await http(server, '/scheduler/status?key=config/vpp/v2/interfaces/bad');
  t.deepEqual(r.json.error, { name: 'Error', code: 'ERR_VPP_RETVAL', message: 'invalid value' });
  r = await http(server, '/scheduler/status');
  t.is(r.status, 400);
  t.regex(r.json.error.message, /"key" is required/);
  r = await http(server, '/scheduler/status?key=');
  t.is(r.status, 400);
  r = await http(server, '/scheduler/status?key=nope');
  t.is(r.status, 404);
  t.is(r.json.error.code, 'ERR_REST_NOT_FOUND');
});

test('C20: scheduler endpoints without a scheduler are a 404 JSON error', async (t) => {
  const server = await startRestServer({ port: 0 });
  t.teardown(() => server.close());
  for (const path of ['/scheduler/txn-history', '/scheduler/txn-history?seq-num=1', '/scheduler/dump', '/scheduler/status?key=a']) {
    const r = await http(server, path);
    t.is(r.status, 404, path);
    t.is(r.json.error.code, 'ERR_REST_NOT_CONFIGURED');
  }
});
