import { DBResync, ExternalConfigChange, ExternalConfigResync } from '../api/events.js';
import type { Event } from '../api/events.js';
import type { KeyValuePairs, KubeStateData, Value } from '../api/values.js';

/** What a built-in event changes in the controller's own state, read whole before anything changes. */
export type Payload =
  | { readonly kind: 'db'; readonly kubeState: KubeStateData; readonly externalConfig: KeyValuePairs }
  | { readonly kind: 'ext-resync'; readonly source: string; readonly externalConfig: KeyValuePairs }
  | { readonly kind: 'ext-change'; readonly source: string; readonly changes: ReadonlyArray<readonly [string, Value | null]> }
  | null;

/**
 * Reads the payload of a DBResync or an external-config event. Throws a TypeError when it is not the
 * maps the event declares (an event built by hand, or decoded from bad input): the event then fails
 * as invalid with nothing of it applied, instead of half of it (SPEC C19).
 */
export function readPayload(event: Event): Payload {
  if (event instanceof DBResync) {
    const kubeState: KubeStateData = new Map();
    for (const [resource, kvs] of mapOf(event.kubeState, 'kubeState')) kubeState.set(resource, new Map(mapOf(kvs, `kubeState[${String(resource)}]`)));
    return { kind: 'db', kubeState, externalConfig: new Map(mapOf(event.externalConfig, 'externalConfig')) };
  }
  if (event instanceof ExternalConfigResync) {
    return { kind: 'ext-resync', source: String(event.source), externalConfig: new Map(mapOf(event.externalConfig, 'externalConfig')) };
  }
  if (event instanceof ExternalConfigChange) {
    return { kind: 'ext-change', source: String(event.source), changes: [...mapOf(event.updatedKVs, 'updatedKVs')] };
  }
  return null;
}

function mapOf<K, V>(v: ReadonlyMap<K, V> | undefined, name: string): ReadonlyMap<K, V> {
  if (!(v instanceof Map)) throw new TypeError(`${name} must be a Map, received ${v === null ? 'null' : typeof v}`);
  return v;
}
