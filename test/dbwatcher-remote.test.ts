// The DB watcher against a real etcd: startup resync, watch, external config, mirror, bad values,
// queue-full retries. The event loop is a recorder (test double of EventLoop).
import test from 'ava';
import { Etcd3 } from 'etcd3';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DBResync, ExternalConfigChange, KubeStateChange } from '../src/api/events.js';
import {
  DbWatcher,
  externalConfigEtcdKey,
  generateCluster,
  loadIntoEtcd,
  kubeStateEtcdKey,
  namespaceKey,
  podKey,
  serviceKey,
  type DbWatcherOptions,
} from '../src/dbwatcher/index.js';
import { LocalMirror } from '../src/dbwatcher/local-mirror.js';
import { silentLogger } from '../src/dbwatcher/options.js';
import { startEtcd, type EtcdServer } from './helpers/etcd-server.js';
import { RecordingLoop, until } from './helpers/dbwatcher-recorder.js';
import { replay } from './helpers/dbwatcher-state.js';

let etcd: EtcdServer;
let client: Etcd3;
let roots = 0;

test.before(async () => {
  etcd = await startEtcd();
  client = new Etcd3({ hosts: etcd.url });
});
test.after.always(async () => {
  client?.close();
  await etcd?.stop();
});

/** A fresh key root per test, so tests share one etcd without seeing each other. */
function freshRoot(): string {
  return `/t${++roots}-${process.pid}/`;
}

function watcherOptions(loop: RecordingLoop, root: string, extra: Partial<DbWatcherOptions> = {}): DbWatcherOptions {
  return {
    eventLoop: loop,
    etcd: { hosts: etcd.url, dialTimeout: 1000, requestTimeout: 3000 },
    root,
    nodeLabel: 'node-1',
    delayLocalResync: 60_000,
    remoteDBProbingInterval: 100,
    ...extra,
  };
}

const put = (key: string, value: unknown) => client.put(key).value(typeof value === 'string' ? value : JSON.stringify(value)).exec();

test('D1: startup pushes one DBResync with the Kubernetes state and this node\'s external config', async (t) => {
  const root = freshRoot();
  const pod = { name: 'web-1', namespace: 'shop', labels: { app: 'web' }, ipAddress: '10.1.1.2' };
  await put(kubeStateEtcdKey('pod', podKey('web-1', 'shop'), root), pod);
  await put(kubeStateEtcdKey('namespace', namespaceKey('shop'), root), { name: 'shop' });
  await put(kubeStateEtcdKey('service', serviceKey('web', 'shop'), root), { name: 'web', namespace: 'shop', clusterIp: '10.96.0.10' });
  await put(kubeStateEtcdKey('unknownkind', 'x', root), { name: 'x' });
  await put(externalConfigEtcdKey('node-1', 'config/vpp/v2/interfaces/loop1', root), { name: 'loop1', type: 'SOFTWARE_LOOPBACK' });
  await put(externalConfigEtcdKey('node-2', 'config/vpp/v2/interfaces/loop2', root), { name: 'loop2' });
  const loop = new RecordingLoop();
  const w = new DbWatcher(watcherOptions(loop, root));
  await w.start();
  t.teardown(() => w.close());
  t.is(w.state, 'remote');
  const resyncs = loop.of(DBResync);
  t.is(resyncs.length, 1);
  t.is(loop.events.length, 1);
  const ev = resyncs[0]!;
  t.false(ev.local);
  t.deepEqual(ev.kubeState.get('pod')?.get('web-1/namespace/shop'), pod);
  t.deepEqual(ev.kubeState.get('namespace')?.get('shop'), { name: 'shop' });
  t.is(ev.kubeState.get('service')?.size, 1);
  t.is(ev.kubeState.get('node')?.size, 0);
  t.false(ev.kubeState.has('unknownkind'));
  t.deepEqual([...ev.externalConfig.keys()], ['config/vpp/v2/interfaces/loop1']);
  t.true(w.stats.snapshotRevision > 0);
});

