import { parseIpv4Subnet, type Ipv4Subnet } from './ipv4.js';

/** Options of the built-in handlers. */
export interface BuiltinHandlersOptions {
  /**
   * The subnet pod IPs are allocated from. The network address, the first host (the pods' gateway)
   * and the broadcast address are never handed out.
   * @default '10.1.0.0/16'
   */
  readonly podSubnet?: string;
}

export interface ResolvedHandlersOptions {
  readonly podSubnet: string;
  readonly subnet: Ipv4Subnet;
}

export const DEFAULT_POD_SUBNET = '10.1.0.0/16';

export function resolveHandlersOptions(options: BuiltinHandlersOptions | undefined): ResolvedHandlersOptions {
  if (options === undefined) options = {};
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`options must be an object, received ${options === null ? 'null' : typeof options}`);
  }
  const podSubnet = options.podSubnet ?? DEFAULT_POD_SUBNET;
  if (typeof podSubnet !== 'string') {
    throw new TypeError(`options.podSubnet must be a string like '10.1.0.0/16', received ${typeof podSubnet}`);
  }
  const subnet = parseIpv4Subnet(podSubnet);
  if (subnet === undefined) {
    throw new TypeError(`options.podSubnet must be an IPv4 CIDR without host bits like '10.1.0.0/16', received '${podSubnet}'`);
  }
  if (subnet.prefixLength < 8 || subnet.prefixLength > 29) {
    throw new RangeError(`options.podSubnet must have a prefix length from 8 to 29, received /${subnet.prefixLength}`);
  }
  return { podSubnet, subnet };
}
