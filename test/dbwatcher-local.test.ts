// D3: resync from the lmdb mirror written by an earlier run when etcd is down at start; the
// fallback when lmdb cannot be used. Real etcd and lmdb; the event loop is a recorder.
import test, { type ExecutionContext } from 'ava';
import { Etcd3 } from 'etcd3';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DBResync, KubeStateChange } from '../src/api/events.js';
import { DbWatcher, externalConfigEtcdKey, kubeStateEtcdKey, podKey, type DbWatcherLogger } from '../src/dbwatcher/index.js';
import { LocalMirror } from '../src/dbwatcher/local-mirror.js';
import { silentLogger } from '../src/dbwatcher/options.js';
import { startEtcd, type EtcdServer } from './helpers/etcd-server.js';
import { RecordingLoop, StateLog } from './helpers/dbwatcher-recorder.js';
import { replay } from './helpers/dbwatcher-state.js';

let etcd: EtcdServer;
test.before(async () => {
  etcd = await startEtcd();
});
test.after.always(async () => {
  await etcd?.stop();
});

/** A logger that lets a test wait for a message. */
function spyLogger(): DbWatcherLogger & { waitFor(text: string): Promise<void>; messages: string[] } {
  const messages: string[] = [];
  const waiters: Array<{ text: string; resolve: () => void }> = [];
  const log = (_obj: unknown, msg?: string): void => {
    messages.push(msg ?? '');
    for (const w of waiters) if ((msg ?? '').includes(w.text)) w.resolve();
  };
  return {
    messages,
    debug: log,
    info: log,
    warn: log,
    error: log,
    waitFor: (text) =>
      messages.some((m) => m.includes(text)) ? Promise.resolve() : new Promise((resolve) => waiters.push({ text, resolve })),
  };
}

test.serial('D3: etcd down at start: after delayLocalResync a DBResync with local: true comes from the mirror of an earlier run; then the remote one', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'dbwatcher-local-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const root = '/d3/';
  let client = new Etcd3({ hosts: etcd.url });
  t.teardown(() => client.close());
  const options = (loop: RecordingLoop, states?: StateLog) => ({
    eventLoop: loop,
    etcd: { hosts: etcd.url, dialTimeout: 300, requestTimeout: 1000 },
    root,
    nodeLabel: 'n1',
    localDbPath: dir,
    delayLocalResync: 100,
    remoteDBProbingInterval: 50,
    maxProbingInterval: 200,
    ...(states ? { onStateChange: states.onStateChange } : {}),
  });
  const podA = kubeStateEtcdKey('pod', podKey('a', 'x'), root);
  const podB = kubeStateEtcdKey('pod', podKey('b', 'x'), root);
  await client.put(podA).value('{"name":"a","namespace":"x"}').exec();
  await client.put(externalConfigEtcdKey('n1', 'config/vpp/v2/interfaces/i', root)).value('{"name":"i"}').exec();

  // Run 1: etcd up; the mirror follows the snapshot and the changes.
  const loop1 = new RecordingLoop();
  const w1 = new DbWatcher(options(loop1));
  await w1.start();
  await client.put(podB).value('{"name":"b","namespace":"x"}').exec();
  await client.delete().key(podA).exec();
  await loop1.waitFor('2 changes', () => loop1.of(KubeStateChange).length === 2);
  const expected = replay(loop1.events);
  await w1.close();

  // Run 2: etcd down.
  await etcd.halt();
  const loop2 = new RecordingLoop();
  const states = new StateLog();
  const w2 = new DbWatcher(options(loop2, states));
  t.teardown(() => w2.close());
  await w2.start();
  await loop2.waitFor('local DBResync', () => loop2.events.length === 1);
  const local = loop2.of(DBResync)[0]!;
  t.true(local.local);
  t.deepEqual(replay([local]), expected);
  t.is(w2.state, 'local');
  t.is(w2.stats.localResyncs, 1);

  // etcd comes back: a remote DBResync follows, then changes flow again.
  const mark = states.mark();
  await etcd.restart();
  await states.waitFor('remote', mark);
  client.close();
  client = new Etcd3({ hosts: etcd.url });
  await client.put(podA).value('{"name":"a","namespace":"x","ipAddress":"10.0.0.9"}').exec();
  await loop2.waitFor('change after reconnect', () => loop2.of(KubeStateChange).length === 1);
  const resyncs = loop2.of(DBResync);
  t.deepEqual(resyncs.map((r) => r.local), [true, false]);
  t.deepEqual(replay([resyncs[1]!]), expected);
  t.true(w2.stats.failedResyncs >= 1);
});

