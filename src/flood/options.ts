// Flood options: one type, validated in one place (programmatic use and the command line alike).

import { MAX_TIMER_MS } from '../api/timers.js';

/** Options of a flood run. */
export interface FloodOptions {
  /** Stop after this many generated events (resyncs included). @default 10000, or unlimited with `durationS` */
  readonly events?: number;
  /** Stop after this many seconds. @default unlimited */
  readonly durationS?: number;
  /** Target events per second, or 'max' for as fast as the engine takes them. @default 'max' */
  readonly rate?: number | 'max';
  /** Synthetic mode: this many simple handlers instead of the built-in ones. @default null (built-in handlers) */
  readonly handlers?: number | null;
  /** Synthetic mode: keys each synthetic handler puts per event. @default 5 */
  readonly keysPerEvent?: number;
  /** Error rate injected into the simulated dataplane during the run (0..1). @default 0 */
  readonly faults?: number;
  /** Push a full DBResync every N events (0 = never). @default 0 */
  readonly resyncEvery?: number;
  /** Dataplane restarts spread evenly over the run. @default 0 */
  readonly restarts?: number;
  /** Seed of the event generator and of the fault injection. @default 1 */
  readonly seed?: number;
  /** Capacity of the controller's event queue. @default 1000 */
  readonly queueSize?: number;
  /** Largest number of live pods the generator keeps (built-in mode). @default 300 */
  readonly pods?: number;
  /**
   * The controller's `delayAfterErrorHealing` during the flood (ms): how soon a failed event is
   * followed by a healing resync. A healing resync that fails is fatal to the loop (SPEC C14), so
   * with heavy faults a delay longer than the run leaves the repair to the final heal.
   * @default 100
   */
  readonly healingDelayMs?: number;
  /**
   * Where the simulated VPP runs: its own thread behind the SharedArrayBuffer rings ('thread'), or
   * called in this thread without rings ('inline', a diagnostic baseline).
   * @default 'thread'
   */
  readonly dataplane?: 'thread' | 'inline';
  /** Give up waiting when no event finished for this long (ms): a stalled run reports, never hangs. @default 30000 */
  readonly stallTimeoutMs?: number;
}

export interface ResolvedFloodOptions {
  readonly events: number;
  readonly durationMs: number;
  readonly rate: number;
  readonly handlers: number | null;
  readonly keysPerEvent: number;
  readonly faults: number;
  readonly resyncEvery: number;
  readonly restarts: number;
  readonly seed: number;
  readonly queueSize: number;
  readonly pods: number;
  readonly dataplane: 'thread' | 'inline';
  readonly healingDelayMs: number;
  readonly stallTimeoutMs: number;
}

function describe(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  return typeof v;
}

function int(name: string, v: unknown, min: number, max: number, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`${name} must be an integer, received ${describe(v)}`);
  if (v < min || v > max) throw new RangeError(`${name} must be from ${min} to ${max}, received ${v}`);
  return v;
}

function num(name: string, v: unknown, min: number, max: number, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || Number.isNaN(v)) throw new TypeError(`${name} must be a number, received ${describe(v)}`);
  if (v < min || v > max) throw new RangeError(`${name} must be from ${min} to ${max}, received ${v}`);
  return v;
}

function dataplane(v: unknown): 'thread' | 'inline' {
  if (v === undefined) return 'thread';
  if (v !== 'thread' && v !== 'inline') throw new TypeError(`dataplane must be 'thread' or 'inline', received ${describe(v)}`);
  return v;
}

const FLOOD_OPTION_NAMES: ReadonlySet<string> = new Set<keyof FloodOptions>([
  'events',
  'durationS',
  'rate',
  'handlers',
  'keysPerEvent',
  'faults',
  'resyncEvery',
  'restarts',
  'seed',
  'queueSize',
  'pods',
  'healingDelayMs',
  'dataplane',
  'stallTimeoutMs',
]);

export function resolveFloodOptions(options: FloodOptions | undefined): ResolvedFloodOptions {
  const o = options ?? {};
  if (typeof o !== 'object' || o === null) throw new TypeError(`options must be an object, received ${describe(o)}`);
  for (const key of Object.keys(o)) {
    // A misspelt option would silently run with the default.
    if (!FLOOD_OPTION_NAMES.has(key)) throw new TypeError(`${key} is not a flood option (known: ${[...FLOOD_OPTION_NAMES].join(', ')})`);
  }
  const durationS = num('durationS', o.durationS, 0.001, 86_400, Number.POSITIVE_INFINITY);
  const events = int('events', o.events, 1, 1e9, Number.isFinite(durationS) ? 1e9 : 10_000);
  let rate = Number.POSITIVE_INFINITY;
  if (o.rate !== undefined && o.rate !== 'max') rate = num('rate', o.rate, 1, 1e7, rate);
  const handlers = o.handlers === undefined || o.handlers === null ? null : int('handlers', o.handlers, 1, 64, 1);
  if (handlers === null && o.keysPerEvent !== undefined) {
    throw new TypeError('keysPerEvent only applies to the synthetic mode: give handlers too (--handlers)');
  }
  return {
    events,
    durationMs: durationS * 1000,
    rate,
    handlers,
    keysPerEvent: int('keysPerEvent', o.keysPerEvent, 1, 1000, 5),
    faults: num('faults', o.faults, 0, 1, 0),
    resyncEvery: int('resyncEvery', o.resyncEvery, 0, 1e9, 0),
    restarts: int('restarts', o.restarts, 0, 1000, 0),
    seed: int('seed', o.seed, 0, 2 ** 32 - 1, 1),
    queueSize: int('queueSize', o.queueSize, 1, 1e7, 1000),
    pods: int('pods', o.pods, 1, 60_000, 300),
    dataplane: dataplane(o.dataplane),
    healingDelayMs: int('healingDelayMs', o.healingDelayMs, 0, MAX_TIMER_MS, 100),
    stallTimeoutMs: int('stallTimeoutMs', o.stallTimeoutMs, 100, 3_600_000, 30_000),
  };
}
