// Kubernetes values and keys as the flood generator produces them: the etcd layout of Contiv's
// state reflector (keys relative to their resource, `<name>/namespace/<namespace>`; values in
// protojson form), as the database watcher hands them to the controller.
import type { Value } from '../api/index.js';

export type LabelSet = Readonly<Record<string, string>>;

/** Key within the resource: `<name>/namespace/<namespace>`, or `<name>` for cluster-scoped resources. */
export function k8sKey(resource: string, namespace: string, name: string): string {
  return resource === 'namespace' || resource === 'node' ? name : `${name}/namespace/${namespace}`;
}

function matchLabel(labels: LabelSet): Array<{ key: string; value: string }> {
  return Object.entries(labels).map(([key, value]) => ({ key, value }));
}

export function podValue(namespace: string, name: string, labels: LabelSet = {}): Value {
  return { name, namespace, labels: { ...labels } };
}

export function namespaceValue(name: string, labels: LabelSet = {}): Value {
  return { name, labels: { ...labels } };
}

export interface ServicePortSpec {
  readonly name: string;
  readonly protocol: 'TCP' | 'UDP';
  readonly port: number;
}

export function serviceValue(namespace: string, name: string, clusterIp: string, ports: readonly ServicePortSpec[], externalIps: readonly string[] = []): Value {
  return {
    name,
    namespace,
    clusterIp,
    serviceType: 'ClusterIP',
    ...(externalIps.length > 0 ? { externalIps: [...externalIps] } : {}),
    port: ports.map((p) => ({ ...p })),
  };
}

export function endpointsValue(namespace: string, name: string, ips: readonly string[], ports: ReadonlyArray<{ name: string; port: number; protocol?: 'TCP' | 'UDP' }>): Value {
  return {
    name,
    namespace,
    endpointSubsets: [{ addresses: ips.map((ip) => ({ ip })), ports: ports.map((p) => ({ protocol: 'TCP', ...p })) }],
  };
}

export interface PolicyRuleSpec {
  readonly fromCidrs?: readonly string[];
  readonly fromPods?: LabelSet;
  readonly ports?: ReadonlyArray<{ protocol: 'TCP' | 'UDP'; port: number }>;
}

export function policyValue(namespace: string, name: string, podSelector: LabelSet, rules: readonly PolicyRuleSpec[]): Value {
  return {
    name,
    namespace,
    policyType: 'INGRESS',
    pods: { matchLabel: matchLabel(podSelector) },
    ingressRule: rules.map((r) => ({
      from: [
        ...(r.fromCidrs ?? []).map((cidr) => ({ ipBlock: { cidr } })),
        ...(r.fromPods === undefined ? [] : [{ pods: { matchLabel: matchLabel(r.fromPods) } }]),
      ],
      port: (r.ports ?? []).map((p) => ({ protocol: p.protocol, port: { type: 'NUMBER', number: p.port } })),
    })),
  };
}
