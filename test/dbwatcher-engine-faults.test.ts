// The whole engine on a real etcd through its faults: etcd lost mid-run and back, then the engine
// restarted while etcd is down (local mirror), then etcd back again. After each convergence the
// pods' interfaces on the dataplane are exactly the pods in etcd: no change that reached etcd is lost.
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import type { DbWatcherState } from '../src/dbwatcher/index.js';
import { DbWatcher, generateCluster, kubeStateEtcdKey, loadIntoEtcd, podKey } from '../src/dbwatcher/index.js';
import { Engine } from '../src/engine/index.js';
import { builtinHandlers, podInterfaceName } from '../src/handlers/index.js';
import { until } from './helpers/dbwatcher-recorder.js';
import { startEtcd } from './helpers/etcd-server.js';

const ROOT = '/vnf-agent/';
const POD_PREFIX = `${ROOT}contiv-ksr/k8s/pod/`;
const IF_PREFIX = 'config/vpp/v2/interfaces/';

/** The pod interfaces etcd asks for: one per pod key in etcd. */
async function podsInEtcd(client: Etcd3): Promise<string[]> {
  const all = await client.getAll().prefix(POD_PREFIX).json();
  return Object.values(all)
    .map((v) => {
      const p = v as { name: string; namespace: string };
      return `${IF_PREFIX}${podInterfaceName(`${p.namespace}/${p.name}`)}`;
    })
    .sort();
}

/** The pod interfaces (TAPs, named `tap-…` by the pod handler) the dataplane holds. */
async function podsOnDataplane(engine: Engine): Promise<string[]> {
  const sb = await engine.scheduler.dump(`${IF_PREFIX}tap-`, 'sb');
  return [...sb.keys()].sort();
}

interface Node {
  readonly engine: Engine;
  readonly watcher: DbWatcher;
  readonly states: DbWatcherState[];
  readonly health: string[];
  close(): Promise<void>;
}

async function startNode(etcdUrl: string, localDbPath: string, delayLocalResync: number): Promise<Node> {
  const engine = await Engine.start({ handlers: builtinHandlers(), config: { enableRetry: true } });
  const states: DbWatcherState[] = [];
  const health: string[] = [];
  const watcher = new DbWatcher({
    eventLoop: engine.controller,
    etcd: { hosts: etcdUrl, dialTimeout: 500, requestTimeout: 2000 },
    localDbPath,
    nodeLabel: 'n1',
    remoteDBProbingInterval: 50,
    delayLocalResync,
    onStateChange: (s) => states.push(s),
    statusCheck: { reportStateChange: (_name, state) => health.push(state) },
  });
  await watcher.start();
  return {
    engine,
    watcher,
    states,
    health,
    close: async () => {
      await watcher.close();
      await engine.close();
    },
  };
}

/** Polls until the node's dataplane holds exactly the pods `want` names. */
const converged = (node: Node, what: string, want: readonly string[], also: () => boolean = () => true): Promise<void> =>
  until(what, async () => also() && (await podsOnDataplane(node.engine)).join() === want.join(), 60_000);

const putPod = (c: Etcd3, name: string, namespace: string) =>
  c.put(kubeStateEtcdKey('pod', podKey(name, namespace), ROOT)).value(JSON.stringify({ name, namespace, labels: { app: 'faults' } })).exec();

test.serial('D3 D4: the engine converges to etcd after etcd is lost mid-run, and after a restart while etcd is down (local mirror)', async (t) => {
  const etcd = await startEtcd();
  t.teardown(() => etcd.stop());
  const dir = await mkdtemp(join(tmpdir(), 'engine-faults-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const localDb = join(dir, 'mirror');
  let client = new Etcd3({ hosts: etcd.url });
  t.teardown(() => client.close());
  await loadIntoEtcd(client, generateCluster({ pods: 8, services: 2, namespaces: 2, policies: 1 }));

  // 1. Startup from etcd.
  let node = await startNode(etcd.url, localDb, 60_000);
  let closed = false;
  t.teardown(async () => {
    if (!closed) await node.close();
  });
  let want = await podsInEtcd(client);
  t.is(want.length, 8);
  await converged(node, 'startup resync', want);

  // 2. etcd lost mid-run: the engine keeps serving (health error), then etcd is back with changes
  // written right after its restart, racing the watcher's reconnect resync.
  await etcd.halt();
  await until('disconnected', () => node.states.includes('disconnected'));
  t.is(node.health.at(-1), 'error');
  await etcd.restart();
  client.close();
  client = new Etcd3({ hosts: etcd.url });
  await client.delete().key(kubeStateEtcdKey('pod', podKey('pod-0', 'ns-0'), ROOT)).exec();
  await putPod(client, 'back-1', 'ns-0');
  await putPod(client, 'back-2', 'ns-1');
  want = await podsInEtcd(client);
  t.is(want.length, 9);
  await converged(node, 'reconnect resync and changes', want, () => node.watcher.state === 'remote');
  t.is(node.health.at(-1), 'ok');

  // 3. The engine restarts while etcd is down: the local mirror resyncs it to what etcd held.
  await node.close();
  closed = true;
  await etcd.halt();
  node = await startNode(etcd.url, localDb, 200);
  closed = false;
  await converged(node, 'local resync from the mirror', want);
  t.true(node.states.includes('local'), `states: ${node.states.join(' ')}`);

  // 4. etcd back: a fresh remote resync, then new changes flow; the dataplane equals etcd exactly.
  await etcd.restart();
  client.close();
  client = new Etcd3({ hosts: etcd.url });
  await until('remote again', () => node.watcher.state === 'remote', 60_000);
  await putPod(client, 'after-restart', 'ns-1');
  await client.delete().key(kubeStateEtcdKey('pod', podKey('back-1', 'ns-0'), ROOT)).exec();
  want = await podsInEtcd(client);
  await converged(node, 'changes after the local resync', want);
  t.deepEqual(await podsOnDataplane(node.engine), want);
});