/** With etcd halted, starts a watcher on the mirror in `dir` and waits until it says its local DB is empty for it. */
async function waitingWatcher(t: ExecutionContext, dir: string, root?: string): Promise<{ loop: RecordingLoop; w: DbWatcher }> {
  await etcd.halt();
  t.teardown(() => etcd.restart());
  const loop = new RecordingLoop();
  const logger = spyLogger();
  const w = new DbWatcher({
    eventLoop: loop,
    etcd: { hosts: etcd.url, dialTimeout: 300, requestTimeout: 1000 },
    ...(root === undefined ? {} : { root }),
    localDbPath: dir,
    delayLocalResync: 20,
    remoteDBProbingInterval: 1000,
    logger,
  });
  t.teardown(() => w.close());
  await w.start();
  await logger.waitFor('local DB is empty');
  return { loop, w };
}

test.serial('D3: etcd down and the local DB empty: no DBResync is pushed, the watcher waits for etcd', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'dbwatcher-empty-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const { loop, w } = await waitingWatcher(t, dir);
  t.is(loop.events.length, 0);
  t.is(w.state, 'connecting');
  t.true(w.hasLocalMirror);
});

test.serial('D3: etcd down and the local DB holding only another root\'s keys (an earlier run\'s): no DBResync is pushed, the watcher waits', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'dbwatcher-other-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const earlier = await LocalMirror.open(dir, silentLogger);
  if (!(earlier instanceof LocalMirror)) return t.fail(earlier.message);
  earlier.put(kubeStateEtcdKey('pod', podKey('a', 'x'), '/other/'), { name: 'a', namespace: 'x' }, 7);
  await earlier.flushed();
  await earlier.close();
  const { loop, w } = await waitingWatcher(t, dir, '/mine/');
  t.is(loop.events.length, 0, 'an empty DBResync would wipe the configuration');
  t.is(w.state, 'connecting');
});

test.serial('a local DB that cannot be opened disables the mirror with a warning; the watcher still works', async (t) => {
  const loop = new RecordingLoop();
  const logger = spyLogger();
  const w = new DbWatcher({
    eventLoop: loop,
    etcd: { hosts: etcd.url, dialTimeout: 500 },
    localDbPath: '/dev/null/not-a-dir',
    logger,
  });
  t.teardown(() => w.close());
  await w.start();
  t.false(w.hasLocalMirror);
  t.true(logger.messages.includes('local DB mirror disabled'));
  t.is(w.state, 'remote');
  t.is(loop.of(DBResync).length, 1);
});

test('D2 D3: lmdb that fails to load gives LocalDbUnavailableError (ERR_LOCAL_DB_UNAVAILABLE) and a warning, not a crash', async (t) => {
  const logger = spyLogger();
  const result = await LocalMirror.open('/tmp/unused', logger, () => Promise.reject(new Error('no prebuilt binary')));
  t.false(result instanceof LocalMirror);
  t.like(result, { code: 'ERR_LOCAL_DB_UNAVAILABLE', name: 'LocalDbUnavailableError' });
  t.regex((result as Error).message, /no prebuilt binary/);
  t.deepEqual(logger.messages, ['local DB mirror disabled']);
  t.truthy(silentLogger);
});

