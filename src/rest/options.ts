import { isIP } from 'node:net';
import type { HealthRegistry } from './health-registry.js';
import type { RestControllerSource, RestMetricsSource, RestSchedulerSource } from './sources.js';
import { MAX_TIMER_MS } from '../api/timers.js';

/** What `POST /controller/resync` does; its string result is echoed in the reply. */
export type ResyncTrigger = () => string | void | Promise<string | void>;

/** The subset of a pino logger the server writes to. */
export interface RestLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface RestServerOptions {
  /** Address to listen on. @default '127.0.0.1' */
  readonly host?: string;
  /** TCP port; 0 picks a free one (see `RestServer.url`). @default 9999 */
  readonly port?: number;
  /** When set, every endpoint but `/health` requires `Authorization: Bearer <token>`. @default none */
  readonly token?: string;
  /** Largest accepted request body, bytes; larger bodies get 413. @default 65536 */
  readonly bodyLimit?: number;
  /** Time to receive a whole request (headers and body), ms; a slower one gets 408. @default 30000 */
  readonly requestTimeout?: number;
  /** Serves `/controller/*`. */
  readonly controller?: RestControllerSource;
  /** What `POST /controller/resync` does. @default push a downstream `HealingResync(Periodic)` into `controller` */
  readonly resync?: ResyncTrigger;
  /** Serves `/scheduler/*`. */
  readonly scheduler?: RestSchedulerSource;
  /** Serves `/metrics` (e.g. an `EngineMetrics`). */
  readonly metrics?: RestMetricsSource;
  /** Serves the component states of `/health`. @default a registry nobody reports to (always ok) */
  readonly health?: HealthRegistry;
  /** Pino-compatible; receives one line per 5xx and the listen address. @default silent */
  readonly logger?: RestLogger;
}

export interface ResolvedRestOptions {
  readonly host: string;
  readonly port: number;
  readonly token: string | null;
  readonly bodyLimit: number;
  readonly requestTimeout: number;
  readonly logger: RestLogger;
}

const silent: RestLogger = { info() {}, warn() {}, error() {} };

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : `${typeof value} ${String(value)}`;
}

function hasMethod(name: string, value: unknown, method: string): void {
  if (value === undefined) return;
  if (value === null || typeof value !== 'object' || typeof (value as Record<string, unknown>)[method] !== 'function') {
    throw new TypeError(`options.${name} must have a ${method}() method, received ${describe(value)}`);
  }
}

/** Validates the server's options in one place. */
export function resolveRestOptions(options: RestServerOptions | undefined): ResolvedRestOptions {
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw new TypeError(`options must be an object, received ${describe(options)}`);
  }
  const o = options ?? {};
  const host = o.host ?? '127.0.0.1';
  if (typeof host !== 'string' || host.length === 0 || (isIP(host) === 0 && !/^[a-zA-Z0-9.-]+$/.test(host))) {
    throw new TypeError(`options.host must be an IP address or a host name, received ${describe(host)}`);
  }
  const port = o.port ?? 9999;
  if (typeof port !== 'number' || !Number.isInteger(port)) {
    throw new TypeError(`options.port must be an integer, received ${describe(port)}`);
  }
  if (port < 0 || port > 65535) throw new RangeError(`options.port must be between 0 and 65535, received ${port}`);
  const token = o.token ?? null;
  if (token !== null && (typeof token !== 'string' || token.length === 0)) {
    throw new TypeError(`options.token must be a non-empty string, received ${describe(token)}`);
  }
  const bodyLimit = o.bodyLimit ?? 65536;
  if (typeof bodyLimit !== 'number' || !Number.isInteger(bodyLimit)) {
    throw new TypeError(`options.bodyLimit must be an integer number of bytes, received ${describe(bodyLimit)}`);
  }
  if (bodyLimit < 1 || bodyLimit > 16 * 1024 * 1024) {
    throw new RangeError(`options.bodyLimit must be between 1 and ${16 * 1024 * 1024} bytes, received ${bodyLimit}`);
  }
  const requestTimeout = o.requestTimeout ?? 30_000;
  if (typeof requestTimeout !== 'number' || !Number.isInteger(requestTimeout)) {
    throw new TypeError(`options.requestTimeout must be an integer number of ms, received ${describe(requestTimeout)}`);
  }
  // Node checks requests against it every few seconds at most; 0 would disable it.
  if (requestTimeout < 1 || requestTimeout > MAX_TIMER_MS) {
    throw new RangeError(`options.requestTimeout must be between 1 and ${MAX_TIMER_MS} ms, received ${requestTimeout}`);
  }
  hasMethod('controller', o.controller, 'getEventHistory');
  hasMethod('metrics', o.metrics, 'metrics');
  hasMethod('health', o.health, 'report');
  if (o.scheduler !== undefined && (o.scheduler === null || typeof o.scheduler !== 'object')) {
    throw new TypeError(`options.scheduler must be an object, received ${describe(o.scheduler)}`);
  }
  if (o.resync !== undefined && typeof o.resync !== 'function') {
    throw new TypeError(`options.resync must be a function, received ${describe(o.resync)}`);
  }
  const logger = o.logger ?? silent;
  for (const level of ['info', 'warn', 'error'] as const) {
    if (typeof logger[level] !== 'function') throw new TypeError(`options.logger must have a ${level}() method, received ${describe(logger[level])}`);
  }
  return { host, port, token, bodyLimit, requestTimeout, logger };
}
