import type { Etcd3 } from 'etcd3';
import {
  DEFAULT_ROOT,
  KubeResource,
  endpointsKey,
  kubeStateEtcdKey,
  namespaceKey,
  nodeKey,
  podKey,
  policyKey,
  serviceKey,
  type EndpointsValue,
  type NamespaceValue,
  type NodeValue,
  type PodValue,
  type PolicyValue,
  type ServiceValue,
} from './k8s-layout.js';

/** The size of a synthetic cluster (see `generateCluster`). */
export interface SyntheticClusterSize {
  readonly pods: number;
  readonly services: number;
  readonly namespaces: number;
  readonly policies: number;
  /** Nodes the pods are spread over. @default 1 */
  readonly nodes?: number;
}

/** One object of the cluster: its resource keyword, key within the resource, and value. */
export interface KubeObject {
  readonly resource: string;
  readonly key: string;
  readonly value: PodValue | ServiceValue | EndpointsValue | NamespaceValue | PolicyValue | NodeValue;
}

/**
 * The largest sizes the address plan holds without duplicates: pods in 10.1.0.2 up (10.1.0.0/16),
 * services in 10.96.0.10 up (10.96.0.0/16), nodes in 192.168.16.1 up with pod CIDRs 10.1.<n>.0/24.
 */
export const CLUSTER_LIMITS = Object.freeze({ pods: 65_533, services: 65_525, namespaces: 1_000_000, policies: 1_000_000, nodes: 254 });

/** Throws a RangeError when a size is not an integer the address plan can hold (nodes from 1). */
export function checkClusterSize(size: SyntheticClusterSize): void {
  for (const name of ['pods', 'services', 'namespaces', 'policies', 'nodes'] as const) {
    const v = size[name] ?? 1;
    const min = name === 'nodes' ? 1 : 0;
    if (!Number.isInteger(v) || v < min || v > CLUSTER_LIMITS[name]) {
      throw new RangeError(`${name} must be an integer in ${min}..${CLUSTER_LIMITS[name]}; received ${String(v)}`);
    }
  }
}

function ip(base: readonly [number, number], i: number): string {
  return `${base[0]}.${base[1]}.${(i >> 8) & 255}.${i & 255}`;
}

/**
 * A deterministic synthetic cluster in Contiv's layout: namespaces `ns-<k>`, services `svc-<j>`
 * selecting `app: app-<j>` with endpoints listing their pods, pods `pod-<i>` (service `i % services`,
 * in that service's namespace), network policies `policy-<p>` allowing app-(p+1) into app-p, nodes.
 */
export function generateCluster(size: SyntheticClusterSize): Generator<KubeObject> {
  // Checked now, not at the first object (a generator's body runs only when iterated).
  checkClusterSize(size);
  return objectsOf(size);
}

