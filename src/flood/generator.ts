// The seeded event generator. It keeps its own model of the Kubernetes state and of the external
// configuration, so that every change carries a realistic previous value and every DBResync the
// whole current snapshot (what the database watcher would push).
import {
  DBResync,
  ExternalConfigChange,
  KubeStateChange,
  newKubeStateData,
  type Event,
  type KeyValueChanges,
  type KeyValuePairs,
  type KubeStateData,
  type Value,
} from '../api/index.js';
import { AddPod, DeletePod } from '../handlers/index.js';
import {
  endpointsValue,
  k8sKey,
  namespaceValue,
  podValue,
  policyValue,
  serviceValue,
  type LabelSet,
  type PolicyRuleSpec,
  type ServicePortSpec,
} from './k8s-values.js';
import { Prng } from './prng.js';
import { SyntheticUpdate } from './synthetic-handlers.js';
import { tracked, type DoneSink } from './tracked-events.js';

const NAMESPACES = ['default', 'shop', 'payments', 'monitoring'];
const APPS = ['web', 'api', 'db', 'cache', 'worker'];
const TIERS = ['front', 'back'];
const MAX_SERVICES = 40;
const MAX_POLICIES = 16;
const MAX_EXTERNAL = 24;

/** Kinds of generated events, for the report. */
export type GeneratedKind =
  | 'pod'
  | 'namespace'
  | 'service'
  | 'endpoints'
  | 'policy'
  | 'add-pod'
  | 'delete-pod'
  | 'external-config'
  | 'synthetic'
  | 'resync';

export interface GeneratorOptions {
  readonly seed: number;
  readonly synthetic: boolean;
  readonly maxPods: number;
}

interface PodModel {
  readonly namespace: string;
  readonly name: string;
  value: Value;
}

export class FloodGenerator {
  readonly #rng: Prng;
  readonly #sink: DoneSink;
  readonly #synthetic: boolean;
  readonly #maxPods: number;
  /** resource -> key -> value: the Kubernetes state as the controller should see it */
  readonly #kube: KubeStateData = newKubeStateData();
  readonly #external: KeyValuePairs = new Map();
  readonly #pods: PodModel[] = [];
  /** Pods connected by AddPod only (no Kubernetes value). */
  readonly #cniPods: Array<{ namespace: string; name: string }> = [];
  #counter = 0;
  #syntheticIndex = 0;
  readonly counts = new Map<GeneratedKind, number>();

  constructor(options: GeneratorOptions, sink: DoneSink) {
    this.#rng = new Prng(options.seed);
    this.#sink = sink;
    this.#synthetic = options.synthetic;
    this.#maxPods = options.maxPods;
    if (!this.#synthetic) {
      for (const ns of NAMESPACES) this.#kube.get('namespace')?.set(k8sKey('namespace', '', ns), namespaceValue(ns, { team: ns }));
    }
  }

  /** The Kubernetes state the generator has produced so far (read-only view). */
  get kubeState(): KubeStateData {
    return this.#kube;
  }

  get externalConfig(): KeyValuePairs {
    return this.#external;
  }

