// The key layout and value shapes of the Kubernetes state as Contiv's state reflector (KSR) writes it
// into etcd: `<root>contiv-ksr/k8s/<resource>/<name>[/namespace/<namespace>]`, values as the KSR
// protobuf messages in protojson form (camelCase field names, enums as their names).
//
// Keys inside a resource: the DB watcher hands out every Kubernetes key RELATIVE TO ITS RESOURCE
// PREFIX, e.g. pod `web-1` in namespace `shop` is `web-1/namespace/shop` in
// `DBResync.kubeState.get('pod')` and in `KubeStateChange.key` (with `resource: 'pod'`).
// Use the builders and `parseKubeKey` below rather than formatting keys by hand.

/** The default root of every key the agent reads. */
export const DEFAULT_ROOT = '/vnf-agent/';

/** Resource keywords of the Kubernetes state (the `<resource>` part of a key). */
export const KubeResource = {
  Pod: 'pod',
  Namespace: 'namespace',
  Service: 'service',
  Endpoints: 'endpoints',
  Policy: 'policy',
  Node: 'node',
} as const;
export type KubeResource = (typeof KubeResource)[keyof typeof KubeResource];

/** Resources whose objects live in a namespace: their keys end with `/namespace/<namespace>`. */
const NAMESPACED: ReadonlySet<string> = new Set<string>([
  KubeResource.Pod,
  KubeResource.Service,
  KubeResource.Endpoints,
  KubeResource.Policy,
]);

const NAMESPACE_INFIX = '/namespace/';

/** `<root>contiv-ksr/k8s/`: the parent of every resource prefix. */
export function kubeStatePrefix(root: string = DEFAULT_ROOT): string {
  return `${root}contiv-ksr/k8s/`;
}

/** `<root>contiv-ksr/k8s/<resource>/`: the etcd prefix of one resource. */
export function kubeResourcePrefix(resource: string, root: string = DEFAULT_ROOT): string {
  return `${kubeStatePrefix(root)}${resource}/`;
}

/** The full etcd key of a Kubernetes object, from its key within the resource. */
export function kubeStateEtcdKey(resource: string, key: string, root: string = DEFAULT_ROOT): string {
  return kubeResourcePrefix(resource, root) + key;
}

/** `<root><nodeLabel>/config/`: the etcd prefix of one node's external configuration. */
export function externalConfigPrefix(nodeLabel: string, root: string = DEFAULT_ROOT): string {
  return `${root}${nodeLabel}/config/`;
}

/** The full etcd key of an external-config value; `key` is an API.md key (`config/vpp/v2/...`). */
export function externalConfigEtcdKey(nodeLabel: string, key: string, root: string = DEFAULT_ROOT): string {
  return `${root}${nodeLabel}/${key}`;
}

/** Key within the resource of a namespaced object: `<name>/namespace/<namespace>`. */
export function namespacedKey(name: string, namespace: string): string {
  return `${name}${NAMESPACE_INFIX}${namespace}`;
}

export function podKey(name: string, namespace: string): string {
  return namespacedKey(name, namespace);
}
export function serviceKey(name: string, namespace: string): string {
  return namespacedKey(name, namespace);
}
export function endpointsKey(name: string, namespace: string): string {
  return namespacedKey(name, namespace);
}
export function policyKey(name: string, namespace: string): string {
  return namespacedKey(name, namespace);
}
/** Namespaces and nodes are cluster-scoped: their key within the resource is the name. */
export function namespaceKey(name: string): string {
  return name;
}
export function nodeKey(name: string): string {
  return name;
}

/** The key within a resource for an object of that resource. */
export function kubeKey(resource: string, name: string, namespace?: string): string {
  return NAMESPACED.has(resource) ? namespacedKey(name, namespace ?? 'default') : name;
}

export interface KubeObjectId {
  readonly name: string;
  /** Absent for cluster-scoped resources (namespace, node). */
  readonly namespace?: string;
}

/** Splits a key within a resource (`<name>[/namespace/<namespace>]`) into name and namespace. */
export function parseKubeKey(key: string): KubeObjectId {
  const i = key.lastIndexOf(NAMESPACE_INFIX);
  if (i <= 0) return { name: key };
  return { name: key.slice(0, i), namespace: key.slice(i + NAMESPACE_INFIX.length) };
}

// ---- value shapes (protojson of Contiv's KSR protos; every field optional as in proto3 JSON) ----

export type Protocol = 'TCP' | 'UDP';

