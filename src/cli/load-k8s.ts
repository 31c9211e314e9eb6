// npm run load-k8s -- --etcd URL --pods N --services N --namespaces N --policies N
//   [--nodes N] [--node-label L] [--root R] [--batch N] [--clear]
// Writes a synthetic cluster into etcd in Contiv's layout, for demos and benchmarks.
import { Etcd3 } from 'etcd3';
import { parseArgs } from 'node:util';
import { DEFAULT_ROOT, externalConfigEtcdKey, kubeStatePrefix } from '../dbwatcher/k8s-layout.js';
import { generateCluster, loadIntoEtcd } from '../dbwatcher/k8s-loader.js';

function count(name: string, raw: string | undefined, dflt: number): number {
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    process.stderr.write(`load-k8s: --${name} must be a non-negative integer; received ${JSON.stringify(raw)}\n`);
    process.exit(2);
  }
  return n;
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
    'usage: load-k8s --etcd URL --pods N --services N --namespaces N --policies N [--nodes N] [--node-label L] [--root R] [--batch N] [--clear]\n',
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
const batch = count('batch', values.batch, 100);
const root = values.root ?? DEFAULT_ROOT;
if (!root.startsWith('/') || !root.endsWith('/')) {
  process.stderr.write(`load-k8s: --root must start and end with "/"; received ${JSON.stringify(root)}\n`);
  process.exit(2);
}

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