  /** A DBResync carrying a copy of the whole current state. */
  resync(seq: number): Event {
    this.#count('resync');
    const kubeState: KubeStateData = new Map();
    for (const [resource, kvs] of this.#kube) kubeState.set(resource, new Map(kvs));
    return tracked(new DBResync({ kubeState, externalConfig: new Map(this.#external) }), seq, this.#sink);
  }

  /** The next generated event. */
  next(seq: number): Event {
    if (this.#synthetic) {
      this.#count('synthetic');
      return tracked(new SyntheticUpdate(this.#syntheticIndex++), seq, this.#sink);
    }
    const r = this.#rng.next();
    if (r < 0.3) return this.#podChange(seq);
    if (r < 0.38) return this.#addPod(seq);
    if (r < 0.45) return this.#deletePod(seq);
    if (r < 0.48) return this.#namespaceChange(seq);
    if (r < 0.62) return this.#serviceChange(seq);
    if (r < 0.78) return this.#endpointsChange(seq);
    if (r < 0.88) return this.#policyChange(seq);
    return this.#externalChange(seq);
  }

  #count(kind: GeneratedKind): void {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
  }

  #change(seq: number, resource: string, key: string, newValue: Value | null): Event {
    this.#count(resource as GeneratedKind);
    const table = this.#kube.get(resource) as KeyValuePairs;
    const prevValue = table.get(key) ?? null;
    if (newValue === null) table.delete(key);
    else table.set(key, newValue);
    return tracked(new KubeStateChange({ key, resource, prevValue, newValue }), seq, this.#sink);
  }

  #labels(): LabelSet {
    return { app: this.#rng.pick(APPS), tier: this.#rng.pick(TIERS) };
  }

  #podChange(seq: number): Event {
    const rng = this.#rng;
    const roll = rng.next();
    if (this.#pods.length === 0 || (roll < 0.5 && this.#pods.length < this.#maxPods)) {
      const namespace = rng.pick(NAMESPACES);
      const name = `${rng.pick(APPS)}-${this.#counter++}`;
      const value = podValue(namespace, name, this.#labels());
      this.#pods.push({ namespace, name, value });
      return this.#change(seq, 'pod', k8sKey('pod', namespace, name), value);
    }
    const i = rng.int(this.#pods.length);
    const pod = this.#pods[i] as PodModel;
    const key = k8sKey('pod', pod.namespace, pod.name);
    if (roll < 0.75) {
      pod.value = podValue(pod.namespace, pod.name, this.#labels());
      return this.#change(seq, 'pod', key, pod.value);
    }
    this.#pods[i] = this.#pods[this.#pods.length - 1] as PodModel;
    this.#pods.pop();
    return this.#change(seq, 'pod', key, null);
  }

  #addPod(seq: number): Event {
    this.#count('add-pod');
    const rng = this.#rng;
    if (this.#pods.length > 0 && rng.chance(0.5)) {
      const pod = rng.pick(this.#pods);
      return tracked(new AddPod({ namespace: pod.namespace, name: pod.name }), seq, this.#sink);
    }
    if (this.#cniPods.length + this.#pods.length >= this.#maxPods && this.#cniPods.length > 0) {
      const pod = rng.pick(this.#cniPods);
      return tracked(new AddPod(pod), seq, this.#sink);
    }
    const pod = { namespace: rng.pick(NAMESPACES), name: `cni-${this.#counter++}` };
    this.#cniPods.push(pod);
    return tracked(new AddPod(pod), seq, this.#sink);
  }

  #deletePod(seq: number): Event {
    this.#count('delete-pod');
    const rng = this.#rng;
    if (this.#cniPods.length > 0 && (this.#pods.length === 0 || rng.chance(0.7))) {
      const i = rng.int(this.#cniPods.length);
      const pod = this.#cniPods[i] as { namespace: string; name: string };
      this.#cniPods[i] = this.#cniPods[this.#cniPods.length - 1] as { namespace: string; name: string };
      this.#cniPods.pop();
      return tracked(new DeletePod(pod), seq, this.#sink);
    }
    if (this.#pods.length > 0) {
      const pod = rng.pick(this.#pods);
      return tracked(new DeletePod({ namespace: pod.namespace, name: pod.name }), seq, this.#sink);
    }
    return tracked(new DeletePod({ namespace: 'default', name: 'never-added' }), seq, this.#sink);
  }

  #namespaceChange(seq: number): Event {
    const ns = this.#rng.pick(NAMESPACES);
    return this.#change(seq, 'namespace', k8sKey('namespace', '', ns), namespaceValue(ns, { team: ns, rev: String(this.#counter++) }));
  }

  #serviceName(): { namespace: string; name: string } {
    const i = this.#rng.int(MAX_SERVICES);
    return { namespace: NAMESPACES[i % NAMESPACES.length] as string, name: `svc-${i}` };
  }

  #serviceChange(seq: number): Event {
    const { namespace, name } = this.#serviceName();
    const key = k8sKey('service', namespace, name);
    const exists = this.#kube.get('service')?.has(key) ?? false;
    if (exists && this.#rng.chance(0.3)) return this.#change(seq, 'service', key, null);
    const n = 1 + this.#rng.int(2);
    const ports: ServicePortSpec[] = [];
    for (let p = 0; p < n; p++) ports.push({ name: `p${p}`, protocol: this.#rng.chance(0.8) ? 'TCP' : 'UDP', port: 80 + p * 363 + this.#rng.int(3) });
    const i = Number(name.slice(4));
    const clusterIp = `10.96.${i >> 8}.${(i & 255) + 1}`;
    const external = this.#rng.chance(0.2) ? [`192.0.2.${(i % 250) + 1}`] : [];
    return this.#change(seq, 'service', key, serviceValue(namespace, name, clusterIp, ports, external));
  }

  #endpointsChange(seq: number): Event {
    const { namespace, name } = this.#serviceName();
    const key = k8sKey('endpoints', namespace, name);
    const exists = this.#kube.get('endpoints')?.has(key) ?? false;
    if (exists && this.#rng.chance(0.2)) return this.#change(seq, 'endpoints', key, null);
    const ips: string[] = [];
    const n = 1 + this.#rng.int(4);
    for (let k = 0; k < n; k++) ips.push(`10.1.${this.#rng.int(4)}.${2 + this.#rng.int(250)}`);
    const ports = [
      { name: 'p0', port: 8080 },
      { name: 'p1', port: 9443 },
    ];
    return this.#change(seq, 'endpoints', key, endpointsValue(namespace, name, ips, ports));
  }

  #policyChange(seq: number): Event {
    const i = this.#rng.int(MAX_POLICIES);
    const namespace = NAMESPACES[i % NAMESPACES.length] as string;
    const name = `pol-${i}`;
    const key = k8sKey('policy', namespace, name);
    const exists = this.#kube.get('policy')?.has(key) ?? false;
    if (exists && this.#rng.chance(0.25)) return this.#change(seq, 'policy', key, null);
    const rules: PolicyRuleSpec[] = [
      { fromPods: { app: this.#rng.pick(APPS) }, ports: [{ protocol: 'TCP', port: 80 + this.#rng.int(3) * 363 }] },
    ];
    if (this.#rng.chance(0.5)) rules.push({ fromCidrs: [`172.16.${this.#rng.int(16)}.0/24`] });
    return this.#change(seq, 'policy', key, policyValue(namespace, name, { app: this.#rng.pick(APPS) }, rules));
  }

  #externalChange(seq: number): Event {
    this.#count('external-config');
    const changes: KeyValueChanges = new Map();
    const n = 1 + this.#rng.int(3);
    for (let k = 0; k < n; k++) {
      const i = this.#rng.int(MAX_EXTERNAL);
      const loopback = i % 2 === 0;
      const key = loopback ? `config/vpp/v2/interfaces/loop-ext-${i}` : `config/vpp/v2/vrf-table/id/${100 + i}/protocol/IPV4`;
      if (this.#external.has(key) && this.#rng.chance(0.4)) {
        this.#external.delete(key);
        changes.set(key, null);
        continue;
      }
      const value: Value = loopback
        ? { name: `loop-ext-${i}`, type: 'SOFTWARE_LOOPBACK', enabled: true, ipAddresses: [`192.168.${i}.1/24`], vrf: 0 }
        : { id: 100 + i, protocol: 'IPV4', label: `ext-${i}` };
      this.#external.set(key, value);
      changes.set(key, value);
    }
    return tracked(new ExternalConfigChange('db', false, changes), seq, this.#sink);
  }
}
