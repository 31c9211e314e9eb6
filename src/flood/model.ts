// The model of what the handlers should have produced, computed independently of the engine's
// history: the check behind `modelDivergence` in the report.
import { DBResync, type KeyValuePairs, type KubeStateData, type ResyncOperations, type Value } from '../api/index.js';
import { DNAT44_PREFIX, builtinDescriptors } from '../descriptors/index.js';
import { builtinHandlers } from '../handlers/index.js';
import { compareStates, type Divergence } from './divergence.js';
import { SYNTHETIC_VRF_BASE, syntheticSlots, vrfKey } from './synthetic-handlers.js';

class Collector implements ResyncOperations {
  readonly values = new Map<string, Value>();
  put(key: string, value: Value): void {
    this.values.set(key, value);
  }
  get(key: string): Value | undefined {
    return this.values.get(key);
  }
}

/**
 * Built-in mode: after the final full resync the desired state is what a fresh set of handlers
 * renders from the final Kubernetes state, plus the external configuration. Pod addresses depend
 * on the allocation history, so they are compared as placeholders (and their uniqueness checked
 * apart); service backends (DNAT local addresses, from the Endpoints) are compared exactly.
 */
export function builtinModel(kubeState: KubeStateData, external: KeyValuePairs, podSubnet?: string): Map<string, Value> {
  const txn = new Collector();
  const event = new DBResync({ kubeState, externalConfig: external });
  for (const h of builtinHandlers(podSubnet === undefined ? undefined : { podSubnet })) {
    if (h.handlesEvent(event)) void h.resync(event, kubeState, 1, txn);
  }
  for (const [k, v] of external) txn.values.set(k, v);
  return txn.values;
}

/** Synthetic mode: each handler's slot is present when an odd number of events toggled it. */
export function syntheticModel(handlers: number, keysPerEvent: number, events: number): Map<string, Value> {
  const slots = syntheticSlots(keysPerEvent);
  const out = new Map<string, Value>();
  const visits = new Uint32Array(slots);
  for (let i = 0; i < events; i++) {
    const base = (i * keysPerEvent) % slots;
    for (let k = 0; k < keysPerEvent; k++) visits[(base + k) % slots]! += 1;
  }
  for (let h = 0; h < handlers; h++) {
    for (let s = 0; s < slots; s++) {
      if (visits[s]! % 2 === 0) continue;
      const id = SYNTHETIC_VRF_BASE + h * slots + s;
      out.set(vrfKey(id), { id, protocol: 'IPV4', label: `synthetic-${h}` });
    }
  }
  return out;
}

const POD_IP = /\b10\.1\.\d{1,3}\.\d{1,3}\b/g;

function normalise(state: ReadonlyMap<string, Value>): Map<string, Value> {
  const out = new Map<string, Value>();
  for (const [k, v] of state) {
    // DNAT local addresses come from the Endpoints as generated, not from the allocation: exact.
    if (k.startsWith(DNAT44_PREFIX)) out.set(k, v);
    else out.set(k.replace(POD_IP, 'POD-IP'), JSON.parse(JSON.stringify(v).replace(POD_IP, 'POD-IP')) as Value);
  }
  return out;
}

/** The model's values in the normalized form the scheduler keeps (defaults filled in, lists sorted). */
export function normaliseValues(state: ReadonlyMap<string, Value>): Map<string, Value> {
  const descriptors = builtinDescriptors();
  const out = new Map<string, Value>();
  for (const [k, v] of state) {
    const d = descriptors.find((x) => k.startsWith(x.keyPrefix));
    let value = v;
    try {
      if (d !== undefined) value = d.validate(k, v);
    } catch {
      // An invalid model value stays as it is: the comparison then reports it.
    }
    out.set(k, value);
  }
  return out;
}

/** Compares the model with the desired state; pod addresses as placeholders when `podAddresses`. */
export function compareWithModel(model: ReadonlyMap<string, Value>, desired: ReadonlyMap<string, Value>, podAddresses: boolean): Divergence {
  const m = normaliseValues(model);
  return podAddresses ? compareStates(normalise(m), normalise(desired)) : compareStates(m, desired);
}

/** Pod interfaces sharing an address, or with an address outside the pod subnet: IPAM bugs. */
export function badPodAddresses(desired: ReadonlyMap<string, Value>): number {
  const seen = new Set<string>();
  let bad = 0;
  for (const [key, v] of desired) {
    if (!key.startsWith('config/vpp/v2/interfaces/tap-')) continue;
    const ip = (v['ipAddresses'] as unknown[] | undefined)?.[0];
    if (typeof ip !== 'string' || !ip.startsWith('10.1.') || seen.has(ip)) bad++;
    else seen.add(ip);
  }
  return bad;
}
