// Services: each service with ready endpoints becomes a NAT44 DNAT (static mappings from the cluster
// and external IPs to the endpoint IPs).
import {
  KubeStateChange,
  isResyncMethod,
  type Event,
  type EventHandler,
  type KubeStateData,
  type ResyncOperations,
  type UpdateOperations,
  type Value,
} from '../api/index.js';
import { parseIpv4 } from './ipv4.js';
import { endpointsView, serviceView, viewsOf, type EndpointsView, type ServiceView } from './k8s-view.js';
import { dnat44Key } from './keys.js';
import { identityFromKey, vppName } from './names.js';
import { UndoLog } from './undo-log.js';

/**
 * DNAT label of a service: `svc.<namespace>.<name>` (unique: namespaces have no dots, see names.ts),
 * or `svc-<hash>` when that is too long for a VPP tag.
 */
export function serviceLabel(serviceId: string): string {
  const slash = serviceId.indexOf('/');
  return vppName(`svc.${serviceId.slice(0, slash)}.${serviceId.slice(slash + 1)}`, 'svc-', serviceId);
}

interface StaticMapping {
  readonly externalIp: string;
  readonly externalPort: number;
  readonly protocol: string;
  readonly localIps: ReadonlyArray<{ localIp: string; localPort: number }>;
}

/** What the dataplane can hold once: a mapping's external side. */
function mappingId(m: StaticMapping): string {
  return `${m.externalIp} ${m.externalPort} ${m.protocol}`;
}

