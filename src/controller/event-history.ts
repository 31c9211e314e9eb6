import type { EventHistoryQuery, EventRecord } from './types.js';

const MINUTE_MS = 60_000;

function checkNumber(name: string, v: unknown): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new RangeError(`query.${name} must be a finite number >= 0, received ${String(v)}`);
  }
}

/**
 * Event records in processing order. Records of events started within the first
 * `permanentlyRecordedInitPeriod` minutes are kept apart and never trimmed by age.
 */
export class EventHistory {
  readonly #permanent: EventRecord[] = [];
  // Trimmed from the front by advancing #head; compacted when the dead prefix is large.
  #records: EventRecord[] = [];
  #head = 0;
  readonly #ageLimitMs: number;
  readonly #initPeriodMs: number;
  readonly #maxRecords: number;
  #startedAt = 0;

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
    return this.#permanent.length + this.#records.length - this.#head;
  }

  add(record: EventRecord): void {
    const permanent = record.processingStart < this.#startedAt + this.#initPeriodMs;
    if (permanent && this.#records.length === this.#head && (this.#maxRecords === 0 || this.#permanent.length < this.#maxRecords)) {
      this.#permanent.push(record);
      return;
    }
    this.#records.push(record);
    if (this.#maxRecords !== 0 && this.size > this.#maxRecords && this.#head < this.#records.length) {
      this.#head++;
      this.#compact();
    }
  }

  /** Drops records older than the age limit (except the permanent ones); returns how many. */
  trim(now: number): number {
    const limit = now - this.#ageLimitMs;
    const start = this.#head;
    while (this.#head < this.#records.length && (this.#records[this.#head] as EventRecord).processingStart < limit) {
      this.#head++;
    }
    const trimmed = this.#head - start;
    this.#compact();
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
    return this.#permanent.concat(this.#records.slice(this.#head));
  }

  #compact(): void {
    if (this.#head > 1024 && this.#head * 2 > this.#records.length) {
      this.#records = this.#records.slice(this.#head);
      this.#head = 0;
    }
  }
}
