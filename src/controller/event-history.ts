import type { EventMethodType } from '../api/enums.js';
import type { RecordedTxn } from '../api/scheduler.js';
import type { EventHistoryQuery, EventRecord, HandlerRecord } from './types.js';

const MINUTE_MS = 60_000;
const INITIAL_CAPACITY = 1024;
/** Dropped permanent records are compacted away once there are this many (and half the queue). */
const COMPACT_AFTER = 1024;

function checkNumber(name: string, v: unknown): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new RangeError(`query.${name} must be a finite number >= 0, received ${String(v)}`);
  }
}

/**
 * Event records in processing order. Records of events started within the first
 * `permanentlyRecordedInitPeriod` minutes are kept apart and never trimmed by age. The others live in a
 * columnar ring (typed arrays for numbers): recording an event retains no per-event object beyond what
 * the event itself produced, which keeps the loop's garbage collection cheap; records are built on query.
 * The `maxRecords` cap drops the oldest record of all: the permanent ones are the oldest, so they go
 * first (otherwise a history filled during the init period would keep no new record ever again).
 */
export class EventHistory {
  // Permanent records from #permHead on (a queue: dropping the oldest is O(1), compacted now and then).
  #permanent: Array<EventRecord | undefined> = [];
  #permHead = 0;
  readonly #ageLimitMs: number;
  readonly #initPeriodMs: number;
  readonly #maxRecords: number;
  #startedAt = 0;

  #cap = 0;
  #head = 0;
  #len = 0;
  #seqNum = new Float64Array(0);
  #start = new Float64Array(0);
  #end = new Float64Array(0);
  // NaN = not a follow-up.
  #followUpTo = new Float64Array(0);
  #method = new Uint8Array(0);
  #name: string[] = [];
  #description: string[] = [];
  #handlers: Array<readonly HandlerRecord[]> = [];
  #txnError: Array<Error | null> = [];
  #txn: Array<RecordedTxn | null> = [];

  constructor(ageLimitMin: number, initPeriodMin: number, maxRecords: number) {
    this.#ageLimitMs = ageLimitMin * MINUTE_MS;
    this.#initPeriodMs = initPeriodMin * MINUTE_MS;
    this.#maxRecords = maxRecords;
  }

  /** Start of the permanently recorded period. */
  setStart(now: number): void {
    this.#startedAt = now;
  }

  get size(): number {
    return this.#permanent.length - this.#permHead + this.#len;
  }

