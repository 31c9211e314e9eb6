/** Key prefixes and builders of the built-in value kinds (ligato vpp-agent's key formats). */
import { canonicalCidr, canonicalIp } from './value-checks.js';

export const INTERFACE_PREFIX = 'config/vpp/v2/interfaces/';
export const VRF_TABLE_PREFIX = 'config/vpp/v2/vrf-table/';
export const ROUTE_PREFIX = 'config/vpp/v2/route/';
export const ARP_PREFIX = 'config/vpp/v2/arp/';
export const ACL_PREFIX = 'config/vpp.acls/v2/acl/';
export const DNAT44_PREFIX = 'config/vpp.nat/v2/dnat44/';
export const BRIDGE_DOMAIN_PREFIX = 'config/vpp.l2/v2/bridge-domain/';

export type IpProtocol = 'IPV4' | 'IPV6';

export function interfaceKey(name: string): string {
  return INTERFACE_PREFIX + name;
}

export function vrfTableKey(id: number, protocol: IpProtocol): string {
  return `${VRF_TABLE_PREFIX}id/${id}/protocol/${protocol}`;
}

/**
 * The key of a route. IPv6 addresses are written in their canonical form, as validation writes
 * the value's: a key built from "2001:DB8::/32" matches the value it names.
 */
export function routeKey(r: { outgoingInterface?: string; vrfId: number; dstNetwork: string; nextHopAddr?: string }): string {
  const ifPart = r.outgoingInterface ? `if/${r.outgoingInterface}/` : '';
  const gw = r.nextHopAddr ? `/gw/${v6(r.nextHopAddr)}` : '';
  return `${ROUTE_PREFIX}${ifPart}vrf/${r.vrfId}/dst/${v6Cidr(r.dstNetwork)}${gw}`;
}

export function arpKey(iface: string, ipAddress: string): string {
  return `${ARP_PREFIX}${iface}/${v6(ipAddress)}`;
}

/** IPv6 text in canonical form (IPv4 and anything else as given; only text with ':' is looked at). */
function v6(ip: string): string {
  return ip.includes(':') ? canonicalIp(ip) : ip;
}

function v6Cidr(cidr: string): string {
  return cidr.includes(':') ? canonicalCidr(cidr) : cidr;
}

export function aclKey(name: string): string {
  return ACL_PREFIX + name;
}

export function dnat44Key(label: string): string {
  return DNAT44_PREFIX + label;
}

export function bridgeDomainKey(name: string): string {
  return BRIDGE_DOMAIN_PREFIX + name;
}

/** The name part of a `<prefix><name>` key. */
export function nameOf(key: string, prefix: string): string {
  return key.slice(prefix.length);
}
