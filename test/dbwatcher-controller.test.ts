// The DB watcher feeding the real Controller with the built-in handlers, the real Scheduler,
// VppConnector and native-sim, from a real etcd: D1 end to end, from a key in etcd to the dataplane.
import test from 'ava';
import { Etcd3 } from 'etcd3';
import { startNativeSim } from '../native-sim/index.js';
import { VppConnector } from '../src/connector/index.js';
import { Controller, type ProcessedEventInfo } from '../src/controller/index.js';
import {
  DbWatcher,
  externalConfigEtcdKey,
  generateCluster,
  kubeStateEtcdKey,
  loadIntoEtcd,
  podKey,
} from '../src/dbwatcher/index.js';
import { builtinHandlers, podInterfaceName } from '../src/handlers/index.js';
import { Scheduler } from '../src/scheduler/index.js';
import { startEtcd } from './helpers/etcd-server.js';

test('D1: etcd -> DbWatcher -> Controller -> built-in handlers -> scheduler -> native-sim, resync then changes', async (t) => {
  const etcd = await startEtcd();
  t.teardown(() => etcd.stop());
  const client = new Etcd3({ hosts: etcd.url });
  t.teardown(() => client.close());
  await loadIntoEtcd(client, generateCluster({ pods: 6, services: 2, namespaces: 2, policies: 1 }));
  await client
    .put(externalConfigEtcdKey('n1', 'config/vpp/v2/interfaces/loop-ext'))
    .value(JSON.stringify({ name: 'loop-ext', type: 'SOFTWARE_LOOPBACK', enabled: true, ipAddresses: ['192.0.2.1/32'], vrf: 0 }))
    .exec();

  const sim = await startNativeSim({ seed: 1 });
  const connector = await VppConnector.connect(sim);
  const scheduler = new Scheduler({ connector });
  const controller = new Controller({ handlers: builtinHandlers(), scheduler, config: { enableRetry: false } });
  const processed: ProcessedEventInfo[] = [];
  const waiters: Array<{ check: () => boolean; resolve: () => void }> = [];
  controller.onEvent((info) => {
    processed.push(info);
    for (const w of waiters.splice(0)) if (w.check()) w.resolve();
    else waiters.push(w);
  });
  const processedWhere = (check: () => boolean) =>
    check() ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ check, resolve }));
  await controller.start();
  const watcher = new DbWatcher({ eventLoop: controller, etcd: { hosts: etcd.url }, nodeLabel: 'n1', remoteDBProbingInterval: 200 });
  t.teardown(async () => {
    await watcher.close();
    await controller.close();
    await scheduler.close();
    await connector.close();
    await sim.close();
  });
  await watcher.start();
  await processedWhere(() => processed.some((p) => p.name === 'Database Resync'));
  // The interfaces are asserted on the dataplane ('sb'); other kinds of values depend on parts of
  // native-sim this test is not about, so the commit result as a whole is not asserted.
  let sb = await scheduler.dump('config/vpp/v2/interfaces/', 'sb');
  const podIf = (name: string, ns: string) => `config/vpp/v2/interfaces/${podInterfaceName(`${ns}/${name}`)}`;
  for (let i = 0; i < 6; i++) t.true(sb.has(podIf(`pod-${i}`, `ns-${i % 2}`)), `pod-${i} interface`);
  t.true(sb.has('config/vpp/v2/interfaces/loop-ext'));

  // A new pod and a deleted one, through etcd.
  await client.put(kubeStateEtcdKey('pod', podKey('late', 'ns-0'))).value(JSON.stringify({ name: 'late', namespace: 'ns-0', labels: { app: 'app-0' } })).exec();
  await client.delete().key(kubeStateEtcdKey('pod', podKey('pod-1', 'ns-1'))).exec();
  await processedWhere(() => processed.filter((p) => p.name === 'Kubernetes State Change').length === 2);
  sb = await scheduler.dump('config/vpp/v2/interfaces/', 'sb');
  t.true(sb.has(podIf('late', 'ns-0')));
  t.false(sb.has(podIf('pod-1', 'ns-1')));
  t.is(watcher.state, 'remote');
});
