export { builtinHandlers, type BuiltinHandlers } from './builtin.js';
export { IpamHandler } from './ipam.js';
export { PodNetworkHandler, podInterfaceName, type LocalPod } from './pod-network.js';
export { ServiceHandler, serviceLabel } from './services.js';
export { PolicyHandler, podAclName } from './policies.js';
export { AddPod, DeletePod, type PodNetworkResult } from './pod-events.js';
export { IpamExhaustedError, InvalidKubeValueError } from './errors.js';
export { DEFAULT_POD_SUBNET, type BuiltinHandlersOptions } from './options.js';