/** `ksr/model/pod` Pod. */
export interface PodValue {
  readonly name: string;
  readonly namespace: string;
  /** Labels of the pod (the current form; the deprecated list form is `label`). */
  readonly labels?: Readonly<Record<string, string>>;
  readonly label?: ReadonlyArray<{ readonly key: string; readonly value: string }>;
  /** IP allocated to the pod; empty until allocated. */
  readonly ipAddress?: string;
  /** IP of the node the pod is scheduled on. */
  readonly hostIpAddress?: string;
  readonly container?: ReadonlyArray<PodContainer>;
  readonly annotations?: Readonly<Record<string, string>>;
}
export interface PodContainer {
  readonly name: string;
  readonly port?: ReadonlyArray<PodContainerPort>;
}
export interface PodContainerPort {
  readonly name?: string;
  readonly hostPort?: number;
  readonly containerPort: number;
  /** Default TCP. */
  readonly protocol?: Protocol;
  readonly hostIpAddress?: string;
}

/** `ksr/model/service` Service. */
export interface ServiceValue {
  readonly name: string;
  readonly namespace: string;
  readonly port?: ReadonlyArray<ServicePort>;
  readonly selector?: Readonly<Record<string, string>>;
  /** `None` for headless services. */
  readonly clusterIp?: string;
  /** `ClusterIP` (default), `NodePort`, `LoadBalancer`, `ExternalName`. */
  readonly serviceType?: string;
  readonly externalIps?: readonly string[];
  readonly sessionAffinity?: string;
  readonly externalTrafficPolicy?: string;
  readonly annotations?: Readonly<Record<string, string>>;
}
export interface ServicePort {
  readonly name?: string;
  /** Default TCP. */
  readonly protocol?: Protocol;
  readonly port: number;
  readonly targetPort?: { readonly type?: 'NUMBER' | 'STRING'; readonly intVal?: number; readonly stringVal?: string };
  readonly nodePort?: number;
}

/** `ksr/model/endpoints` Endpoints. */
export interface EndpointsValue {
  readonly name: string;
  readonly namespace: string;
  readonly endpointSubsets?: ReadonlyArray<EndpointSubset>;
}
export interface EndpointSubset {
  readonly addresses?: ReadonlyArray<EndpointAddress>;
  readonly notReadyAddresses?: ReadonlyArray<EndpointAddress>;
  readonly ports?: ReadonlyArray<{ readonly name?: string; readonly port: number; readonly protocol?: Protocol }>;
}
export interface EndpointAddress {
  readonly ip: string;
  readonly hostName?: string;
  readonly nodeName?: string;
  readonly targetRef?: { readonly kind?: string; readonly namespace?: string; readonly name?: string; readonly uid?: string };
}

/** `ksr/model/namespace` Namespace. */
export interface NamespaceValue {
  readonly name: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly label?: ReadonlyArray<{ readonly key: string; readonly value: string }>;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** `ksr/model/policy` Policy (Kubernetes NetworkPolicy). */
export interface PolicyValue {
  readonly name: string;
  readonly namespace: string;
  readonly label?: ReadonlyArray<{ readonly key: string; readonly value: string }>;
  /** Pods the policy applies to (in the policy's namespace); empty = all. */
  readonly pods?: LabelSelector;
  readonly policyType?: 'DEFAULT' | 'INGRESS' | 'EGRESS' | 'INGRESS_AND_EGRESS';
  readonly ingressRule?: ReadonlyArray<{ readonly port?: ReadonlyArray<PolicyPort>; readonly from?: ReadonlyArray<PolicyPeer> }>;
  readonly egressRule?: ReadonlyArray<{ readonly port?: ReadonlyArray<PolicyPort>; readonly to?: ReadonlyArray<PolicyPeer> }>;
}
export interface LabelSelector {
  readonly matchLabel?: ReadonlyArray<{ readonly key: string; readonly value: string }>;
  readonly matchExpression?: ReadonlyArray<{
    readonly key: string;
    readonly operator?: 'IN' | 'NOT_IN' | 'EXISTS' | 'DOES_NOT_EXIST';
    readonly value?: readonly string[];
  }>;
}
export interface PolicyPort {
  readonly protocol?: Protocol;
  readonly port?: { readonly type?: 'NUMBER' | 'NAME'; readonly number?: number; readonly name?: string };
}
export interface PolicyPeer {
  readonly pods?: LabelSelector;
  readonly namespaces?: LabelSelector;
  readonly ipBlock?: { readonly cidr: string; readonly except?: readonly string[] };
}

/** `ksr/model/node` Node. */
export interface NodeValue {
  readonly name: string;
  readonly podCidr?: string;
  readonly addresses?: ReadonlyArray<{ readonly type?: 'NodeHostName' | 'NodeExternalIP' | 'NodeInternalIP'; readonly address: string }>;
}
