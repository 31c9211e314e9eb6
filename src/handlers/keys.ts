// Keys and values of the built-in value kinds the handlers produce (API.md "Built-in value kinds").
import type { Value } from '../api/index.js';

export const INTERFACE_PREFIX = 'config/vpp/v2/interfaces/';
export const ROUTE_PREFIX = 'config/vpp/v2/route/';
export const ARP_PREFIX = 'config/vpp/v2/arp/';
export const ACL_PREFIX = 'config/vpp.acls/v2/acl/';
export const DNAT44_PREFIX = 'config/vpp.nat/v2/dnat44/';

export function interfaceKey(name: string): string {
  return INTERFACE_PREFIX + name;
}

export function routeKey(outgoingInterface: string, vrf: number, dstIp: string, prefixLength: number, gw?: string): string {
  const base = `${ROUTE_PREFIX}if/${outgoingInterface}/vrf/${vrf}/dst/${dstIp}/${prefixLength}`;
  return gw === undefined ? base : `${base}/gw/${gw}`;
}

export function arpKey(iface: string, ip: string): string {
  return `${ARP_PREFIX}${iface}/${ip}`;
}

export function aclKey(name: string): string {
  return ACL_PREFIX + name;
}

export function dnat44Key(label: string): string {
  return DNAT44_PREFIX + label;
}

/** The three keys that connect one pod, in creation order. */
export interface PodConfig {
  readonly interfaceKey: string;
  readonly interface: Value;
  readonly routeKey: string;
  readonly route: Value;
  readonly arpKey: string;
  readonly arp: Value;
}

export function podConfig(ifName: string, ip: string, mac: string): PodConfig {
  return {
    interfaceKey: interfaceKey(ifName),
    interface: { name: ifName, type: 'TAP', enabled: true, ipAddresses: [`${ip}/32`], vrf: 0 },
    routeKey: routeKey(ifName, 0, ip, 32, ip),
    route: { vrfId: 0, dstNetwork: `${ip}/32`, nextHopAddr: ip, outgoingInterface: ifName },
    arpKey: arpKey(ifName, ip),
    arp: { interface: ifName, ipAddress: ip, physAddress: mac, static: true },
  };
}
