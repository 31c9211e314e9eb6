// D4 against a real etcd that is stopped and restarted mid-run. The event loop is a recorder.
import test from 'ava';
import { Etcd3 } from 'etcd3';
import { DBResync, KubeStateChange } from '../src/api/events.js';
import { DbWatcher, externalConfigEtcdKey, kubeStateEtcdKey, podKey } from '../src/dbwatcher/index.js';
import { startEtcd } from './helpers/etcd-server.js';
import { RecordingLoop, StateLog } from './helpers/dbwatcher-recorder.js';
import { replay } from './helpers/dbwatcher-state.js';

test('D4: a restarted etcd is probed, resynced from (fresh remote DBResync) and watched again; no change lost', async (t) => {
  const etcd = await startEtcd();
  t.teardown(() => etcd.stop());
  const root = '/vnf-agent/';
  const writer = () => new Etcd3({ hosts: etcd.url });
  let client = writer();
  t.teardown(() => client.close());
  const put = (c: Etcd3, name: string) =>
    c.put(kubeStateEtcdKey('pod', podKey(name, 'default'), root)).value(JSON.stringify({ name, namespace: 'default' })).exec();

  const loop = new RecordingLoop();
  const states = new StateLog();
  const health: string[] = [];
  const w = new DbWatcher({
    eventLoop: loop,
    etcd: { hosts: etcd.url, dialTimeout: 500, requestTimeout: 2000 },
    nodeLabel: 'n1',
    remoteDBProbingInterval: 50,
    delayLocalResync: 60_000,
    onStateChange: states.onStateChange,
    statusCheck: { reportStateChange: (_name, state) => health.push(state) },
  });
  t.teardown(() => w.close());
  await put(client, 'a');
  await w.start();
  t.is(w.state, 'remote');
  await put(client, 'b');
  await loop.waitFor('pod b', () => loop.of(KubeStateChange).length === 1);

  const mark = states.mark();
  await etcd.halt();
  await states.waitFor('disconnected', mark);
  t.is(w.stats.connectionLosses, 1);
  t.is(health.at(-1), 'error');

  await etcd.restart();
  client.close();
  client = writer();
  // Written while the watcher may or may not have reconnected yet: it must show up exactly once,
  // either in the reconnect snapshot or as a change after it.
  await client.delete().key(kubeStateEtcdKey('pod', podKey('a', 'default'), root)).exec();
  await put(client, 'c');
  await client.put(externalConfigEtcdKey('n1', 'config/vpp/v2/interfaces/x', root)).value('{"name":"x"}').exec();
  await states.waitFor('remote', mark);
  await put(client, 'd');
  // Pods and external config come on different watch streams: wait for both.
  await loop.waitFor('pod d and interface x', () => {
    const state = replay(loop.events);
    return state.has('kube/pod/d/namespace/default') && state.has('config/vpp/v2/interfaces/x');
  });

  const resyncs = loop.of(DBResync);
  t.true(resyncs.length >= 2);
  t.true(resyncs.every((r) => !r.local));
  t.is(health.at(-1), 'ok');
  t.deepEqual(
    [...replay(loop.events).keys()].sort(),
    ['config/vpp/v2/interfaces/x', 'kube/pod/b/namespace/default', 'kube/pod/c/namespace/default', 'kube/pod/d/namespace/default'],
  );
  // No change was pushed twice: every key's changes after the last resync are strictly new.
  const afterLast = loop.events.slice(loop.events.lastIndexOf(resyncs.at(-1)!) + 1);
  const keys = afterLast.filter((e): e is KubeStateChange => e instanceof KubeStateChange).map((e) => e.key);
  t.is(new Set(keys).size, keys.length);
});