test('D1: watched Kubernetes changes become KubeStateChange events (add, update, delete) with prevValue', async (t) => {
  const root = freshRoot();
  const loop = new RecordingLoop();
  const w = new DbWatcher(watcherOptions(loop, root));
  await w.start();
  t.teardown(() => w.close());
  const key = kubeStateEtcdKey('pod', podKey('db-0', 'prod'), root);
  const v1 = { name: 'db-0', namespace: 'prod', ipAddress: '10.1.1.3' };
  const v2 = { ...v1, ipAddress: '10.1.1.4' };
  await put(key, v1);
  await put(key, v2);
  await client.delete().key(key).exec();
  await loop.waitFor('3 kube changes', () => loop.of(KubeStateChange).length === 3);
  const [add, upd, del] = loop.of(KubeStateChange);
  t.like(add, { key: 'db-0/namespace/prod', resource: 'pod', prevValue: null, newValue: v1 });
  t.like(upd, { key: 'db-0/namespace/prod', resource: 'pod', prevValue: v1, newValue: v2 });
  t.like(del, { key: 'db-0/namespace/prod', resource: 'pod', prevValue: v2, newValue: null });
  t.deepEqual(loop.events.map((e) => e.getName()), ['Database Resync', ...Array(3).fill('Kubernetes State Change')]);
});

test('D5: a deleted key is forgotten by the revision tracking (pod churn does not grow memory); a key written again is still pushed', async (t) => {
  const root = freshRoot();
  const loop = new RecordingLoop();
  const w = new DbWatcher(watcherOptions(loop, root));
  await w.start();
  t.teardown(() => w.close());
  const keys = Array.from({ length: 50 }, (_, i) => kubeStateEtcdKey('pod', podKey(`churn-${i}`, 'prod'), root));
  const txn = (ops: object[]) => client.kv.txn({ compare: [], success: ops as never, failure: [] });
  await txn(keys.map((k) => ({ request_put: { key: Buffer.from(k), value: Buffer.from('{"name":"x","namespace":"prod"}') } })));
  await txn(keys.map((k) => ({ request_delete_range: { key: Buffer.from(k) } })));
  await loop.waitFor('100 kube changes', () => loop.of(KubeStateChange).length === 100);
  t.is(w.stats.revisionsTracked, 0, 'only live keys are tracked');
  await put(keys[0]!, { name: 'churn-0', namespace: 'prod' });
  await loop.waitFor('the key written again', () => loop.of(KubeStateChange).length === 101);
  t.is(w.stats.revisionsTracked, 1);
});

test('D1: external config changes become ExternalConfigChange from source db; one etcd txn is one change', async (t) => {
  const root = freshRoot();
  const loop = new RecordingLoop();
  const w = new DbWatcher(watcherOptions(loop, root));
  await w.start();
  t.teardown(() => w.close());
  const k1 = externalConfigEtcdKey('node-1', 'config/vpp/v2/interfaces/a', root);
  const k2 = externalConfigEtcdKey('node-1', 'config/vpp/v2/interfaces/b', root);
  await put(k1, { name: 'a' });
  await client
    .if(k2, 'Create', '==', 0)
    .then(client.put(k1).value(JSON.stringify({ name: 'a', mtu: 9000 })), client.put(k2).value(JSON.stringify({ name: 'b' })))
    .commit();
  await client.delete().key(k1).exec();
  await put(externalConfigEtcdKey('node-2', 'config/vpp/v2/interfaces/c', root), { name: 'c' });
  // The node-2 key is written before the marker: had it been watched, it would arrive before it.
  await put(externalConfigEtcdKey('node-1', 'config/marker', root), { name: 'marker' });
  await loop.waitFor('marker', () => loop.of(ExternalConfigChange).some((c) => c.updatedKVs.has('config/marker')));
  const changes = loop.of(ExternalConfigChange);
  t.is(changes.length, 4);
  t.true(changes.every((c) => c.source === 'db' && !c.isBlocking()));
  t.deepEqual([...changes[0]!.updatedKVs], [['config/vpp/v2/interfaces/a', { name: 'a' }]]);
  t.deepEqual(
    new Map(changes[1]!.updatedKVs),
    new Map([
      ['config/vpp/v2/interfaces/a', { name: 'a', mtu: 9000 }],
      ['config/vpp/v2/interfaces/b', { name: 'b' }],
    ]),
  );
  t.deepEqual([...changes[2]!.updatedKVs], [['config/vpp/v2/interfaces/a', null]]);
});

