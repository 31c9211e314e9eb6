import type { Value } from '../api/values.js';
import { InvalidDbValueError } from './errors.js';
import { externalConfigPrefix, kubeResourcePrefix, kubeStatePrefix } from './k8s-layout.js';

/** Where an etcd key belongs: a Kubernetes resource, this node's external config, or nowhere. */
export type RoutedKey =
  | { readonly kind: 'kube'; readonly resource: string; readonly key: string }
  | { readonly kind: 'config'; readonly key: string };

/** Maps etcd keys to the keys the events carry, for one root / node label / resource set. */
export class KeyRouter {
  readonly kubePrefix: string;
  readonly configPrefix: string;
  readonly #configStrip: number;
  readonly #resources: ReadonlySet<string>;
  readonly resourcePrefixes: readonly string[];

  constructor(root: string, nodeLabel: string, resources: readonly string[]) {
    this.kubePrefix = kubeStatePrefix(root);
    this.configPrefix = externalConfigPrefix(nodeLabel, root);
    this.#configStrip = `${root}${nodeLabel}/`.length;
    this.#resources = new Set(resources);
    this.resourcePrefixes = resources.map((r) => kubeResourcePrefix(r, root));
  }

  /** The watched prefixes: one per resource, then the external-config prefix. */
  get prefixes(): readonly string[] {
    return [...this.resourcePrefixes, this.configPrefix];
  }

  route(etcdKey: string): RoutedKey | null {
    if (etcdKey.startsWith(this.kubePrefix)) {
      const slash = etcdKey.indexOf('/', this.kubePrefix.length);
      if (slash < 0 || slash === etcdKey.length - 1) return null;
      const resource = etcdKey.slice(this.kubePrefix.length, slash);
      if (!this.#resources.has(resource)) return null;
      return { kind: 'kube', resource, key: etcdKey.slice(slash + 1) };
    }
    if (etcdKey.startsWith(this.configPrefix) && etcdKey.length > this.configPrefix.length) {
      return { kind: 'config', key: etcdKey.slice(this.#configStrip) };
    }
    return null;
  }
}

/** Parses a stored value: it must be a JSON object. Throws `InvalidDbValueError` otherwise. */
export function parseDbValue(etcdKey: string, bytes: Uint8Array): Value {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (err) {
    throw new InvalidDbValueError(etcdKey, `not JSON (${(err as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidDbValueError(etcdKey, `expected a JSON object, got ${parsed === null ? 'null' : Array.isArray(parsed) ? 'an array' : typeof parsed}`);
  }
  if (tooDeep(parsed, MAX_VALUE_DEPTH)) throw new InvalidDbValueError(etcdKey, `nested deeper than ${MAX_VALUE_DEPTH} levels`);
  return parsed as Value;
}

/**
 * Configuration is a few levels deep; a value nested far deeper is bad input, refused here before
 * the recursive code downstream (encoders, comparisons, the mirror) runs out of stack on it.
 */
export const MAX_VALUE_DEPTH = 64;

/** Whether `root` nests objects or arrays deeper than `max` (iterative: no recursion to overflow). */
function tooDeep(root: object, max: number): boolean {
  const stack: Array<[object, number]> = [[root, 1]];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const [node, depth] = item;
    for (const child of Object.values(node)) {
      if (typeof child !== 'object' || child === null) continue;
      if (depth + 1 > max) return true;
      stack.push([child as object, depth + 1]);
    }
  }
  return false;
}
