// Rebuilds the state a controller would hold from the DB watcher's events (DBResync replaces,
// changes apply), to check that no change was lost or duplicated. Test helper only.
import { DBResync, ExternalConfigChange, KubeStateChange, type Event } from '../../src/api/events.js';
import type { Value } from '../../src/api/values.js';

/** `kube/<resource>/<key>` and `config/...` keys to values, in key order (comparable with deepEqual). */
export function replay(events: readonly Event[]): Map<string, Value> {
  const state = new Map<string, Value>();
  for (const e of events) {
    if (e instanceof DBResync) {
      state.clear();
      for (const [resource, kvs] of e.kubeState) for (const [k, v] of kvs) state.set(`kube/${resource}/${k}`, v);
      for (const [k, v] of e.externalConfig) state.set(k, v);
    } else if (e instanceof KubeStateChange) {
      const k = `kube/${e.resource}/${e.key}`;
      if (e.newValue === null) state.delete(k);
      else state.set(k, e.newValue);
    } else if (e instanceof ExternalConfigChange) {
      for (const [k, v] of e.updatedKVs) {
        if (v === null) state.delete(k);
        else state.set(k, v);
      }
    }
  }
  return new Map([...state].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
