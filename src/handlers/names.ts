import { createHash } from 'node:crypto';

// Kubernetes object names, as the API server accepts them. The handlers build VPP names and keys
// from them (`tap-<namespace>.<name>`, `svc.<namespace>.<name>`), which stay unique only because a
// namespace has no dots and neither part has a '/'.

/** A DNS subdomain (RFC 1123): pod, service, endpoints and policy names. */
const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const MAX_NAME = 253;

/** A DNS label (RFC 1123): namespaces. */
const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const MAX_NAMESPACE = 63;

export function isK8sName(v: unknown): v is string {
  return typeof v === 'string' && v.length <= MAX_NAME && NAME.test(v);
}

export function isK8sNamespace(v: unknown): v is string {
  return typeof v === 'string' && v.length <= MAX_NAMESPACE && NAMESPACE.test(v);
}

/** `<name>/namespace/<namespace>`: the key of a namespaced value within its resource. */
const KEY = /(?:^|\/)([^/]+)\/namespace\/([^/]+)$/;

/** The object a key names, for a delete that carries no value; undefined when the key is not one. */
export function identityFromKey(key: string): { namespace: string; name: string; id: string } | undefined {
  const m = KEY.exec(key);
  if (m === null) return undefined;
  const [, name, namespace] = m as unknown as [string, string, string];
  if (!isK8sName(name) || !isK8sNamespace(namespace)) return undefined;
  return { namespace, name, id: `${namespace}/${name}` };
}

/** VPP names and tags (interface names, DNAT labels) are at most 63 bytes. */
export const MAX_VPP_NAME = 63;

/**
 * `readable` when it fits VPP, else `<prefix><128 bits of SHA-256 of id, hex>`: a short hash
 * (32 bits) is found colliding in a second, and two objects with one name would share, and
 * delete, each other's dataplane objects. The prefix must differ from every readable form's start.
 */
export function vppName(readable: string, prefix: string, id: string): string {
  if (readable.length <= MAX_VPP_NAME) return readable;
  return `${prefix}${createHash('sha256').update(id).digest('hex').slice(0, 32)}`;
}