function* objectsOf(size: SyntheticClusterSize): Generator<KubeObject> {
  const namespaces = Math.max(1, size.namespaces);
  const nodes = size.nodes ?? 1;
  const nsOf = (svc: number): string => `ns-${svc % namespaces}`;
  const hostIp = (i: number): string => `192.168.16.${1 + (i % nodes)}`;
  for (let n = 0; n < nodes; n++) {
    const value: NodeValue = { name: `node-${n + 1}`, podCidr: `10.1.${n + 1}.0/24`, addresses: [{ type: 'NodeInternalIP', address: hostIp(n) }] };
    yield { resource: KubeResource.Node, key: nodeKey(value.name), value };
  }
  for (let k = 0; k < size.namespaces; k++) {
    const value: NamespaceValue = { name: `ns-${k}`, labels: { name: `ns-${k}` } };
    yield { resource: KubeResource.Namespace, key: namespaceKey(value.name), value };
  }
  const podNamespace = (i: number): string => (size.services > 0 ? nsOf(i % size.services) : `ns-${i % namespaces}`);
  for (let i = 0; i < size.pods; i++) {
    const app = size.services > 0 ? `app-${i % size.services}` : `app-${i}`;
    const value: PodValue = {
      name: `pod-${i}`,
      namespace: podNamespace(i),
      labels: { app },
      ipAddress: ip([10, 1], i + 2),
      hostIpAddress: hostIp(i),
      container: [{ name: 'main', port: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] }],
    };
    yield { resource: KubeResource.Pod, key: podKey(value.name, value.namespace), value };
  }
  for (let j = 0; j < size.services; j++) {
    const namespace = nsOf(j);
    const name = `svc-${j}`;
    const svc: ServiceValue = {
      name,
      namespace,
      selector: { app: `app-${j}` },
      clusterIp: ip([10, 96], j + 10),
      serviceType: 'ClusterIP',
      port: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: { type: 'NUMBER', intVal: 8080 } }],
    };
    yield { resource: KubeResource.Service, key: serviceKey(name, namespace), value: svc };
    const addresses = [];
    for (let i = j; i < size.pods; i += size.services) {
      addresses.push({ ip: ip([10, 1], i + 2), nodeName: `node-${1 + (i % nodes)}`, targetRef: { kind: 'Pod', namespace, name: `pod-${i}` } });
    }
    const eps: EndpointsValue = { name, namespace, endpointSubsets: [{ addresses, ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] }] };
    yield { resource: KubeResource.Endpoints, key: endpointsKey(name, namespace), value: eps };
  }
  for (let p = 0; p < size.policies; p++) {
    const services = Math.max(1, size.services);
    const namespace = nsOf(p % services);
    const value: PolicyValue = {
      name: `policy-${p}`,
      namespace,
      policyType: 'INGRESS',
      pods: { matchLabel: [{ key: 'app', value: `app-${p % services}` }] },
      ingressRule: [
        {
          port: [{ protocol: 'TCP', port: { type: 'NUMBER', number: 8080 } }],
          from: [{ pods: { matchLabel: [{ key: 'app', value: `app-${(p + 1) % services}` }] } }],
        },
      ],
    };
    yield { resource: KubeResource.Policy, key: policyKey(value.name, namespace), value };
  }
}

export interface LoadOptions {
  /** @default '/vnf-agent/' */
  readonly root?: string;
  /** Puts per etcd transaction (etcd's default limit is 128). @default 100 */
  readonly batch?: number;
  /** Transactions in flight at once. @default 4 */
  readonly concurrency?: number;
  /** Called after each batch with the number of keys written so far. */
  readonly onProgress?: (written: number) => void;
}

/** Writes objects into etcd in transactions of `batch` puts; resolves with the count and the last revision. */
export async function loadIntoEtcd(
  client: Etcd3,
  objects: Iterable<KubeObject>,
  options: LoadOptions = {},
): Promise<{ written: number; revision: number }> {
  const root = options.root ?? DEFAULT_ROOT;
  const batchSize = options.batch ?? 100;
  const concurrency = options.concurrency ?? 4;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 128) {
    throw new RangeError(`options.batch must be an integer in 1..128; received ${batchSize}`);
  }
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`options.concurrency must be a positive integer; received ${concurrency}`);
  }
  let written = 0;
  let revision = 0;
  const inFlight = new Set<Promise<void>>();
  const send = (ops: Array<{ key: Buffer; value: Buffer }>): void => {
    const p = client.kv
      .txn({ compare: [], success: ops.map((op) => ({ request_put: op })), failure: [] })
      .then((res) => {
        written += ops.length;
        revision = Math.max(revision, Number(res.header.revision));
        options.onProgress?.(written);
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  };
  let ops: Array<{ key: Buffer; value: Buffer }> = [];
  for (const o of objects) {
    ops.push({ key: Buffer.from(kubeStateEtcdKey(o.resource, o.key, root)), value: Buffer.from(JSON.stringify(o.value)) });
    if (ops.length === batchSize) {
      send(ops);
      ops = [];
      if (inFlight.size >= concurrency) await Promise.race(inFlight);
    }
  }
  if (ops.length > 0) send(ops);
  await Promise.all(inFlight);
  return { written, revision };
}
