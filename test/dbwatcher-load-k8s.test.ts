// load-k8s: the synthetic cluster in Contiv's layout, written by the real CLI into a real etcd and
// read back by the DB watcher (D1) into one DBResync.
import test from 'ava';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DBResync } from '../src/api/events.js';
import { DbWatcher, generateCluster, parseKubeKey, type PodValue } from '../src/dbwatcher/index.js';
import { startEtcd } from './helpers/etcd-server.js';
import { RecordingLoop } from './helpers/dbwatcher-recorder.js';

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'load-k8s.js');

test('D1: generateCluster is deterministic and consistent (pods in their service namespace, endpoints list them)', (t) => {
  const size = { pods: 7, services: 3, namespaces: 2, policies: 2, nodes: 2 };
  const a = [...generateCluster(size)];
  t.deepEqual(a, [...generateCluster(size)]);
  const count = (r: string) => a.filter((o) => o.resource === r).length;
  t.deepEqual([count('pod'), count('service'), count('endpoints'), count('namespace'), count('policy'), count('node')], [7, 3, 3, 2, 2, 2]);
  for (const o of a.filter((x) => x.resource === 'pod')) {
    const pod = o.value as PodValue;
    t.deepEqual(parseKubeKey(o.key), { name: pod.name, namespace: pod.namespace });
  }
  const eps = a.find((o) => o.resource === 'endpoints' && o.key === 'svc-1/namespace/ns-1')!.value as unknown as {
    endpointSubsets: Array<{ addresses: Array<{ targetRef: { name: string } }> }>;
  };
  t.deepEqual(eps.endpointSubsets[0]!.addresses.map((x) => x.targetRef.name), ['pod-1', 'pod-4']);
});

test('D1: the load-k8s CLI writes the cluster in batches; the watcher reads it back in one DBResync', async (t) => {
  const etcd = await startEtcd();
  t.teardown(() => etcd.stop());
  const run = promisify(execFile);
  const args = ['--etcd', etcd.url, '--pods', '250', '--services', '20', '--namespaces', '4', '--policies', '5', '--node-label', 'n1', '--batch', '64'];
  const { stdout } = await run(process.execPath, [cli, ...args]);
  t.regex(stdout, /wrote 300 Kubernetes objects and 1 external-config key/);
  const loop = new RecordingLoop();
  const w = new DbWatcher({ eventLoop: loop, etcd: { hosts: etcd.url }, nodeLabel: 'n1' });
  t.teardown(() => w.close());
  await w.start();
  const ev = loop.of(DBResync)[0]!;
  const sizes = Object.fromEntries([...ev.kubeState].map(([r, m]) => [r, m.size]));
  t.deepEqual(sizes, { pod: 250, namespace: 4, service: 20, endpoints: 20, policy: 5, node: 1 });
  t.deepEqual([...ev.externalConfig.keys()], ['config/vpp/v2/interfaces/loop-ext']);
  const bad = await run(process.execPath, [cli, '--pods=-3']).catch((err: { code: number; stderr: string }) => err);
  t.like(bad, { code: 2 });
  t.regex((bad as { stderr: string }).stderr, /--pods must be a non-negative integer; received "-3"/);
  // Bad arguments are refused before anything is written or cleared: the cluster is still there.
  const refused = [
    [['--clear', '--batch', '0'], /--batch must be an integer in 1\.\.128/],
    [['--clear', '--batch', '500'], /--batch must be an integer in 1\.\.128/],
    [['--clear', '--pods', ''], /--pods must be a non-negative integer; received ""/],
    [['--clear', '--pods', '1e3'], /--pods must be a non-negative integer; received "1e3"/],
    [['--clear', '--pods', '70000'], /--pods must be an integer in 0\.\.65533; received 70000/],
    [['--clear', '--nodes', '0'], /--nodes must be an integer in 1\.\.254; received 0/],
  ] as const;
  for (const [extra, message] of refused) {
    const r = await run(process.execPath, [cli, '--etcd', etcd.url, ...extra]).catch((err: { code: number; stderr: string }) => err);
    t.like(r, { code: 2 }, extra.join(' '));
    t.regex((r as { stderr: string }).stderr, message);
  }
  const again = new RecordingLoop();
  const w2 = new DbWatcher({ eventLoop: again, etcd: { hosts: etcd.url }, nodeLabel: 'n1' });
  t.teardown(() => w2.close());
  await w2.start();
  t.is(again.of(DBResync)[0]!.kubeState.get('pod')?.size, 250);
});

test('D1: generateCluster refuses sizes its address plan cannot hold (no duplicate or broadcast addresses)', (t) => {
  const base = { pods: 1, services: 1, namespaces: 1, policies: 0 };
  t.throws(() => generateCluster({ ...base, pods: 65_534 }), { instanceOf: RangeError, message: /pods must be an integer in 0\.\.65533/ });
  t.throws(() => generateCluster({ ...base, services: 65_526 }), { instanceOf: RangeError });
  t.throws(() => generateCluster({ ...base, nodes: 255 }), { instanceOf: RangeError });
  t.throws(() => generateCluster({ ...base, pods: 1.5 }), { instanceOf: RangeError });
  const pods = [...generateCluster({ ...base, pods: 65_533 })].filter((o) => o.resource === 'pod').map((o) => (o.value as PodValue).ipAddress);
  t.is(new Set(pods).size, 65_533);
  t.is(pods.at(-1), '10.1.255.254');
});
