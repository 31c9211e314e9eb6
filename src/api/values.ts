/** A plain, msgpack-serializable object: the stand-in for a protobuf message. Immutable once handed over. */
export type Value = Readonly<Record<string, unknown>>;

/** A set of key-value pairs. */
export type KeyValuePairs = Map<string, Value>;

/** A change set: `null` deletes the key. */
export type KeyValueChanges = Map<string, Value | null>;

/** Kubernetes state data organised by resource keyword. */
export type KubeStateData = Map<string, KeyValuePairs>;

/** Resource keywords of the Kubernetes state watched by default. */
export const DEFAULT_KUBE_RESOURCES: readonly string[] = Object.freeze([
  'pod',
  'namespace',
  'service',
  'endpoints',
  'policy',
  'node',
]);

/** Returns one empty map per resource keyword. */
export function newKubeStateData(resources: readonly string[] = DEFAULT_KUBE_RESOURCES): KubeStateData {
  const data: KubeStateData = new Map();
  for (const resource of resources) data.set(resource, new Map());
  return data;
}
