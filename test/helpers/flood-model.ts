// A tiny reference model of the desired state the built-in handlers should produce, written apart
// from them (property tests compare the engine's dataplane with it). It tracks the Kubernetes
// state, the external config and the IPAM's allocations; the final state is rendered from scratch.
import type { Value } from '../../src/api/index.js';

export const MODEL_SUBNET_BASE = [10, 1, 0, 0] as const;

interface ModelPod {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}
interface ModelService {
  readonly namespace: string;
  readonly name: string;
  readonly clusterIp: string;
  readonly ports: ReadonlyArray<{ name: string; protocol: 'TCP' | 'UDP'; port: number }>;
}
interface ModelEndpoints {
  readonly ips: readonly string[];
  readonly ports: ReadonlyArray<{ name: string; port: number }>;
}
interface ModelPolicy {
  readonly namespace: string;
  readonly name: string;
  readonly selectApp: string;
  readonly fromApp: string;
  readonly port: number;
}

export class DesiredStateModel {
  readonly pods = new Map<string, ModelPod>();
  readonly services = new Map<string, ModelService>();
  readonly endpoints = new Map<string, ModelEndpoints>();
  readonly policies = new Map<string, ModelPolicy>();
  readonly external = new Map<string, Value>();
  /** Connected pods (by AddPod or a pod change), as the pod handler keeps them. */
  readonly connected = new Set<string>();
  /** pod id -> host offset in 10.1.0.0/16 */
  readonly ipam = new Map<string, number>();

  #allocate(id: string): void {
    if (this.ipam.has(id)) return;
    const used = new Set(this.ipam.values());
    let off = 2;
    while (used.has(off)) off++;
    this.ipam.set(id, off);
  }

  connect(id: string): void {
    this.#allocate(id);
    this.connected.add(id);
  }

  disconnect(id: string): void {
    this.connected.delete(id);
    this.ipam.delete(id);
  }

  /** A full resync: connected pods := Kubernetes pods; IPAM keeps present pods, allocates new ones in id order. */
  resync(): void {
    for (const id of [...this.ipam.keys()]) if (!this.pods.has(id)) this.ipam.delete(id);
    for (const id of [...this.pods.keys()].sort()) this.#allocate(id);
    this.connected.clear();
    for (const id of this.pods.keys()) this.connected.add(id);
  }

  ipOf(id: string): string {
    const off = this.ipam.get(id) as number;
    return `10.1.${off >> 8}.${off & 255}`;
  }

  /** The desired state rendered from scratch (call after a resync). */
  render(): Map<string, Value> {
    const out = new Map<string, Value>();
    const ifName = (id: string): string => `tap-${id.replace('/', '.')}`;
    for (const id of this.connected) {
      const ip = this.ipOf(id);
      const tap = ifName(id);
      out.set(`config/vpp/v2/interfaces/${tap}`, { name: tap, type: 'TAP', enabled: true, ipAddresses: [`${ip}/32`], vrf: 0 });
      out.set(`config/vpp/v2/route/if/${tap}/vrf/0/dst/${ip}/32/gw/${ip}`, { vrfId: 0, dstNetwork: `${ip}/32`, nextHopAddr: ip, outgoingInterface: tap });
      out.set(`config/vpp/v2/arp/${tap}/${ip}`, { interface: tap, ipAddress: ip, physAddress: 'MAC', static: true });
    }
    for (const [id, svc] of this.services) {
      const eps = this.endpoints.get(id);
      if (eps === undefined) continue;
      const mappings: Value[] = [];
      for (const p of svc.ports) {
        const target = eps.ports.find((e) => e.name === p.name)?.port ?? (eps.ports.length === 1 ? eps.ports[0]?.port : undefined);
        if (target === undefined || eps.ips.length === 0) continue;
        const localIps = [...new Set(eps.ips)].map((ip) => `${ip}:${target}`).sort().map((s) => ({ localIp: s.split(':')[0], localPort: target }));
        mappings.push({ externalIp: svc.clusterIp, externalPort: p.port, protocol: p.protocol, localIps });
      }
      if (mappings.length > 0) out.set(`config/vpp.nat/v2/dnat44/svc.${id.replace('/', '.')}`, { label: `svc.${id.replace('/', '.')}`, staticMappings: mappings });
    }
    // One ACL per isolated pod combining every policy that selects it (policies in id order).
    const policies = [...this.policies].sort((x, y) => (x[0] < y[0] ? -1 : 1)).map((e) => e[1]);
    const app = (p: string): string | undefined => this.pods.get(p)?.labels['app'];
    const any = '0.0.0.0/0';
    for (const id of this.connected) {
      const ns = id.slice(0, id.indexOf('/'));
      const peers = [...this.connected].filter((p) => p.startsWith(`${ns}/`)).sort();
      const mine = policies.filter((pol) => pol.namespace === ns && app(id) === pol.selectApp);
      if (mine.length === 0) continue;
      const rules: Value[] = [];
      for (const pol of mine) {
        for (const p of peers) {
          if (app(p) !== pol.fromApp) continue;
          rules.push({
            action: 'PERMIT',
            ipRule: { ip: { sourceNetwork: `${this.ipOf(p)}/32`, destinationNetwork: any }, tcp: { destinationPortRange: { lowerPort: pol.port, upperPort: pol.port } } },
          });
        }
      }
      rules.push({ action: 'DENY', ipRule: { ip: { sourceNetwork: any, destinationNetwork: any } } });
      const name = `acl-${id.replace('/', '.')}`;
      out.set(`config/vpp.acls/v2/acl/${name}`, { name, rules, interfaces: { ingress: [], egress: [ifName(id)] } });
    }
    for (const [k, v] of this.external) out.set(k, v);
    return out;
  }
}

/** MACs are derived by a hash the model does not repeat: compare ARP entries without them. */
export function withoutMacs(state: ReadonlyMap<string, Value>): Map<string, Value> {
  const out = new Map<string, Value>();
  for (const [k, v] of state) out.set(k, k.startsWith('config/vpp/v2/arp/') ? { ...v, physAddress: 'MAC' } : v);
  return out;
}
