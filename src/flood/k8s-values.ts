// Kubernetes values and keys as the flood generator produces them (the etcd layout of the
// Kubernetes state reflector).
import type { Value } from '../api/index.js';

export type LabelSet = Readonly<Record<string, string>>;

export function k8sKey(resource: string, namespace: string, name: string): string {
  return `k8s/${resource}/${name}/namespace/${namespace}`;
}

function labelList(labels: LabelSet): Array<{ key: string; value: string }> {
  return Object.entries(labels).map(([key, value]) => ({ key, value }));
}

export function podValue(namespace: string, name: string, labels: LabelSet = {}): Value {
  return { name, namespace, labels: labelList(labels) };
}

export function namespaceValue(name: string, labels: LabelSet = {}): Value {
  return { name, labels: labelList(labels) };
}

export interface ServicePortSpec {
  readonly name: string;
  readonly protocol: 'TCP' | 'UDP';
  readonly port: number;
}

export function serviceValue(namespace: string, name: string, clusterIp: string, ports: readonly ServicePortSpec[], externalIps: readonly string[] = []): Value {
  return { name, namespace, clusterIp, externalIps: [...externalIps], ports: ports.map((p) => ({ ...p })) };
}

export function endpointsValue(namespace: string, name: string, ips: readonly string[], ports: ReadonlyArray<{ name: string; port: number; protocol?: 'TCP' | 'UDP' }>): Value {
  return {
    name,
    namespace,
    subsets: [{ addresses: ips.map((ip) => ({ ip })), ports: ports.map((p) => ({ protocol: 'TCP', ...p })) }],
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
    podSelector: { ...podSelector },
    ingressRules: rules.map((r) => ({
      from: [
        ...(r.fromCidrs ?? []).map((cidr) => ({ ipBlock: { cidr } })),
        ...(r.fromPods === undefined ? [] : [{ podSelector: { ...r.fromPods } }]),
      ],
      ports: (r.ports ?? []).map((p) => ({ ...p })),
    })),
  };
}
