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
import { identityFromKey } from './names.js';
import { UndoLog } from './undo-log.js';

/** DNAT label of a service: `svc.<namespace>.<name>` (unique: namespaces have no dots, see names.ts). */
export function serviceLabel(serviceId: string): string {
  const slash = serviceId.indexOf('/');
  return `svc.${serviceId.slice(0, slash)}.${serviceId.slice(slash + 1)}`;
}

/** The DNAT value for a service and its endpoints; null when there is nothing to map. */
export function renderService(svc: ServiceView, eps: EndpointsView | undefined): Value | null {
  if (eps === undefined) return null;
  // One mapping per (IP, port, protocol): the DNAT descriptor refuses duplicates, which a service
  // listing its cluster IP among its external IPs, or a port twice, would otherwise produce.
  const externalIps = [...new Set([svc.clusterIp, ...svc.externalIps])].filter((ip) => parseIpv4(ip) !== undefined);
  const staticMappings: Value[] = [];
  const mapped = new Set<string>();
  for (const p of svc.ports) {
    if (mapped.has(`${p.protocol} ${p.port}`)) continue;
    const locals = new Map<string, { localIp: string; localPort: number }>();
    for (const subset of eps.subsets) {
      const target = subset.ports.get(p.name) ?? (subset.ports.size === 1 ? subset.ports.values().next().value : undefined);
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
  if (staticMappings.length === 0) return null;
  return { label: serviceLabel(svc.id), staticMappings };
}

export class ServiceHandler implements EventHandler {
  readonly #services = new Map<string, ServiceView>();
  readonly #endpoints = new Map<string, EndpointsView>();
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
    this.#rendered.clear();
    for (const s of viewsOf(kubeState, 'service', serviceView)) this.#services.set(s.id, s);
    for (const e of viewsOf(kubeState, 'endpoints', endpointsView)) this.#endpoints.set(e.id, e);
    for (const svc of this.#services.values()) {
      const value = renderService(svc, this.#endpoints.get(svc.id));
      if (value === null) continue;
      txn.put(dnat44Key(serviceLabel(svc.id)), value);
      this.#rendered.set(svc.id, JSON.stringify(value));
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

  #render(id: string, txn: UpdateOperations): string {
    const svc = this.#services.get(id);
    const value = svc === undefined ? null : renderService(svc, this.#endpoints.get(id));
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