test('D1: resync() pushes a fresh remote DBResync and watching goes on', async (t) => {
  const root = freshRoot();
  const loop = new RecordingLoop();
  const w = new DbWatcher(watcherOptions(loop, root));
  await w.start();
  t.teardown(() => w.close());
  await put(kubeStateEtcdKey('node', 'n1', root), { name: 'n1' });
  await loop.waitFor('node change', () => loop.of(KubeStateChange).length === 1);
  await w.resync();
  const resyncs = loop.of(DBResync);
  t.is(resyncs.length, 2);
  t.deepEqual(resyncs[1]!.kubeState.get('node')?.get('n1'), { name: 'n1' });
  await put(kubeStateEtcdKey('node', 'n2', root), { name: 'n2' });
  await loop.waitFor('second node change', () => loop.of(KubeStateChange).length === 2);
  t.is(loop.of(KubeStateChange)[1]!.key, 'n2');
  t.is(loop.of(KubeStateChange).length, 2);
});

test('D2: every value and delete seen is mirrored into the local DB with its revision', async (t) => {
  const root = freshRoot();
  const dir = await mkdtemp(join(tmpdir(), 'dbwatcher-mirror-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await put(kubeStateEtcdKey('pod', podKey('a', 'default'), root), { name: 'a', namespace: 'default' });
  await put(kubeStateEtcdKey('pod', podKey('b', 'default'), root), { name: 'b', namespace: 'default' });
  const loop = new RecordingLoop();
  const w = new DbWatcher(watcherOptions(loop, root, { localDbPath: dir }));
  await w.start();
  t.true(w.hasLocalMirror);
  const cfg = externalConfigEtcdKey('node-1', 'config/vpp/v2/interfaces/x', root);
  const r1 = await put(cfg, { name: 'x' });
  await client.delete().key(kubeStateEtcdKey('pod', podKey('a', 'default'), root)).exec();
  await loop.waitFor('2 changes', () => loop.events.length === 3);
  await w.mirrorFlushed();
  await w.close();
  const mirror = await LocalMirror.open(dir, silentLogger);
  if (!(mirror instanceof LocalMirror)) return t.fail(mirror.message);
  t.teardown(() => mirror.close());
  const entries = [...mirror.entries()];
  t.deepEqual(
    entries.map((e) => [e.key, e.value]),
    [
      [cfg, { name: 'x' }],
      [kubeStateEtcdKey('pod', podKey('b', 'default'), root), { name: 'b', namespace: 'default' }],
    ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
  );
  t.is(entries.find((e) => e.key === cfg)?.revision, Number(r1.header.revision));
  t.true(mirror.revision() > Number(r1.header.revision));
});

test('D1: invalid values (not a JSON object) are skipped, counted and reported; the watcher goes on', async (t) => {
  const root = freshRoot();
  await put(kubeStateEtcdKey('pod', podKey('bad', 'x'), root), 'not json {');
  await put(kubeStateEtcdKey('pod', podKey('good', 'x'), root), { name: 'good', namespace: 'x' });
  const reports: Array<{ state: string; code: string | undefined }> = [];
  const loop = new RecordingLoop();
  const w = new DbWatcher(
    watcherOptions(loop, root, {
      statusCheck: { reportStateChange: (_n, state, err) => reports.push({ state, code: (err as { code?: string } | null | undefined)?.code }) },
    }),
  );
  await w.start();
  t.teardown(() => w.close());
  const snapshot = loop.of(DBResync)[0]!;
  t.deepEqual([...snapshot.kubeState.get('pod')!.keys()], ['good/namespace/x']);
  await put(kubeStateEtcdKey('pod', podKey('good', 'x'), root), '[1,2]');
  await put(externalConfigEtcdKey('node-1', 'config/vpp/v2/interfaces/z', root), 'null');
  await put(kubeStateEtcdKey('pod', podKey('after', 'x'), root), { name: 'after', namespace: 'x' });
  await put(externalConfigEtcdKey('node-1', 'config/after', root), { name: 'after' });
  await loop.waitFor('the valid changes', () => loop.of(KubeStateChange).length === 1 && loop.of(ExternalConfigChange).length === 1);
  t.is(loop.of(KubeStateChange)[0]!.key, 'after/namespace/x');
  t.deepEqual([...loop.of(ExternalConfigChange)[0]!.updatedKVs.keys()], ['config/after']);
  t.is(w.stats.invalidValues, 3);
  t.is(reports.filter((r) => r.code === 'ERR_DBWATCHER_INVALID_VALUE').length, 3);
  t.is(w.state, 'remote');
});

test('D1 C20: the status stays error while a key holds an invalid value, from the snapshot or the watch, and turns ok once each is fixed or deleted', async (t) => {
  const root = freshRoot();
  const fromSnapshot = kubeStateEtcdKey('pod', podKey('s', 'x'), root);
  const fromWatch = kubeStateEtcdKey('pod', podKey('w', 'x'), root);
  await put(fromSnapshot, 'not json {');
  const states: string[] = [];
  const loop = new RecordingLoop();
  const w = new DbWatcher(watcherOptions(loop, root, { statusCheck: { reportStateChange: (_n, state) => void states.push(state) } }));
  await w.start();
  t.teardown(() => w.close());
  const last = () => states.at(-1);
  t.is(last(), 'error', 'the snapshot held an invalid value');
  await put(fromWatch, '[1]');
  await until('the watched invalid value', () => w.stats.invalidValues === 2);
  await put(fromSnapshot, { name: 's', namespace: 'x' });
  await loop.waitFor('the fixed value', () => loop.of(KubeStateChange).length === 1);
  t.is(last(), 'error', 'one key still holds an invalid value');
  await client.delete().key(fromWatch).exec();
  await until('ok once no key holds an invalid value', () => last() === 'ok');
  // A resync from a clean etcd is ok; from one with an invalid value, error.
  await w.resync();
  t.is(last(), 'ok');
  await put(fromWatch, 'still not json');
  await until('error again', () => last() === 'error');
  await w.resync();
  t.is(last(), 'error');
  t.is(w.state, 'remote');
});

test('D1 C2: queue full: refused pushes are retried later with backoff, in order, nothing lost', async (t) => {
  const root = freshRoot();
  await put(kubeStateEtcdKey('namespace', 'ns0', root), { name: 'ns0' });
  const loop = new RecordingLoop();
  loop.refuse = 3; // the startup DBResync is refused three times
  const w = new DbWatcher(watcherOptions(loop, root, { pushRetryDelay: 1 }));
  await w.start();
  t.teardown(() => w.close());
  await w.pushesDrained();
  t.is(loop.of(DBResync).length, 1);
  loop.refuse = 6;
  const n = 40;
  for (let i = 1; i <= n; i++) await put(kubeStateEtcdKey('namespace', `ns${i}`, root), { name: `ns${i}` });
  await loop.waitFor(`${n} changes`, () => loop.of(KubeStateChange).length === n);
  await w.pushesDrained();
  t.deepEqual(
    loop.of(KubeStateChange).map((e) => e.key),
    Array.from({ length: n }, (_, i) => `ns${i + 1}`),
  );
  t.is(loop.refused, 9);
  t.is(w.stats.pushRetries, 9);
  t.is(w.stats.pushBacklog, 0);
});

test('D5: changes racing resyncs are pushed once: never again after a snapshot that holds them', async (t) => {
  const root = freshRoot();
  const loop = new RecordingLoop();
  const w = new DbWatcher(watcherOptions(loop, root));
  await w.start();
  t.teardown(() => w.close());
  const keys = ['p0', 'p1', 'p2'];
  const writes = (async () => {
    for (let v = 1; v <= 30; v++) {
      const name = keys[v % keys.length]!;
      await put(kubeStateEtcdKey('pod', podKey(name, 'd5'), root), { name, namespace: 'd5', v });
    }
  })();
  for (let i = 0; i < 3; i++) await w.resync();
  await writes;
  const final = { 'kube/pod/p0/namespace/d5': 30, 'kube/pod/p1/namespace/d5': 28, 'kube/pod/p2/namespace/d5': 29 };
  await loop.waitFor('the last writes', () => {
    const state = replay(loop.events);
    return Object.entries(final).every(([k, v]) => (state.get(k) as { v?: number } | undefined)?.v === v);
  });
  // Every segment (a DBResync and the changes after it) moves each key strictly forward.
  const last = new Map<string, number>();
  for (const e of loop.events) {
    if (e instanceof DBResync) {
      last.clear();
      for (const [k, v] of e.kubeState.get('pod')!) last.set(k, (v as { v: number }).v);
    } else if (e instanceof KubeStateChange && e.resource === 'pod') {
      const v = (e.newValue as { v: number }).v;
      t.true(v > (last.get(e.key) ?? 0), `${e.key} v${v} pushed again`);
      last.set(e.key, v);
    }
  }
  t.deepEqual(Object.fromEntries(last), { 'p0/namespace/d5': 30, 'p1/namespace/d5': 28, 'p2/namespace/d5': 29 });
  t.is(loop.of(DBResync).length, 4);
});

test('D1 D2: values and keys lmdb cannot store (too deep, key too long) never crash the watcher; the rest of the snapshot is mirrored', async (t) => {
  const root = freshRoot();
  const dir = await mkdtemp(join(tmpdir(), 'dbwatcher-mirror-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  let deep: Record<string, unknown> = { leaf: 1 };
  for (let i = 0; i < 2000; i++) deep = { d: deep };
  const longKey = externalConfigEtcdKey('node-1', `config/custom/v1/${'k'.repeat(2100)}`, root);
  await put(kubeStateEtcdKey('pod', podKey('deep', 'x'), root), { name: 'deep', namespace: 'x', extra: deep });
  await put(longKey, { v: 1 });
  for (const name of ['a', 'b', 'c']) await put(kubeStateEtcdKey('pod', podKey(name, 'x'), root), { name, namespace: 'x' });
  const loop = new RecordingLoop();
  const w = new DbWatcher(watcherOptions(loop, root, { localDbPath: dir }));
  await w.start();
  const snapshot = loop.of(DBResync)[0]!;
  t.deepEqual([...snapshot.kubeState.get('pod')!.keys()].sort(), ['a/namespace/x', 'b/namespace/x', 'c/namespace/x'], 'the deep value is invalid');
  t.is(w.stats.invalidValues, 1);
  t.true(snapshot.externalConfig.has(longKey.slice(`${root}node-1/`.length)), 'a long key is still config');
  // The same through the watch: no exception escapes the etcd callbacks.
  await put(kubeStateEtcdKey('pod', podKey('deep2', 'x'), root), { name: 'deep2', namespace: 'x', extra: deep });
  await put(`${longKey}2`, { v: 2 });
  await put(kubeStateEtcdKey('pod', podKey('d', 'x'), root), { name: 'd', namespace: 'x' });
  await loop.waitFor('pod d', () => loop.of(KubeStateChange).some((e) => e.key === 'd/namespace/x'));
  await w.mirrorFlushed();
  // lmdb refuses the watch's long key asynchronously: its count may come after the flush.
  await until('both long keys counted', () => w.stats.mirrorWriteErrors >= 2);
  await w.close();
  t.is(w.stats.invalidValues, 2);
  t.is(w.stats.mirrorWriteErrors, 2, 'the long key of the snapshot and of the watch, counted where callers see them');
  const mirror = await LocalMirror.open(dir, silentLogger);
  if (!(mirror instanceof LocalMirror)) return t.fail(mirror.message);
  t.teardown(() => mirror.close());
  t.deepEqual(
    [...mirror.entries()].map((e) => e.key).filter((k) => k.includes('/pod/')).sort(),
    ['a', 'b', 'c', 'd'].map((n) => kubeStateEtcdKey('pod', podKey(n, 'x'), root)).sort(),
    'every storable entry is mirrored, before and after the ones lmdb refused',
  );
});

test('D1: a snapshot larger than one gRPC message (4 MiB) and than one page is read whole, at one revision', async (t) => {
  const root = freshRoot();
  const big = 'x'.repeat(1_000_000);
  for (let i = 0; i < 5; i++) await put(kubeStateEtcdKey('pod', podKey(`big${i}`, 'x'), root), { name: `big${i}`, namespace: 'x', note: big });
  const { written } = await loadIntoEtcd(client, generateCluster({ pods: 2100, services: 0, namespaces: 1, policies: 0 }), { root });
  const loop = new RecordingLoop();
  const w = new DbWatcher(watcherOptions(loop, root));
  await w.start();
  t.teardown(() => w.close());
  const snapshot = loop.of(DBResync)[0]!;
  t.is(snapshot.kubeState.get('pod')!.size, 2105);
  t.is(written, 2100 + 1 + 1, 'pods, the namespace and the node');
  t.is(w.state, 'remote');
  t.is(w.stats.failedResyncs, 0);
});

test('D1 D4: a snapshot page over the 64 MiB a response may carry is read again halved, with one etcd member listed and with two', async (t) => {
  const root = freshRoot();
  // 50 values of 1.4 MB (under etcd's 1.5 MiB request limit): 70 MB in one page of 1,000 keys.
  const note = 'x'.repeat(1_400_000);
  for (let i = 0; i < 50; i++) await put(kubeStateEtcdKey('pod', podKey(`huge${i}`, 'x'), root), { name: `huge${i}`, namespace: 'x', note });
  for (const hosts of [[etcd.url], [etcd.url, etcd.url]]) {
    const loop = new RecordingLoop();
    const w = new DbWatcher({ ...watcherOptions(loop, root), etcd: { hosts, dialTimeout: 1000, requestTimeout: 20_000 } });
    await w.start();
    try {
      t.is(w.state, 'remote', `${hosts.length} member(s) listed: ${w.stats.failedResyncs} failed resync(s)`);
      t.is(loop.of(DBResync)[0]?.kubeState.get('pod')?.size, 50);
    } finally {
      await w.close();
    }
  }
});

test('D4: with one etcd member unreachable the watcher fails over to the others: it resyncs, watches and stays remote', async (t) => {
  const root = freshRoot();
  const dead = await new Promise<number>((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
  await put(kubeStateEtcdKey('pod', podKey('a', 'x'), root), { name: 'a', namespace: 'x' });
  const loop = new RecordingLoop();
  const w = new DbWatcher({ ...watcherOptions(loop, root), etcd: { hosts: [`http://127.0.0.1:${dead}`, etcd.url], dialTimeout: 300, requestTimeout: 1000 } });
  await w.start();
  t.teardown(() => w.close());
  t.is(w.state, 'remote');
  t.is(loop.of(DBResync)[0]!.kubeState.get('pod')!.size, 1);
  // Probes every 100 ms for a while: none may take the dead member for etcd being lost.
  for (let i = 0; i < 10; i++) {
    await put(kubeStateEtcdKey('pod', podKey(`p${i}`, 'x'), root), { name: `p${i}`, namespace: 'x' });
    await new Promise((r) => setTimeout(r, 100));
  }
  await loop.waitFor('10 changes', () => loop.of(KubeStateChange).length === 10);
  t.is(w.stats.connectionLosses, 0);
  t.is(w.stats.failedResyncs, 0);
  t.is(w.state, 'remote');
});
