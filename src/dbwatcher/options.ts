import { hostname } from 'node:os';
import type { EventLoop } from '../api/events.js';
import { DEFAULT_KUBE_RESOURCES } from '../api/values.js';
import { DEFAULT_ROOT } from './k8s-layout.js';
import { MAX_TIMER_MS } from '../api/timers.js';

/** Where the watcher is: a discriminated set of states (see docs/dbwatcher.md). */
export type DbWatcherState = 'connecting' | 'remote' | 'local' | 'disconnected' | 'closed';

/** A pino-compatible logger (only these methods are used). */
export interface DbWatcherLogger {
  debug(obj: unknown, msg?: string): void;
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
}

/** The health hook shared with the controller's status check. */
export interface DbWatcherStatusCheck {
  reportStateChange(name: string, state: 'ok' | 'error', err?: Error | null): void;
}

export interface DbWatcherEtcdOptions {
  /** One or more client URLs, e.g. `http://127.0.0.1:2379`. */
  readonly hosts: string | readonly string[];
  /**
   * Milliseconds to wait while connecting.
   * @default 2000
   */
  readonly dialTimeout?: number;
  /**
   * Deadline in milliseconds of every unary etcd call (probe, snapshot ranges).
   * @default 10000
   */
  readonly requestTimeout?: number;
}

export interface DbWatcherOptions {
  /** Where the events go: a `Controller` or anything with `pushEvent`. */
  readonly eventLoop: EventLoop;
  /** The remote database. */
  readonly etcd: DbWatcherEtcdOptions;
  /**
   * Directory of the local lmdb mirror; without it no mirror is kept and no local resync happens.
   * @default undefined
   */
  readonly localDbPath?: string;
  /**
   * Root of every key; must start and end with `/`.
   * @default '/vnf-agent/'
   */
  readonly root?: string;
  /**
   * This node's label: external configuration is read from `<root><nodeLabel>/config/`.
   * @default os.hostname()
   */
  readonly nodeLabel?: string;
  /**
   * Kubernetes resource keywords to watch, one etcd sub-prefix each.
   * @default ['pod', 'namespace', 'service', 'endpoints', 'policy', 'node']
   */
  readonly resources?: readonly string[];
  /**
   * Milliseconds after `start()` before resyncing from the local mirror when etcd is still away.
   * @default 5000
   */
  readonly delayLocalResync?: number;
  /**
   * Milliseconds between probes of etcd (and between reconnect attempts, before backoff).
   * @default 3000
   */
  readonly remoteDBProbingInterval?: number;
  /**
   * Upper bound in milliseconds of the reconnect backoff (doubling from `remoteDBProbingInterval`).
   * @default 30000
   */
  readonly maxProbingInterval?: number;
  /**
   * First delay in milliseconds before re-pushing events the loop refused as full (doubles up to 1000).
   * @default 5
   */
  readonly pushRetryDelay?: number;
  /**
   * Name reported to the status check.
   * @default 'dbwatcher'
   */
  readonly name?: string;
  /** Health hook: `error` while etcd is away or a value was invalid, `ok` once resynced from etcd. */
  readonly statusCheck?: DbWatcherStatusCheck;
  /** Called on every state change. */
  readonly onStateChange?: (state: DbWatcherState, previous: DbWatcherState) => void;
  /**
   * pino-compatible logger.
   * @default silent
   */
  readonly logger?: DbWatcherLogger;
}

export interface ResolvedDbWatcherOptions {
  readonly eventLoop: EventLoop;
  readonly hosts: readonly string[];
  readonly dialTimeout: number;
  readonly requestTimeout: number;
  readonly localDbPath: string | undefined;
  readonly root: string;
  readonly nodeLabel: string;
  readonly resources: readonly string[];
  readonly delayLocalResync: number;
  readonly remoteDBProbingInterval: number;
  readonly maxProbingInterval: number;
  readonly pushRetryDelay: number;
  readonly name: string;
  readonly statusCheck: DbWatcherStatusCheck | undefined;
  readonly onStateChange: ((state: DbWatcherState, previous: DbWatcherState) => void) | undefined;
  readonly logger: DbWatcherLogger;
}

const noop = (): void => {};
export const silentLogger: DbWatcherLogger = Object.freeze({ debug: noop, info: noop, warn: noop, error: noop });

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
  if (typeof v === 'number') return `the number ${v}`;
  return typeof v;
}

function duration(name: string, v: unknown, dflt: number, min: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new TypeError(`options.${name} must be a finite number of milliseconds; received ${describe(v)}`);
  }
  if (v < min) throw new RangeError(`options.${name} must be >= ${min}; received ${v}`);
  // Node runs a timer of more than 2^31 - 1 ms after 1 ms: probing would spin.
  if (v > MAX_TIMER_MS) throw new RangeError(`options.${name} must be <= ${MAX_TIMER_MS} (the longest timer); received ${v}`);
  return v;
}

function nonEmptyString(name: string, v: unknown): string {
  if (typeof v !== 'string' || v.length === 0) {
    throw new TypeError(`options.${name} must be a non-empty string; received ${describe(v)}`);
  }
  return v;
}

