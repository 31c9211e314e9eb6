export { builtinDescriptors } from './builtin.js';
export { interfaceDescriptor, INTERFACE_TYPES } from './interface.js';
export type { InterfaceValue, InterfaceType } from './interface.js';
export { vrfTableDescriptor } from './vrf-table.js';
export type { VrfTableValue } from './vrf-table.js';
export { routeDescriptor } from './route.js';
export type { RouteValue } from './route.js';
export { arpDescriptor } from './arp.js';
export type { ArpValue } from './arp.js';
export { createAclDescriptor, ACL_ACTIONS } from './acl.js';
export type { AclValue, AclRuleValue, AclAction, PortRange } from './acl.js';
export { dnat44Descriptor, NAT_PROTOCOLS } from './dnat44.js';
export type { Dnat44Value, StaticMappingValue, LocalIpValue, NatProtocol } from './dnat44.js';
export { bridgeDomainDescriptor } from './bridge-domain.js';
export type { BridgeDomainValue, BridgedInterface } from './bridge-domain.js';
export {
  INTERFACE_PREFIX,
  VRF_TABLE_PREFIX,
  ROUTE_PREFIX,
  ARP_PREFIX,
  ACL_PREFIX,
  DNAT44_PREFIX,
  BRIDGE_DOMAIN_PREFIX,
  interfaceKey,
  vrfTableKey,
  routeKey,
  arpKey,
  aclKey,
  dnat44Key,
  bridgeDomainKey,
} from './keys.js';
export type { IpProtocol } from './keys.js';
