import { DUMP_DETAILS, lookup, replyName } from '../src/binapi/messages.js';
import { VppRetval } from '../src/binapi/retval.js';
import { DataplaneState } from './dataplane-state.js';
import { FieldError, type Fields } from './field-readers.js';
import { DUMP_HANDLERS, REQUEST_HANDLERS } from './handlers.js';
import { Mulberry32 } from './prng.js';
import type { SimCounters, SimFaults } from './sim-types.js';
import { snapshotOf } from './snapshot.js';
import type { SimSnapshot } from './sim-types.js';

export type OutMessage = Record<string, unknown>;

interface FaultSettings {
  errorRate: number;
  messages: ReadonlySet<string> | null;
  /** Per-message rates, which win over errorRate and messages for the names they list. */
  rates: ReadonlyMap<string, number> | null;
  latencyMs: number;
  stallUntil: number;
}

const MAX_CONTEXT = 0xffffffff;

/** `<request>_reply` per request name, built once: no string concatenation per reply. */
const REPLY_NAMES = new Map<string, string>();
function replyNameOf(request: string): string {
  let n = REPLY_NAMES.get(request);
  if (n === undefined) REPLY_NAMES.set(request, (n = replyName(request)));
  return n;
}

/**
 * The simulated VPP without threads: decoded request in, reply/details messages out. The worker
 * (worker.ts) moves bytes between the rings and this engine; tests can drive it directly.
 */
export class SimEngine {
  #state = new DataplaneState();
  #epoch: number;
  #prng: Mulberry32;
  #faults: FaultSettings = { errorRate: 0, messages: null, rates: null, latencyMs: 0, stallUntil: 0 };
  readonly #messages: Record<string, number> = Object.create(null) as Record<string, number>;
  readonly #injected: Record<string, number> = Object.create(null) as Record<string, number>;
  #protocolErrors = 0;
  #restarts = 0;
  #replies = 0;

  constructor(seed = 1, epoch = 1) {
    this.#prng = new Mulberry32(seed);
    this.#epoch = epoch >>> 0 || 1;
  }

  get state(): DataplaneState {
    return this.#state;
  }

  get epoch(): number {
    return this.#epoch;
  }

  get latencyMs(): number {
    return this.#faults.latencyMs;
  }