/** Validates every option in one place and fills the defaults. */
export function resolveDbWatcherOptions(options: unknown): ResolvedDbWatcherOptions {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`options must be an object; received ${describe(options)}`);
  }
  const o = options as Record<string, unknown>;
  const loop = o['eventLoop'] as { pushEvent?: unknown } | undefined;
  if (typeof loop !== 'object' || loop === null || typeof loop.pushEvent !== 'function') {
    throw new TypeError(`options.eventLoop must be an object with a pushEvent() method; received ${describe(loop)}`);
  }
  const etcd = o['etcd'] as Record<string, unknown> | undefined;
  if (typeof etcd !== 'object' || etcd === null) {
    throw new TypeError(`options.etcd must be an object { hosts, dialTimeout? }; received ${describe(etcd)}`);
  }
  const rawHosts = etcd['hosts'];
  const hosts = typeof rawHosts === 'string' ? [rawHosts] : rawHosts;
  if (!Array.isArray(hosts) || hosts.length === 0 || hosts.some((h) => typeof h !== 'string' || h.length === 0)) {
    throw new TypeError(`options.etcd.hosts must be a URL string or a non-empty array of them; received ${describe(rawHosts)}`);
  }
  const endpoints = (hosts as string[]).map((h) => {
    const endpoint = etcdEndpoint(h);
    if (endpoint === undefined) {
      throw new RangeError(`options.etcd.hosts: ${JSON.stringify(h)} is not an etcd endpoint (http(s)://HOST:PORT or HOST:PORT, a port 1-65535, no path)`);
    }
    return endpoint;
  });
  const root = o['root'] === undefined ? DEFAULT_ROOT : nonEmptyString('root', o['root']);
  if (!root.startsWith('/') || !root.endsWith('/')) {
    throw new RangeError(`options.root must start and end with "/"; received ${JSON.stringify(root)}`);
  }
  const nodeLabel = o['nodeLabel'] === undefined ? hostname() : nonEmptyString('nodeLabel', o['nodeLabel']);
  if (nodeLabel.includes('/')) {
    throw new RangeError(`options.nodeLabel must not contain "/"; received ${JSON.stringify(nodeLabel)}`);
  }
  let resources: readonly string[] = DEFAULT_KUBE_RESOURCES;
  if (o['resources'] !== undefined) {
    const r = o['resources'];
    if (!Array.isArray(r) || r.some((x) => typeof x !== 'string' || x.length === 0 || x.includes('/'))) {
      throw new TypeError(`options.resources must be an array of resource keywords without "/"; received ${describe(r)}`);
    }
    resources = Object.freeze([...new Set(r as string[])]);
  }
  const localDbPath = o['localDbPath'] === undefined ? undefined : nonEmptyString('localDbPath', o['localDbPath']);
  const statusCheck = o['statusCheck'] as DbWatcherStatusCheck | undefined;
  if (statusCheck !== undefined && typeof statusCheck?.reportStateChange !== 'function') {
    throw new TypeError(`options.statusCheck must have a reportStateChange() method; received ${describe(statusCheck)}`);
  }
  const onStateChange = o['onStateChange'];
  if (onStateChange !== undefined && typeof onStateChange !== 'function') {
    throw new TypeError(`options.onStateChange must be a function; received ${describe(onStateChange)}`);
  }
  const logger = (o['logger'] ?? silentLogger) as DbWatcherLogger;
  for (const m of ['debug', 'info', 'warn', 'error'] as const) {
    if (typeof logger[m] !== 'function') throw new TypeError(`options.logger must have a ${m}() method; received ${describe(logger)}`);
  }
  const probing = duration('remoteDBProbingInterval', o['remoteDBProbingInterval'], 3000, 1);
  const resolved: ResolvedDbWatcherOptions = {
    eventLoop: loop as EventLoop,
    hosts: Object.freeze(endpoints),
    dialTimeout: duration('etcd.dialTimeout', etcd['dialTimeout'], 2000, 1),
    requestTimeout: duration('etcd.requestTimeout', etcd['requestTimeout'], 10_000, 1),
    localDbPath,
    root,
    nodeLabel,
    resources,
    delayLocalResync: duration('delayLocalResync', o['delayLocalResync'], 5000, 0),
    remoteDBProbingInterval: probing,
    maxProbingInterval: duration('maxProbingInterval', o['maxProbingInterval'], Math.max(30_000, probing), probing),
    pushRetryDelay: duration('pushRetryDelay', o['pushRetryDelay'], 5, 1),
    name: o['name'] === undefined ? 'dbwatcher' : nonEmptyString('name', o['name']),
    statusCheck,
    onStateChange: onStateChange as ResolvedDbWatcherOptions['onStateChange'],
    logger,
  };
  return Object.freeze(resolved);
}

/**
 * An etcd client endpoint as the client can dial it: `http(s)://HOST:PORT` or `HOST:PORT`, a port
 * 1-65535, no credentials, path or query; a trailing slash dropped (the client hands HOST:PORT on
 * to gRPC as it is, and `HOST:PORT/` never connects). Undefined when it is none.
 */
export function etcdEndpoint(endpoint: string): string | undefined {
  let url: URL;
  try {
    url = new URL(endpoint.includes('://') ? endpoint : `http://${endpoint}`);
  } catch {
    return undefined;
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') return undefined;
  if (url.username !== '' || url.password !== '' || url.pathname !== '/' || url.search !== '' || url.hash !== '') return undefined;
  // The port written out at the end (URL drops a scheme's default port: http://host:80), and no
  // empty query or fragment either, which URL does not show.
  if (!/:\d+\/?$/.test(endpoint) || (url.port !== '' && Number(url.port) < 1)) return undefined;
  return endpoint.replace(/\/$/, '');
}