test('D2: writes asked for right after a snapshot replaced the mirror land after it, in order (none erased by its clear)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'dbwatcher-order-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const open = async (): Promise<LocalMirror> => {
    const m = await LocalMirror.open(dir, silentLogger);
    if (!(m instanceof LocalMirror)) throw m;
    return m;
  };
  const m = await open();
  m.put('gone', { v: 0 }, 3);
  m.replaceAll(new Map([['a', { v: 1 }], ['gone', { v: 2 }]]), new Map([['a', 4], ['gone', 4]]), 5);
  m.put('b', { v: 3 }, 6);
  m.delete('gone', 7);
  m.put('a', { v: 4 }, 8);
  await m.close();
  const again = await open();
  t.teardown(() => again.close());
  t.deepEqual([...again.entries()].map((e) => [e.key, e.value, e.revision]), [['a', { v: 4 }, 8], ['b', { v: 3 }, 6]]);
  t.is(again.revision(), 8);
  t.is(again.writeErrors, 0);
});

test('D2: a snapshot entry lmdb cannot store is skipped and counted; the rest of the snapshot is written', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'dbwatcher-skip-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const logger = spyLogger();
  const m = await LocalMirror.open(dir, logger);
  if (!(m instanceof LocalMirror)) return t.fail(m.message);
  m.replaceAll(new Map([['a', { v: 1 }], ['k'.repeat(3000), { v: 2 }], ['z', { v: 3 }]]), new Map(), 9);
  m.put('y'.repeat(3000), { v: 4 }, 10); // refused synchronously by lmdb: counted, not thrown
  m.put('b', { v: 5 }, 11);
  await m.flushed();
  t.is(m.writeErrors, 2);
  t.deepEqual([...m.entries()].map((e) => e.key), ['a', 'b', 'z']);
  t.true(logger.messages.some((msg) => msg.includes('1 entry of the snapshot could not be stored')));
  await m.close();
});

test('D2 D4: close() while start() is still opening the mirror leaves no lmdb handle open', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'dbwatcher-close-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const w = new DbWatcher({ eventLoop: new RecordingLoop(), etcd: { hosts: etcd.url }, root: '/close-start/', nodeLabel: 'n1', localDbPath: dir });
  const started = w.start();
  await w.close();
  await started;
  t.is(w.state, 'closed');
  // lmdb keeps one environment per path in a process: a handle left open would be reused here.
  const m = await LocalMirror.open(dir, silentLogger);
  if (!(m instanceof LocalMirror)) return t.fail(m.message);
  await m.close();
  const { readdir } = await import('node:fs/promises');
  const fds = await readdir('/proc/self/fd').catch(() => null);
  if (fds === null) return t.pass('no /proc here');
  const { readlink } = await import('node:fs/promises');
  const open = await Promise.all(fds.map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
  t.deepEqual(open.filter((p) => p.startsWith(dir)), [], 'no file of the mirror is still open');
});

test.serial('D4: an etcd that stalls while the watches are being made holds neither start() nor close()', async (t) => {
  const root = '/stall/';
  const client = new Etcd3({ hosts: etcd.url });
  await client.put(kubeStateEtcdKey('pod', podKey('a', 'x'), root)).value('{"name":"a","namespace":"x"}').exec();
  client.close();
  const loop = new RecordingLoop();
  // The snapshot was read and pushed: etcd stops answering before the watches are up.
  loop.onPush = () => etcd.pause();
  t.teardown(() => etcd.resume());
  const w = new DbWatcher({
    eventLoop: loop,
    etcd: { hosts: etcd.url, dialTimeout: 300, requestTimeout: 500 },
    root,
    nodeLabel: 'n1',
    delayLocalResync: 60_000,
    remoteDBProbingInterval: 100,
  });
  const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
    Promise.race([p, new Promise<T>((_r, reject) => setTimeout(() => reject(new Error(`${what} still pending after ${ms} ms`)), ms))]);
  await within(w.start(), 10_000, 'start()');
  t.is(loop.of(DBResync).length, 1);
  t.not(w.state, 'remote', 'no watch, so not remote');
  t.true(w.stats.failedResyncs >= 1);
  await within(w.close(), 10_000, 'close()');
  t.is(w.state, 'closed');
  etcd.resume();
});
