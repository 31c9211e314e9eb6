import type { Descriptor } from '../scheduler/descriptor.js';
import { createAclDescriptor } from './acl.js';
import { arpDescriptor } from './arp.js';
import { bridgeDomainDescriptor } from './bridge-domain.js';
import { dnat44Descriptor } from './dnat44.js';
import { interfaceDescriptor } from './interface.js';
import { routeDescriptor } from './route.js';
import { vrfTableDescriptor } from './vrf-table.js';

/** Fresh descriptors of every built-in value kind, in retrieve order (VRF tables, interfaces first). */
export function builtinDescriptors(): Descriptor[] {
  return [vrfTableDescriptor, interfaceDescriptor, routeDescriptor, arpDescriptor, createAclDescriptor(), dnat44Descriptor, bridgeDomainDescriptor];
}
