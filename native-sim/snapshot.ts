import { DataplaneState, NO_INTERFACE } from './dataplane-state.js';
import type { SimSnapshot } from './sim-types.js';

/** A deep, plain copy of the state (safe to post to another thread). */
export function snapshotOf(state: DataplaneState, epoch: number): SimSnapshot {
  return {
    epoch,
    interfaces: [...state.interfaces.values()].map((i) => ({
      sw_if_index: i.sw_if_index,
      name: i.name,
      tag: i.tag,
      type: i.dev_type,
      flags: i.flags,
      mtu: i.mtu,
      mac: i.mac,
      vrf: i.vrf4,
      vrf6: i.vrf6,
      unnumbered: i.unnumbered === NO_INTERFACE ? null : i.unnumbered,
      addresses: [...i.addresses],
      host_if_name: i.host_if_name,
      bridge_domain: i.bd ? { ...i.bd } : null,
    })),
    tables: [...state.tables.values()].map((t) => ({ ...t })),
    routes: [...state.routes.values()].map((r) => ({ ...r, paths: r.paths.map((p) => ({ ...p })) })),
    neighbors: [...state.neighbors.values()].map((n) => ({
      sw_if_index: n.sw_if_index,
      ip_address: n.ip_address,
      mac_address: n.mac_address,
      flags: n.flags,
    })),
    acls: [...state.acls.values()].map((a) => ({ acl_index: a.acl_index, tag: a.tag, r: a.r.map((r) => ({ ...r })) })),
    aclBindings: [...state.aclBindings.values()].map((b) => ({ ...b, acls: [...b.acls] })),
    nat44StaticMappings: [...state.staticMappings.values()].map((m) => ({ ...m, locals: m.locals.map((l) => ({ ...l })) })),
    bridgeDomains: [...state.bridgeDomains.values()].map((bd) => ({
      ...bd,
      members: state.members(bd.bd_id).map((i) => ({ sw_if_index: i.sw_if_index, port_type: i.bd?.port_type ?? 0 })),
    })),
  };
}