  /** ms until the stall ends (0 when not stalled). */
  stallRemaining(now: number): number {
    return Math.max(0, this.#faults.stallUntil - now);
  }

  protocolError(): void {
    this.#protocolErrors++;
  }

  /**
   * Answers one decoded message. Returns the messages to send back, in order (empty for a dump
   * with nothing to report), or null when the message is malformed (counted, nothing is sent).
   */
  handle(raw: unknown): OutMessage[] | null {
    try {
      return this.#handle(raw);
    } catch {
      // A message no handler foresaw costs a protocol error, never the sim's thread.
      return this.#malformed();
    }
  }

  #handle(raw: unknown): OutMessage[] | null {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return this.#malformed();
    const msg = raw as Fields;
    const name = msg['_msgname'];
    const context = msg['context'];
    if (typeof name !== 'string' || typeof context !== 'number' || !Number.isInteger(context) || context < 0 || context > MAX_CONTEXT) {
      return this.#malformed();
    }
    const dump = lookup(DUMP_HANDLERS, name);
    const handler = lookup(REQUEST_HANDLERS, name);
    if (!dump && !handler && name !== 'control_ping') return this.#malformed();
    this.#messages[name] = (this.#messages[name] ?? 0) + 1;
    let out: OutMessage[];
    if (name === 'control_ping') {
      out = [{ _msgname: 'control_ping_reply', context, retval: 0, vpe_pid: process.pid, epoch: this.#epoch }];
    } else if (dump) {
      out = this.#dump(name, context, dump, msg);
    } else if (this.#inject(name)) {
      this.#injected[name] = (this.#injected[name] ?? 0) + 1;
      out = [{ _msgname: replyNameOf(name), context, retval: VppRetval.UNSPECIFIED }];
    } else {
      out = [this.#apply(name, context, handler as NonNullable<typeof handler>, msg)];
    }
    this.#replies += out.length;
    return out;
  }

  #malformed(): null {
    this.#protocolErrors++;
    return null;
  }

  #inject(name: string): boolean {
    const f = this.#faults;
    const rate = f.rates?.get(name);
    if (rate !== undefined) return rate > 0 && this.#prng.next() < rate;
    if (f.errorRate <= 0 || (f.messages !== null && !f.messages.has(name))) return false;
    return this.#prng.next() < f.errorRate;
  }

  #apply(name: string, context: number, handler: (s: DataplaneState, m: Fields) => Record<string, unknown> | undefined, msg: Fields): OutMessage {
    try {
      const extra = handler(this.#state, msg);
      const reply = replyNameOf(name);
      return extra ? { _msgname: reply, context, retval: 0, ...extra } : { _msgname: reply, context, retval: 0 };
    } catch (err) {
      const retval = err instanceof FieldError ? err.retval : VppRetval.UNSPECIFIED;
      return { _msgname: replyNameOf(name), context, retval };
    }
  }

  #dump(name: string, context: number, dump: (s: DataplaneState, m: Fields) => OutMessage[], msg: Fields): OutMessage[] {
    const details = DUMP_DETAILS[name] as string;
    let items: OutMessage[];
    try {
      items = dump(this.#state, msg);
    } catch {
      // VPP answers an invalid dump with no details; the control_ping that follows still ends it.
      return [];
    }
    return items.map((fields) => ({ _msgname: details, context, ...fields }));
  }

  setFaults(f: SimFaults, now: number): void {
    if (f.seed !== undefined) this.#prng = new Mulberry32(f.seed);
    if (f.errorRate !== undefined) this.#faults.errorRate = f.errorRate;
    if (f.messages !== undefined) this.#faults.messages = f.messages.length === 0 ? null : new Set(f.messages.filter((m) => m !== 'control_ping'));
    if (f.errorRates !== undefined) {
      const rates = Object.entries(f.errorRates).filter(([m]) => m !== 'control_ping');
      this.#faults.rates = rates.length === 0 ? null : new Map(rates);
    }
    if (f.latencyMs !== undefined) this.#faults.latencyMs = f.latencyMs;
    if (f.stallMs !== undefined) this.#faults.stallUntil = f.stallMs > 0 ? now + f.stallMs : 0;
  }

  /** Loses all state; sw_if_index allocation starts over; the epoch changes. */
  restart(): void {
    this.#state = new DataplaneState();
    this.#epoch = (this.#epoch + 1) >>> 0 || 1;
    this.#restarts++;
  }

  snapshot(): SimSnapshot {
    return snapshotOf(this.#state, this.#epoch);
  }

  counters(): SimCounters {
    return {
      messages: { ...this.#messages },
      errorsInjected: { ...this.#injected },
      protocolErrors: this.#protocolErrors,
      restarts: this.#restarts,
      replies: this.#replies,
      epoch: this.#epoch,
    };
  }
}

const FAULT_NAMES: ReadonlySet<string> = new Set<keyof SimFaults>(['errorRate', 'messages', 'errorRates', 'latencyMs', 'stallMs', 'seed']);

/** Validates fault settings (one place); throws TypeError/RangeError naming the field. */
export function validateFaults(f: unknown): SimFaults {
  if (typeof f !== 'object' || f === null) throw new TypeError(`faults: expected an object, received ${f === null ? 'null' : typeof f}`);
  const o = f as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    // A misspelt fault would silently inject nothing.
    if (!FAULT_NAMES.has(k)) throw new TypeError(`faults.${k} is not a fault (known: ${[...FAULT_NAMES].join(', ')})`);
  }
  const num = (k: string, max: number): void => {
    const v = o[k];
    if (v === undefined) return;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new TypeError(`faults.${k}: expected a finite number, received ${typeof v === 'number' ? String(v) : typeof v}`);
    if (v < 0 || v > max) throw new RangeError(`faults.${k}: expected 0..${max}, received ${v}`);
  };
  num('errorRate', 1);
  num('latencyMs', 60_000);
  num('stallMs', 600_000);
  if (o['seed'] !== undefined && (typeof o['seed'] !== 'number' || !Number.isInteger(o['seed']))) {
    throw new TypeError(`faults.seed: expected an integer, received ${String(o['seed'])}`);
  }
  const rates = o['errorRates'];
  if (rates !== undefined) {
    if (typeof rates !== 'object' || rates === null || Array.isArray(rates)) throw new TypeError('faults.errorRates: expected an object of message name -> rate (0..1)');
    for (const [name, r] of Object.entries(rates)) {
      if (typeof r !== 'number' || !Number.isFinite(r) || r < 0 || r > 1) throw new RangeError(`faults.errorRates.${name}: expected a rate in 0..1, received ${String(r)}`);
    }
  }
  const m = o['messages'];
  if (m !== undefined && (!Array.isArray(m) || m.some((x) => typeof x !== 'string'))) {
    throw new TypeError('faults.messages: expected an array of message names');
  }
  return o as SimFaults;
}
