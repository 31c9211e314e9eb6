import { EngineError } from '../api/index.js';

/** The pod subnet has no free address left. */
export class IpamExhaustedError extends EngineError {
  constructor(subnet: string, podId: string) {
    super('ERR_IPAM_EXHAUSTED', `no free IP address in ${subnet} for pod ${podId}`);
  }
}

/** A Kubernetes value the handlers cannot read (missing name, not an object...). */
export class InvalidKubeValueError extends EngineError {
  constructor(resource: string, reason: string) {
    super('ERR_INVALID_KUBE_VALUE', `invalid ${resource} value: ${reason}`);
  }
}
