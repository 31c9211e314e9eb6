import { MAX_TIMER_MS } from '../api/timers.js';

/** Controller configuration: durations in milliseconds, ages in minutes (the reference's keys and defaults). */
export interface ControllerConfig {
  /** Let the scheduler retry failed operations. @default true */
  readonly enableRetry: boolean;
  /** Delay before the first retry, ms. @default 1000 */
  readonly delayRetry: number;
  /** @default 3 */
  readonly maxRetryAttempts: number;
  /** Double the retry delay each attempt. @default true */
  readonly enableExpBackoffRetry: boolean;
  /** Used by the DB watcher: wait this long for the remote DB before resyncing from the local one, ms. @default 5000 */
  readonly delayLocalResync: number;
  /** The first DBResync must come within this, ms. @default 30000 */
  readonly startupResyncDeadline: number;
  /** @default false */
  readonly enablePeriodicHealing: boolean;
  /** ms. @default 60000 */
  readonly periodicHealingInterval: number;
  /** Delay of the healing resync after a failed event, ms. @default 5000 */
  readonly delayAfterErrorHealing: number;
  /** Used by the DB watcher, ms. @default 3000 */
  readonly remoteDBProbingInterval: number;
  /** @default true */
  readonly recordEventHistory: boolean;
  /** Records older than this are trimmed, minutes. @default 1440 */
  readonly eventHistoryAgeLimit: number;
  /** Records of events started within this many minutes after start() are never trimmed. @default 60 */
  readonly permanentlyRecordedInitPeriod: number;
  /** @default false */
  readonly enableVerification: boolean;
  /** Capacity of the event queue (and, separately, of the follow-up queue). @default 1000 */
  readonly eventQueueSize: number;
  /** Not in the reference: a cap on the number of history records (oldest trimmed first), 0 = no cap. @default 100000 */
  readonly eventHistoryMaxRecords: number;
  /** A handler promise that has not settled within this fails with HandlerTimeoutError, ms; 0 = off. @default 0 */
  readonly handlerTimeout: number;
  /** A commit that has not settled within this fails with CommitTimeoutError, ms; 0 = off. @default 0 */
  readonly commitTimeout: number;
}

export const DEFAULT_CONTROLLER_CONFIG: Readonly<ControllerConfig> = Object.freeze({
  enableRetry: true,
  delayRetry: 1000,
  maxRetryAttempts: 3,
  enableExpBackoffRetry: true,
  delayLocalResync: 5000,
  startupResyncDeadline: 30000,
  enablePeriodicHealing: false,
  periodicHealingInterval: 60000,
  delayAfterErrorHealing: 5000,
  remoteDBProbingInterval: 3000,
  recordEventHistory: true,
  eventHistoryAgeLimit: 1440,
  permanentlyRecordedInitPeriod: 60,
  enableVerification: false,
  eventQueueSize: 1000,
  eventHistoryMaxRecords: 100000,
  handlerTimeout: 0,
  commitTimeout: 0,
});

type Kind = 'boolean' | 'duration' | 'count' | 'positive-count';

const KINDS: { readonly [K in keyof ControllerConfig]: Kind } = {
  enableRetry: 'boolean',
  delayRetry: 'duration',
  maxRetryAttempts: 'count',
  enableExpBackoffRetry: 'boolean',
  delayLocalResync: 'duration',
  startupResyncDeadline: 'duration',
  enablePeriodicHealing: 'boolean',
  periodicHealingInterval: 'duration',
  delayAfterErrorHealing: 'duration',
  remoteDBProbingInterval: 'duration',
  recordEventHistory: 'boolean',
  eventHistoryAgeLimit: 'duration',
  permanentlyRecordedInitPeriod: 'duration',
  enableVerification: 'boolean',
  eventQueueSize: 'positive-count',
  eventHistoryMaxRecords: 'count',
  handlerTimeout: 'duration',
  commitTimeout: 'duration',
};

// Node's timers overflow above this and fire at once.
const TIMER_KEYS: ReadonlySet<string> = new Set([
  'startupResyncDeadline',
  'periodicHealingInterval',
  'delayAfterErrorHealing',
  'handlerTimeout',
  'commitTimeout',
  'delayRetry',
]);

function received(value: unknown): string {
  if (typeof value === 'string') return `"${value}"`;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  return typeof value;
}

/** Fills defaults and checks every key; a bad key or value throws TypeError/RangeError naming it. */
export function resolveControllerConfig(config: unknown): ControllerConfig {
  if (config === undefined) return { ...DEFAULT_CONTROLLER_CONFIG };
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new TypeError(`options.config must be an object, received ${received(config)}`);
  }
  const out: Record<string, unknown> = { ...DEFAULT_CONTROLLER_CONFIG };
  for (const [key, value] of Object.entries(config)) {
    if (!Object.hasOwn(KINDS, key)) {
      throw new TypeError(`options.config.${key} is not a controller option (known: ${Object.keys(KINDS).join(', ')})`);
    }
    if (value === undefined) continue;
    const kind = KINDS[key as keyof ControllerConfig];
    const name = `options.config.${key}`;
    if (kind === 'boolean') {
      if (typeof value !== 'boolean') throw new TypeError(`${name} must be a boolean, received ${received(value)}`);
    } else {
      if (typeof value !== 'number' || Number.isNaN(value)) {
        throw new TypeError(`${name} must be a number, received ${received(value)}`);
      }
      if (kind === 'duration') {
        if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a finite number >= 0, received ${value}`);
        if (TIMER_KEYS.has(key) && value > MAX_TIMER_MS) {
          throw new RangeError(`${name} must be <= ${MAX_TIMER_MS} ms, received ${value}`);
        }
      } else {
        const min = kind === 'positive-count' ? 1 : 0;
        if (!Number.isSafeInteger(value) || value < min) {
          throw new RangeError(`${name} must be an integer >= ${min}, received ${value}`);
        }
      }
    }
    out[key] = value;
  }
  if (out['enablePeriodicHealing'] === true && out['periodicHealingInterval'] === 0) {
    throw new RangeError('options.config.periodicHealingInterval must be > 0 when enablePeriodicHealing is set, received 0');
  }
  return out as unknown as ControllerConfig;
}
