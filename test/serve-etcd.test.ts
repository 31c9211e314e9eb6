// `serve --etcd` against a real etcd server (the DB watcher tests' etcd helper).
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { kubeStateEtcdKey, podKey } from '../src/dbwatcher/index.js';
import { startEtcd } from './helpers/etcd-server.js';
import { spawnServe } from './helpers/ops-serve.js';

test('C20 D1 D2: serve --etcd resyncs from etcd, turns changes into events, POST /controller/resync resyncs from the DB', async (t) => {
  const etcd = await startEtcd();
  const localDb = await mkdtemp(join(tmpdir(), 'ops-serve-mirror-'));
  const client = new Etcd3({ hosts: etcd.url });
  t.teardown(async () => {
    client.close();
    await etcd.stop();
    await rm(localDb, { recursive: true, force: true });
  });
  const p = spawnServe(['--etcd', etcd.url, '--http', '127.0.0.1:0', '--local-db', localDb]);
  t.teardown(() => {
    if (p.child.exitCode === null) p.child.kill('SIGKILL');
  });
  const finished = (name: string, nth = 1) =>
    p.waitFor((l) => l.event === name && String(l.msg).includes('Finished') && p.lines.filter((x) => x.event === name && String(x.msg).includes('Finished')).length >= nth);

  const url = await p.waitFor((l) => String(l.msg).startsWith('serving on ')).then((l) => l.url as string);
  await finished('Database Resync');

  await client.put(kubeStateEtcdKey('pod', podKey('web-1', 'default'))).value(JSON.stringify({ name: 'web-1', namespace: 'default' }));
  await finished('Kubernetes State Change');

  const r = await fetch(`${url}/controller/resync`, { method: 'POST' });
  t.is(r.status, 202);
  t.regex(((await r.json()) as { description: string }).description, /remote DB/);
  await finished('Database Resync', 2);

  const history = (await (await fetch(`${url}/controller/event-history`)).json()) as Array<{ name: string }>;
  // A healing resync may follow a handler error on this minimal pod; it is not what this test is about.
  t.deepEqual(history.map((e) => e.name).filter((n) => n !== 'Healing Resync'), ['Database Resync', 'Kubernetes State Change', 'Database Resync']);

  p.child.kill('SIGTERM');
  t.is((await p.exit).code, 0, p.stderr());
  t.truthy(p.lines.find((l) => l.msg === 'shutdown complete'));
});