/** The static mappings a service wants for its endpoints (before other services' claims). */
export function serviceMappings(svc: ServiceView, eps: EndpointsView | undefined): StaticMapping[] {
  if (eps === undefined) return [];
  // One mapping per (IP, port, protocol): the DNAT descriptor refuses duplicates, which a service
  // listing its cluster IP among its external IPs, or a port twice, would otherwise produce.
  const externalIps = [...new Set([svc.clusterIp, ...svc.externalIps])].filter((ip) => parseIpv4(ip) !== undefined);
  const staticMappings: StaticMapping[] = [];
  const mapped = new Set<string>();
  // Endpoint ports match service ports by name; a single-port service takes a subset's only port
  // whatever its name, a multi-port one never (its other port would reach the wrong server).
  const single = svc.ports.length === 1;
  for (const p of svc.ports) {
    if (mapped.has(`${p.protocol} ${p.port}`)) continue;
    const locals = new Map<string, { localIp: string; localPort: number }>();
    for (const subset of eps.subsets) {
      const target = subset.ports.get(p.name) ?? (single && subset.ports.size === 1 ? subset.ports.values().next().value : undefined);
      if (target === undefined) continue;
      for (const ip of subset.ips) {
        if (parseIpv4(ip) !== undefined) locals.set(`${ip}:${target}`, { localIp: ip, localPort: target });
      }
    }
    if (locals.size === 0) continue;
    mapped.add(`${p.protocol} ${p.port}`);
    const localIps = [...locals.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map((e) => e[1]);
    for (const externalIp of externalIps) {
      staticMappings.push({ externalIp, externalPort: p.port, protocol: p.protocol, localIps });
    }
  }
  return staticMappings;
}

/**
 * Which service holds each mapping. Kubernetes lets two services list one external IP and port (or
 * one's external IP be another's cluster IP), VPP holds one: the first service by id owns it, and
 * the next takes it over when the owner lets go.
 */
class MappingClaims {
  /** Mapping id -> services that want it. */
  readonly #claims = new Map<string, Set<string>>();
  /** Service id -> mapping ids it wants. */
  readonly #wanted = new Map<string, readonly string[]>();

  owner(mapping: string): string | undefined {
    let first: string | undefined;
    for (const id of this.#claims.get(mapping) ?? []) if (first === undefined || id < first) first = id;
    return first;
  }

  wanted(serviceId: string): readonly string[] {
    return this.#wanted.get(serviceId) ?? [];
  }

  /** Sets what `serviceId` wants; adds to `affected` every other service whose ownership changed. */
  set(serviceId: string, mappings: readonly string[], affected: Set<string>): void {
    const before = this.wanted(serviceId);
    const next = new Set(mappings);
    const touched = [...before.filter((m) => !next.has(m)), ...mappings.filter((m) => !before.includes(m))];
    const owners = touched.map((m) => this.owner(m));
    for (const m of before) if (!next.has(m)) this.#unclaim(m, serviceId);
    for (const m of next) {
      let set = this.#claims.get(m);
      if (set === undefined) this.#claims.set(m, (set = new Set()));
      set.add(serviceId);
    }
    if (next.size === 0) this.#wanted.delete(serviceId);
    else this.#wanted.set(serviceId, [...next]);
    touched.forEach((m, i) => {
      const now = this.owner(m);
      if (now === owners[i]) return;
      for (const id of [owners[i], now]) if (id !== undefined && id !== serviceId) affected.add(id);
    });
  }

  clear(): void {
    this.#claims.clear();
    this.#wanted.clear();
  }

  #unclaim(mapping: string, serviceId: string): void {
    const set = this.#claims.get(mapping);
    set?.delete(serviceId);
    if (set?.size === 0) this.#claims.delete(mapping);
  }
}

export class ServiceHandler implements EventHandler {
  readonly #services = new Map<string, ServiceView>();
  readonly #endpoints = new Map<string, EndpointsView>();
  readonly #claims = new MappingClaims();
  /** What is in the transaction/dataplane per service id, as JSON for cheap comparison. */
  readonly #rendered = new Map<string, string>();
  readonly #undo = new UndoLog();

  toString(): string {
    return 'services';
  }

  handlesEvent(event: Event): boolean {
    if (isResyncMethod(event.method())) return true;
    return event instanceof KubeStateChange && (event.resource === 'service' || event.resource === 'endpoints');
  }

  resync(_event: Event, kubeState: KubeStateData, _resyncCount: number, txn: ResyncOperations): void {
    this.#services.clear();
    this.#endpoints.clear();
    this.#claims.clear();
    this.#rendered.clear();
    for (const s of viewsOf(kubeState, 'service', serviceView)) this.#services.set(s.id, s);
    for (const e of viewsOf(kubeState, 'endpoints', endpointsView)) this.#endpoints.set(e.id, e);
    // Every claim first: which service owns a shared mapping does not depend on the order.
    const wants = new Map<string, StaticMapping[]>();
    const ignored = new Set<string>();
    for (const svc of this.#services.values()) {
      const ms = serviceMappings(svc, this.#endpoints.get(svc.id));
      wants.set(svc.id, ms);
      this.#claims.set(svc.id, ms.map(mappingId), ignored);
    }
    for (const [id, ms] of wants) {
      const value = this.#valueOf(id, ms);
      if (value === null) continue;
      txn.put(dnat44Key(serviceLabel(id)), value);
      this.#rendered.set(id, JSON.stringify(value));
    }
  }

  update(event: Event, txn: UpdateOperations): string {
    this.#undo.begin(event);
    if (!(event instanceof KubeStateChange)) return '';
    const isService = event.resource === 'service';
    const view = isService ? serviceView : endpointsView;
    const value = event.newValue ?? event.prevValue;
    // A delete may carry only the key.
    const id = value === null ? identityFromKey(event.key)?.id : view(value).id;
    if (id === undefined) return '';
    const table: Map<string, ServiceView | EndpointsView> = isService ? this.#services : this.#endpoints;
    const before = table.get(id);
    if (event.newValue === null) table.delete(id);
    else table.set(id, view(event.newValue));
    this.#undo.record(() => (before === undefined ? table.delete(id) : table.set(id, before)));
    return this.#render(id, txn);
  }

  revert(event: Event): void {
    this.#undo.revert(event);
  }

  describeInternalData(): string {
    return `services: ${[...this.#rendered.keys()].sort().join(', ')}`;
  }

  /** Re-renders service `id`, and every service whose share of the mappings its change moved. */
  #render(id: string, txn: UpdateOperations): string {
    const ms = this.#mappingsOf(id);
    const before = this.#claims.wanted(id);
    const affected = new Set<string>();
    this.#claims.set(id, ms.map(mappingId), affected);
    this.#undo.record(() => this.#claims.set(id, before, new Set()));
    const described = [this.#put(id, ms, txn)];
    for (const other of [...affected].sort()) described.push(this.#put(other, this.#mappingsOf(other), txn));
    return described.filter((d) => d !== '').join('; ');
  }

  #mappingsOf(id: string): StaticMapping[] {
    const svc = this.#services.get(id);
    return svc === undefined ? [] : serviceMappings(svc, this.#endpoints.get(id));
  }

  /** The DNAT value of the mappings service `id` owns; null when it owns none. */
  #valueOf(id: string, ms: readonly StaticMapping[]): Value | null {
    const staticMappings = ms.filter((m) => this.#claims.owner(mappingId(m)) === id);
    return staticMappings.length === 0 ? null : { label: serviceLabel(id), staticMappings: staticMappings as unknown as Value[] };
  }

  #put(id: string, ms: readonly StaticMapping[], txn: UpdateOperations): string {
    const value = this.#valueOf(id, ms);
    const before = this.#rendered.get(id);
    const key = dnat44Key(serviceLabel(id));
    if (value === null) {
      if (before === undefined) return '';
      txn.delete(key);
      this.#rendered.delete(id);
      this.#undo.record(() => this.#rendered.set(id, before));
      return `removed DNAT of ${id}`;
    }
    const json = JSON.stringify(value);
    if (json === before) return '';
    txn.put(key, value);
    this.#rendered.set(id, json);
    this.#undo.record(() => (before === undefined ? this.#rendered.delete(id) : this.#rendered.set(id, before)));
    return `${before === undefined ? 'added' : 'updated'} DNAT of ${id}`;
  }
}
