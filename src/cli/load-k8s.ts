#!/usr/bin/env node
// npm run load-k8s -- --etcd URL --pods N --services N --namespaces N --policies N
//   [--nodes N] [--node-label L] [--root R] [--batch N] [--clear]
// Writes a synthetic cluster into etcd in Contiv's layout, for demos and benchmarks.
import { Etcd3 } from 'etcd3';
import { parseArgs } from 'node:util';
import { DEFAULT_ROOT, externalConfigEtcdKey, kubeStatePrefix } from '../dbwatcher/k8s-layout.js';
import { checkClusterSize, generateCluster, loadIntoEtcd } from '../dbwatcher/k8s-loader.js';

function usageError(message: string): never {
  process.stderr.write(`load-k8s: ${message}\n`);
  process.exit(2);
}

function count(name: string, raw: string | undefined, dflt: number): number {
  if (raw === undefined) return dflt;
  // Digits only: Number('') is 0 and Number('1e3') 1000, neither what was meant.
  if (!/^\d{1,9}$/.test(raw)) usageError(`--${name} must be a non-negative integer; received ${JSON.stringify(raw)}`);
  return Number(raw);
}

const options = {
  etcd: { type: 'string', default: 'http://127.0.0.1:2379' },
  pods: { type: 'string' },
  services: { type: 'string' },
  namespaces: { type: 'string' },
  policies: { type: 'string' },
  nodes: { type: 'string' },
  'node-label': { type: 'string' },
  root: { type: 'string', default: DEFAULT_ROOT },
  batch: { type: 'string' },
  clear: { type: 'boolean', default: false },
  help: { type: 'boolean', default: false },
} as const;
let parsed;
try {
  parsed = parseArgs({ options });
} catch (err) {
  process.stderr.write(`load-k8s: ${(err as Error).message}\n`);
  process.exit(2);
}
const { values } = parsed;

if (values.help) {
  process.stdout.write(
    [
      'usage: load-k8s [--etcd URL] [--pods N] [--services N] [--namespaces N] [--policies N] [--nodes N] [--node-label L] [--root R] [--batch N] [--clear]',
      `defaults: --etcd http://127.0.0.1:2379 --pods 100 --services 10 --namespaces 3 --policies 5 --nodes 1 --root ${DEFAULT_ROOT} --batch 100`,
      '',
    ].join('\n'),
  );
  process.exit(0);
}

const size = {
  pods: count('pods', values.pods, 100),
  services: count('services', values.services, 10),
  namespaces: count('namespaces', values.namespaces, 3),
  policies: count('policies', values.policies, 5),
  nodes: count('nodes', values.nodes, 1),
};
try {
  checkClusterSize(size);
} catch (err) {
  usageError(`--${(err as Error).message}`);
}
// Everything is checked before the first etcd call: --clear must not run for a run that cannot load.
const batch = count('batch', values.batch, 100);
if (batch < 1 || batch > 128) usageError(`--batch must be an integer in 1..128 (etcd's default transaction limit); received ${batch}`);
const root = values.root ?? DEFAULT_ROOT;
if (!root.startsWith('/') || !root.endsWith('/')) usageError(`--root must start and end with "/"; received ${JSON.stringify(root)}`);

const client = new Etcd3({ hosts: values.etcd ?? 'http://127.0.0.1:2379', dialTimeout: 3000 });
try {
  if (values.clear) await client.delete().prefix(kubeStatePrefix(root)).exec();
  const started = performance.now();
  const { written, revision } = await loadIntoEtcd(client, generateCluster(size), { root, batch });
  let config = 0;
  const label = values['node-label'];
  if (label) {
    // A loopback interface per node as a sample of external configuration.
    await client
      .put(externalConfigEtcdKey(label, 'config/vpp/v2/interfaces/loop-ext', root))
      .value(JSON.stringify({ name: 'loop-ext', type: 'SOFTWARE_LOOPBACK', enabled: true, ipAddresses: ['192.0.2.1/32'], vrf: 0 }))
      .exec();
    config = 1;
  }
  const ms = performance.now() - started;
  process.stdout.write(
    `load-k8s: wrote ${written} Kubernetes objects${config ? ` and ${config} external-config key` : ''} under ${root} ` +
      `in ${ms.toFixed(0)} ms (${Math.round((written / ms) * 1000)} keys/s), revision ${revision}\n`,
  );
} catch (err) {
  process.stderr.write(`load-k8s: ${(err as Error).message}\n`);
  process.exitCode = 1;
} finally {
  client.close();
}
