import test from 'ava';
import { spawnServe, type ServeProcess } from './helpers/ops-serve.js';

function serving(p: ServeProcess): Promise<string> {
  return p.waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith('serving on ')).then((l) => l.url as string);
}

test.serial('C20 C17: serve on an ephemeral port answers REST calls, then SIGTERM finishes queued events and exits 0', async (t) => {
  const p = spawnServe(['--http', '127.0.0.1:0']);
  t.teardown(() => {
    if (p.child.exitCode === null) p.child.kill('SIGKILL');
  });
  const url = await serving(p);
  t.regex(url, /^http:\/\/127\.0\.0\.1:\d+$/);

  // The startup resync (no etcd: an empty one) opens the gate; health follows the controller.
  await p.waitFor((l) => l.event === 'Database Resync' && String(l.msg).includes('Finished'));
  let r = await fetch(`${url}/health`);
  t.is(r.status, 200);
  const health = (await r.json()) as { status: string; components: Record<string, { state: string }> };
  t.is(health.status, 'ok');
  t.is(health.components['controller']?.state, 'ok');

  r = await fetch(`${url}/controller/event-history?first=1`);
  t.is(r.status, 200);
  const history = (await r.json()) as Array<{ seqNum: number; name: string }>;
  t.deepEqual(history.map((e) => e.name), ['Database Resync']);

  r = await fetch(`${url}/scheduler/txn-history?seq-num=1`);
  t.is(r.status, 200);
  t.is(((await r.json()) as { resync: string }).resync, 'full');

  r = await fetch(`${url}/scheduler/dump?view=nb`);
  t.is(r.status, 200);

  r = await fetch(`${url}/metrics`);
  t.regex(await r.text(), /vpp_engine_events_processed_total\{event="Database Resync",result="ok"\} 1/);

  r = await fetch(`${url}/controller/event-history?last=-1`);
  t.is(r.status, 400);

  // Queue a resync and stop right away: it is processed before the Shutdown event.
  r = await fetch(`${url}/controller/resync`, { method: 'POST' });
  t.is(r.status, 202);
  p.child.kill('SIGTERM');
  const { code } = await p.exit;
  t.is(code, 0, p.stderr());
  const finished = p.lines.filter((l) => String(l.msg).includes('Finished event')).map((l) => l.event);
  t.deepEqual(finished.slice(-2), ['Healing Resync', 'Shutdown']);
  t.truthy(p.lines.find((l) => l.msg === 'shutting down' && l.reason === 'SIGTERM'));
  t.truthy(p.lines.find((l) => l.msg === 'shutdown complete'));
  await t.throwsAsync(fetch(`${url}/health`));
});

test.serial('C20: serve with a token protects every endpoint but /health; SIGINT also shuts down cleanly', async (t) => {
  const p = spawnServe(['--http=127.0.0.1:0'], { ENGINE_REST_TOKEN: 'tkn' });
  t.teardown(() => {
    if (p.child.exitCode === null) p.child.kill('SIGKILL');
  });
  const url = await serving(p);
  t.is((await fetch(`${url}/metrics`)).status, 401);
  t.is((await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer tkn' } })).status, 200);
  t.is((await fetch(`${url}/health`)).status, 200);
  p.child.kill('SIGINT');
  t.is((await p.exit).code, 0, p.stderr());
  t.truthy(p.lines.find((l) => l.msg === 'shutdown complete'));
});

test.serial('C20: a bad command line prints the usage and exits 2', async (t) => {
  const p = spawnServe(['--http', 'nowhere']);
  const { code } = await p.exit;
  t.is(code, 2);
  t.regex(p.stderr(), /--http expects HOST:PORT/);
  t.regex(p.stderr(), /usage: serve/);
});
