import { bestEffortLogger } from '../api/best-effort-logger.js';
import { MAX_TIMER_MS } from '../api/timers.js';

/** The subset of a pino logger the orchestrator writes to. */
export interface ResyncLogger {
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export interface ResyncOrchestratorOptions {
  /** How long a registration has to take the `Started` status event before it is skipped, ms. @default 1000 */
  readonly acceptTimeout?: number;
  /** How long to wait for `ack()` after the event was taken, ms. @default 10000 */
  readonly ackTimeout?: number;
  /** A pino-compatible logger. @default silent */
  readonly logger?: ResyncLogger;
}

export interface ResolvedResyncOptions {
  readonly acceptTimeout: number;
  readonly ackTimeout: number;
  readonly logger: ResyncLogger;
}

const silent: ResyncLogger = { warn() {}, info() {}, debug() {} };

function timeout(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TypeError(`options.${name} must be a finite number of milliseconds, received ${describe(value)}`);
  }
  // setTimeout clamps anything above 2^31-1 to 1 ms; refuse rather than fire early.
  if (value < 0 || value > MAX_TIMER_MS) {
    throw new RangeError(`options.${name} must be between 0 and ${MAX_TIMER_MS} ms, received ${value}`);
  }
  return value;
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : `${typeof value} ${String(value)}`;
}

/** Validates the orchestrator's options in one place. */
export function resolveResyncOptions(options: ResyncOrchestratorOptions | undefined): ResolvedResyncOptions {
  if (options === undefined) return { acceptTimeout: 1000, ackTimeout: 10000, logger: silent };
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`options must be an object, received ${describe(options)}`);
  }
  const logger = options.logger ?? silent;
  for (const level of ['warn', 'info', 'debug'] as const) {
    if (typeof logger[level] !== 'function') {
      throw new TypeError(`options.logger must have a ${level}() method, received ${describe(logger[level])}`);
    }
  }
  return {
    acceptTimeout: timeout('acceptTimeout', options.acceptTimeout, 1000),
    ackTimeout: timeout('ackTimeout', options.ackTimeout, 10000),
    logger: logger === silent ? silent : bestEffortLogger(logger, ['warn', 'info', 'debug']),
  };
}
