import test from 'ava';
import { startRestServer, type RestServer } from '../src/rest/index.js';
import { ControllerDouble, SchedulerDouble, txn } from './helpers/ops-doubles.js';
import { http } from './helpers/ops-http.js';

async function serve(t: { teardown(fn: () => unknown): void }) {
  const controller = new ControllerDouble();
  const scheduler = new SchedulerDouble();
  scheduler.txns = [txn(7, 7000)];
  const server = await startRestServer({ port: 0, controller, scheduler });
  t.teardown(() => server.close());
  return { server, controller };
}

// Written as they would appear in a URL (already percent-encoded where needed).
const malformed = [
  '-1',
  '-0',
  '1e2',
  '0x10',
  '+3',
  'NaN',
  'Infinity',
  '-Infinity',
  '1e400',
  '99999999999999999999',
  '9007199254740993',
  '3abc',
  '%203',
  '.5',
  '5.',
  '',
];
const integerOnly = ['1.5', '1.25'];

const eventHistoryParams: Array<[name: string, kind: 'uint' | 'seconds', ok: [string, number]]> = [
  ['seq-num', 'uint', ['7', 7]],
  ['first', 'uint', ['7', 7]],
  ['last', 'uint', ['7', 7]],
  ['from', 'uint', ['7', 7]],
  ['to', 'uint', ['7', 7]],
  ['since', 'seconds', ['7.5', 7500]],
  ['until', 'seconds', ['7.5', 7500]],
];
const queryKey: Record<string, string> = { 'seq-num': 'seqNum' };

async function expectBadQuery(
  t: import('ava').ExecutionContext,
  server: RestServer,
  path: string,
  name: string,
): Promise<void> {
  const r = await http(server, path);
  t.is(r.status, 400, path);
  t.is(r.json?.error?.code, 'ERR_REST_BAD_QUERY', path);
  t.true(String(r.json?.error?.message).includes(`"${name}"`), `${path}: the message names the parameter`);
}

for (const [name, kind, [okText, okValue]] of eventHistoryParams) {
  const bad = kind === 'uint' ? [...malformed, ...integerOnly] : malformed;
  test(`C20: event-history ?${name}= negative, malformed, non-decimal, non-finite or huge is a 400 ERR_REST_BAD_QUERY`, async (t) => {
    const { server, controller } = await serve(t);
    for (const value of bad) await expectBadQuery(t, server, `/controller/event-history?${name}=${value}`, name);
    t.is(controller.queries.length, 0, 'the controller was never asked');
    // The same parameter with a well-formed value is accepted.
    const r = await http(server, `/controller/event-history?${name}=${okText}`);
    t.is(r.status, 200);
    t.deepEqual(controller.queries, [{ [queryKey[name] ?? name]: okValue }]);
  });
}

for (const [name, kind] of [['seq-num', 'uint'], ['since', 'seconds'], ['until', 'seconds']] as const) {
  const bad = kind === 'uint' ? [...malformed, ...integerOnly] : malformed;
  test(`C20: txn-history ?${name}= negative, malformed, non-decimal, non-finite or huge is a 400 ERR_REST_BAD_QUERY`, async (t) => {
    const { server } = await serve(t);
    for (const value of bad) await expectBadQuery(t, server, `/scheduler/txn-history?${name}=${value}`, name);
    const r = await http(server, `/scheduler/txn-history?${name}=7`);
    t.is(r.status, 200);
  });
}
