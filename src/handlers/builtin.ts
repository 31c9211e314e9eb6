import { IpamHandler } from './ipam.js';
import { resolveHandlersOptions, type BuiltinHandlersOptions } from './options.js';
import { PodNetworkHandler } from './pod-network.js';
import { PolicyHandler } from './policies.js';
import { ServiceHandler } from './services.js';

/** The built-in handlers, in dependency order. */
export type BuiltinHandlers = readonly [IpamHandler, PodNetworkHandler, ServiceHandler, PolicyHandler];

/**
 * The built-in handlers in dependency order (IPAM, pod networking, services, policies), sharing
 * their state (the pod handler reads the IPAM's addresses, the policy handler the connected pods).
 * Pass the array as `new Controller({ handlers })`; create a fresh set per controller.
 */
export function builtinHandlers(options?: BuiltinHandlersOptions): BuiltinHandlers {
  const resolved = resolveHandlersOptions(options);
  const ipam = new IpamHandler(resolved);
  const pods = new PodNetworkHandler(ipam);
  return [ipam, pods, new ServiceHandler(), new PolicyHandler(pods)];
}