  add(
    seqNum: number,
    processingStart: number,
    processingEnd: number,
    followUpTo: number | null,
    name: string,
    description: string,
    method: EventMethodType,
    handlers: readonly HandlerRecord[],
    txnError: Error | null,
    txn: RecordedTxn | null,
  ): void {
    const max = this.#maxRecords;
    if (max !== 0 && this.size >= max) {
      if (this.#permanent.length > this.#permHead) this.#dropOldestPermanent();
      else this.#dropOldest();
    }
    // Permanent records stay a prefix of the history: none once a record went into the ring.
    if (processingStart < this.#startedAt + this.#initPeriodMs && this.#len === 0) {
      // Frozen, as the records a query builds from the ring are fresh: callers cannot change the history.
      const record: EventRecord = Object.freeze({
        seqNum,
        processingStart,
        processingEnd,
        isFollowUp: followUpTo !== null,
        followUpTo,
        name,
        description,
        method,
        handlers,
        txnError,
        txn,
      });
      this.#permanent.push(record);
      return;
    }
    if (this.#len === this.#cap) this.#grow();
    const i = (this.#head + this.#len) % this.#cap;
    this.#len++;
    this.#seqNum[i] = seqNum;
    this.#start[i] = processingStart;
    this.#end[i] = processingEnd;
    this.#followUpTo[i] = followUpTo ?? NaN;
    this.#method[i] = method;
    this.#name[i] = name;
    this.#description[i] = description;
    this.#handlers[i] = handlers;
    this.#txnError[i] = txnError;
    this.#txn[i] = txn;
  }

  /** Drops records older than the age limit (except the permanent ones); returns how many. */
  trim(now: number): number {
    const limit = now - this.#ageLimitMs;
    let trimmed = 0;
    while (this.#len > 0 && (this.#start[this.#head] as number) < limit) {
      this.#dropOldest();
      trimmed++;
    }
    return trimmed;
  }

  query(q: EventHistoryQuery = {}): EventRecord[] {
    if (typeof q !== 'object' || q === null) throw new TypeError(`query must be an object, received ${String(q)}`);
    for (const name of ['seqNum', 'since', 'until', 'from', 'to', 'first', 'last'] as const) checkNumber(name, q[name]);
    const all = this.#all();
    if (q.seqNum !== undefined) {
      const r = all.find((rec) => rec.seqNum === q.seqNum);
      return r ? [r] : [];
    }
    if (q.since !== undefined || q.until !== undefined) {
      const since = q.since ?? -Infinity;
      const until = q.until ?? Infinity;
      return all.filter((r) => r.processingEnd >= since && r.processingStart <= until);
    }
    if (q.from !== undefined || q.to !== undefined) {
      const from = q.from ?? -Infinity;
      const to = q.to ?? Infinity;
      return all.filter((r) => r.seqNum >= from && r.seqNum <= to);
    }
    if (q.first !== undefined) return all.slice(0, Math.floor(q.first));
    if (q.last !== undefined) return q.last < 1 ? [] : all.slice(-Math.floor(q.last));
    return all;
  }

  #all(): EventRecord[] {
    // Entries before #permHead are the dropped ones (undefined); from it on, records.
    const out = this.#permanent.slice(this.#permHead) as EventRecord[];
    for (let k = 0; k < this.#len; k++) out.push(this.#at((this.#head + k) % this.#cap));
    return out;
  }

  #at(i: number): EventRecord {
    const followUpTo = this.#followUpTo[i] as number;
    return {
      seqNum: this.#seqNum[i] as number,
      processingStart: this.#start[i] as number,
      processingEnd: this.#end[i] as number,
      isFollowUp: !Number.isNaN(followUpTo),
      followUpTo: Number.isNaN(followUpTo) ? null : followUpTo,
      name: this.#name[i] as string,
      description: this.#description[i] as string,
      method: this.#method[i] as EventMethodType,
      handlers: this.#handlers[i] as readonly HandlerRecord[],
      txnError: this.#txnError[i] ?? null,
      txn: this.#txn[i] ?? null,
    };
  }

  #dropOldestPermanent(): void {
    this.#permanent[this.#permHead++] = undefined;
    if (this.#permHead >= COMPACT_AFTER && this.#permHead * 2 >= this.#permanent.length) {
      this.#permanent = this.#permanent.slice(this.#permHead);
      this.#permHead = 0;
    }
  }

  #dropOldest(): void {
    const i = this.#head;
    // Release references so trimmed records can be collected.
    this.#description[i] = '';
    this.#handlers[i] = [];
    this.#txnError[i] = null;
    this.#txn[i] = null;
    this.#head = (i + 1) % this.#cap;
    this.#len--;
  }

  #grow(): void {
    const max = this.#maxRecords;
    let cap = this.#cap === 0 ? INITIAL_CAPACITY : this.#cap * 2;
    if (max !== 0) cap = Math.min(cap, max);
    const order = (k: number): number => (this.#head + k) % this.#cap;
    const f64 = (old: Float64Array): Float64Array<ArrayBuffer> => {
      const next = new Float64Array(cap);
      for (let k = 0; k < this.#len; k++) next[k] = old[order(k)] as number;
      return next;
    };
    const list = <T>(old: T[], fill: T): T[] => {
      const next = new Array<T>(cap).fill(fill);
      for (let k = 0; k < this.#len; k++) next[k] = old[order(k)] as T;
      return next;
    };
    const method = new Uint8Array(cap);
    for (let k = 0; k < this.#len; k++) method[k] = this.#method[order(k)] as number;
    this.#seqNum = f64(this.#seqNum);
    this.#start = f64(this.#start);
    this.#end = f64(this.#end);
    this.#followUpTo = f64(this.#followUpTo);
    this.#method = method;
    this.#name = list(this.#name, '');
    this.#description = list(this.#description, '');
    this.#handlers = list<readonly HandlerRecord[]>(this.#handlers, []);
    this.#txnError = list<Error | null>(this.#txnError, null);
    this.#txn = list<RecordedTxn | null>(this.#txn, null);
    this.#head = 0;
    this.#cap = cap;
  }
}
