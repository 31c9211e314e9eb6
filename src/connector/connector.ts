import type { NativeSim } from '../../native-sim/native-sim.js';
import { EngineError } from '../api/errors.js';
import { DUMP_DETAILS, isDump, replyName } from '../binapi/messages.js';
import { retvalName } from '../binapi/retval.js';
import { REQUEST_FIELDS } from './catalog-structures.js';
import { channelOf, makeContext, sequenceBefore, sequenceOf, SEQUENCE_MASK } from './context.js';
import {
  ConnectorClosedError,
  InvalidMessageError,
  ProtocolError,
  ReplyTimeoutError,
  UnknownMessageError,
  UnsupportedTransportError,
  VppApiError,
} from './errors.js';
import { createRing } from './ring.js';
import { type ConnectorOptions, type ResolvedConnectorOptions, resolveConnectorOptions } from './options.js';
import { PostMessageTransport, RingTransport, type Transport, type TransportSink } from './transport.js';

/** A reply (or details) message as received: `_msgname`, `context`, `retval` and its fields. */
export type Reply = Readonly<Record<string, unknown>>;

export type ConnectorState = 'up' | 'not-responding' | 'closed';

/** A request ring for another producer (a worker thread): SPSC, its own channel, same reply ring. */
export interface ProducerRing {
  /** Channel id of the contexts the producer must use (RequestRingProducer does this). */
  readonly channel: number;
  /** Hand both to the worker: `new RequestRingProducer(ring, doorbell, channel)`. */
  readonly ring: SharedArrayBuffer;
  readonly doorbell: SharedArrayBuffer;
  /** Replies (and details) whose context carries this channel. */
  onReply(listener: (reply: Reply) => void): () => void;
  /** Detaches the ring from the sim; later replies for the channel count as late. */
  close(): Promise<void>;
}

export interface BatchItem {
  readonly name: string;
  readonly fields?: Readonly<Record<string, unknown>>;
}

export interface ConnectorStats {
  /** Messages written (requests, dumps and their control_pings, health pings). */
  readonly requests: number;
  /** Reply and details messages received and delivered. */
  readonly replies: number;
  /** Replies that arrived after their operation timed out, or for no known operation. */
  readonly lateReplies: number;
  readonly protocolErrors: number;
  readonly timeouts: number;
  /** Failed replies by VPP retval name. */
  readonly errorsByRetval: Readonly<Record<string, number>>;
  readonly requestRingUsedBytes: number;
  readonly requestRingBytes: number;
  readonly replyRingUsedBytes: number;
  readonly replyRingBytes: number;
  /** Operations written and awaiting their reply. */
  readonly inFlight: number;
}

type OpKind = 'request' | 'dump' | 'ping';
/** queued: not yet (fully) written; sent: awaiting reply; expired: timed out, context still reserved. */
type OpState = 'queued' | 'sent' | 'expired' | 'done';

class Batch {
  readonly results: Array<Reply | Error>;
  remaining: number;
  readonly resolve: (r: Array<Reply | Error>) => void;
  readonly reject: (e: Error) => void;
  constructor(n: number, resolve: (r: Array<Reply | Error>) => void, reject: (e: Error) => void) {
    this.results = new Array<Reply | Error>(n);
    this.remaining = n;
    this.resolve = resolve;
    this.reject = reject;
  }
}

class Op {
  state: OpState = 'queued';
  context = -1;
  /** Frames still to write (a dump is followed by its control_ping). */
  framesLeft: number;
  details: Reply[] | null = null;
  batch: Batch | null = null;
  index = 0;
  resolve: ((v: never) => void) | null = null;
  reject: ((e: Error) => void) | null = null;

  constructor(
    readonly kind: OpKind,
    readonly name: string,
    /** Dropped once the op is done (with its batch and callbacks): a done op may wait in the timeline. */
    public fields: Readonly<Record<string, unknown>> | undefined,
    /** Submit time; replaced by write time + replyTimeout once fully written. */
    public deadline: number,
  ) {
    this.framesLeft = kind === 'dump' ? 2 : 1;
  }
}

/** Frames one flush writes before it publishes them (besides the first, published at once). */
const PUBLISH_EVERY = 64;

/** `<request>_reply` for every catalog request, built once (no string concatenation per reply). */
const REPLY_NAMES: ReadonlyMap<string, string> = new Map(Object.keys(REQUEST_FIELDS).map((n) => [n, replyName(n)]));

function isPlainFields(v: unknown): v is Readonly<Record<string, unknown>> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Everything behind the VppConnector facade. */
class ConnectorEngine implements TransportSink {
  readonly o: ResolvedConnectorOptions;
  transport!: Transport;
  sim: NativeSim | null = null;
  state: ConnectorState = 'up';
  epoch = 0;
  readonly #pending = new Map<number, Op>();
  /** Expired ops whose context is still reserved, oldest first (replies come back in order). */
  #tombstones: Op[] = [];
  #queue: Op[] = [];
  #qHead = 0;
  /**
   * Every op in submit order. Ops are written in that order too, so written ops (deadline = write
   * time + replyTimeout) come first with monotonic deadlines, then queued ones: one timer suffices.
   */
  #timeline: Op[] = [];
  #tHead = 0;
  #timer: NodeJS.Timeout | null = null;
  #sequence: number;
  #flushing = false;
  #flushAgain = false;
  /** Last time replies came in: queued ops time out only after replyTimeout without progress. */
  #lastProgress = 0;
  /** Sequence of the last reply (or dump detail) to one of our ops; -1 before the first. */
  #lastReplySeq = -1;
  #waitingForSpace = false;
  #pingTimer: NodeJS.Timeout | null = null;
  #pingOutstanding = false;
  #missedPings = 0;
  /** `replies` at the last health tick: replies since then mean the dataplane is answering. */
  #repliesAtTick = 0;
  readonly stateListeners = new Set<(s: ConnectorState) => void>();
  readonly restartListeners = new Set<(epoch: number) => void>();
  readonly producerListeners = new Map<number, (m: Reply) => void>();
  /**
   * The channel last handed to a producer ring: the next one is searched from here on, so a channel
   * whose ring was closed with replies still in flight comes back only after every other channel
   * did, and those late replies cannot be taken for a new ring's (same channel, same sequences).
   */
  #lastProducerChannel = -1;
  // stats
  requests = 0;
  replies = 0;
  lateReplies = 0;
  protocolErrors = 0;
  timeouts = 0;
  readonly errorsByRetval: Record<string, number> = Object.create(null) as Record<string, number>;
  readonly #inFlight = (): number => this.#pending.size - this.#tombstones.length;
  readonly #onTimer = (): void => this.#expire();
  readonly #onSpace = (): void => {
    this.#waitingForSpace = false;
    this.flush();
  };

  constructor(o: ResolvedConnectorOptions) {
    this.o = o;
    this.#sequence = (o.initialSequence - 1) & SEQUENCE_MASK;
  }

  get inFlight(): number {
    return this.#inFlight();
  }

  // --- submitting ---

  newOp(kind: OpKind, name: string, fields: Readonly<Record<string, unknown>> | undefined, now = performance.now()): Op {
    const op = new Op(kind, name, fields, now);
    this.#queue.push(op);
    this.#timeline.push(op);
    if (this.#timer === null) this.#armTimer(op.deadline + this.o.replyTimeout);
    return op;
  }

  /** Writes queued ops until the ring (or the in-flight bound) is full; one commit per call. */
  flush(): void {
    if (this.#flushing) {
      // Replies drained while spinning may free in-flight slots: write again before returning.
      this.#flushAgain = true;
      return;
    }
    this.#flushing = true;
    try {
      do {
        this.#flushAgain = false;
        this.#flushOnce();
      } while (this.#flushAgain && this.state !== 'closed');
    } finally {
      this.#flushing = false;
    }
  }

  #flushOnce(): void {
    if (this.state === 'closed') return;
    let full = false;
    let frames = 0;
    const deadline = performance.now() + this.o.replyTimeout;
    while (this.#qHead < this.#queue.length) {
      const op = this.#queue[this.#qHead] as Op;
      if (op.state !== 'queued') {
        this.#qHead++;
        continue;
      }
      if (op.context < 0) {
        if (this.#inFlight() >= this.o.maxInFlight) break;
        const ctx = this.#allocate();
        if (ctx < 0) break;
        op.context = ctx;
        // Reserved from now on: no other op may take this context until it is retired.
        this.#pending.set(ctx, op);
      }
      let written: boolean;
      try {
        // A dump's last frame is the control_ping that ends it.
        const ping = op.framesLeft === 1 && op.kind === 'dump';
        written = ping ? this.transport.write('control_ping', op.context, undefined) : this.transport.write(op.name, op.context, op.fields);
      } catch (err) {
        this.#qHead++;
        this.#pending.delete(op.context);
        this.#settle(op, err instanceof EngineError ? err : new InvalidMessageError(`cannot encode ${op.name}: ${(err as Error).message}`, err));
        continue;
      }
      if (!written) {
        full = true;
        break;
      }
      // The first frame is published at once, so a sleeping sim wakes (and applies it) while the
      // rest are encoded; then every PUBLISH_EVERY frames, so it keeps working through a long batch.
      if (++frames === 1 || frames % PUBLISH_EVERY === 0) this.transport.commit();
      this.requests++;
      if (--op.framesLeft === 0) {
        op.state = 'sent';
        op.deadline = deadline;
        this.#qHead++;
      }
    }
    this.#compactQueue();
    this.transport.commit();
    if (full && !this.#waitingForSpace) {
      this.#waitingForSpace = true;
      void this.transport.waitForSpace().then(this.#onSpace);
    }
    this.transport.afterSend(this.#inFlight);
  }

  /** Next free context of our channel; skips contexts still reserved (in flight or expired). */
  #allocate(): number {
    for (let i = 0; i <= SEQUENCE_MASK; i++) {
      this.#sequence = (this.#sequence + 1) & SEQUENCE_MASK;
      const ctx = makeContext(this.o.channel, this.#sequence);
      if (!this.#pending.has(ctx)) return ctx;
    }
    return -1;
  }

  #compactQueue(): void {
    if (this.#qHead > 1024 && this.#qHead * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#qHead);
      this.#qHead = 0;
    }
  }

  // --- completing ---

  #settle(op: Op, result: Reply | Error | Reply[]): void {
    op.state = 'done';
    const b = op.batch;
    const { resolve, reject } = op;
    // Nothing of a done op is needed again: let its request, its batch's replies and its callbacks go.
    op.fields = undefined;
    op.batch = null;
    op.details = null;
    op.resolve = null;
    op.reject = null;
    if (b !== null) {
      b.results[op.index] = result as Reply | Error;
      if (--b.remaining === 0) b.resolve(b.results);
    } else if (result instanceof Error) {
      (reject as (e: Error) => void)(result);
    } else {
      (resolve as (v: unknown) => void)(result);
    }
  }

  /** Drops the done ops at the head of the timeline (replies mostly come in order). */
  #trimTimeline(): void {
    while (this.#tHead < this.#timeline.length && (this.#timeline[this.#tHead] as Op).state === 'done') this.#tHead++;
    if (this.#tHead === this.#timeline.length) {
      this.#timeline.length = 0;
      this.#tHead = 0;
    } else if (this.#tHead > 1024 && this.#tHead * 2 > this.#timeline.length) {
      this.#timeline = this.#timeline.slice(this.#tHead);
      this.#tHead = 0;
    }
  }

  /** After a drain of the reply ring: in-flight slots may have freed up. */
  onDrained(): void {
    this.#lastProgress = performance.now();
    this.#trimTimeline();
    if (this.#qHead < this.#queue.length) this.flush();
  }

  onProtocolError(reason: string): void {
    this.protocolErrors++;
    this.o.logger.warn({ reason }, 'vpp connector: protocol error');
  }

  onMessage(raw: unknown): void {
    if (!isPlainFields(raw)) return this.onProtocolError('reply is not a message object');
    const name = raw['_msgname'];
    const context = raw['context'];
    if (typeof name !== 'string' || typeof context !== 'number' || !Number.isInteger(context)) {
      return this.onProtocolError('reply without _msgname or context');
    }
    // A context is a u32 (channel << 16 | sequence): anything else was never issued by anyone.
    if (context < 0 || context > 0xffffffff) return this.onProtocolError(`reply with context ${context}, not a u32`);
    const op = this.#pending.get(context);
    if (op === undefined) {
      const producer = this.producerListeners.get(channelOf(context));
      if (producer !== undefined) {
        this.replies++;
        producer(raw);
        return;
      }
      this.lateReplies++;
      this.o.logger.warn({ name, context }, 'vpp connector: unexpected reply discarded');
      return;
    }
    // The sim answers in order: this reply tells which of our requests it has reached.
    this.#lastReplySeq = sequenceOf(context);
    if (op.state === 'expired') {
      // Its operation already failed with ReplyTimeoutError: count it, never deliver it.
      this.lateReplies++;
      if (op.kind !== 'dump' || name === 'control_ping_reply') this.#release(op);
      this.o.logger.warn({ name, context }, 'vpp connector: late reply discarded');
      return;
    }
    this.#retireOlderTombstones(context);
    if (op.kind === 'dump') {
      if (name === 'control_ping_reply') {
        this.replies++;
        this.#pending.delete(context);
        // A failed ping ends a dump the dataplane could not answer in full (a detail was too large).
        const retval = raw['retval'];
        if (typeof retval === 'number' && retval !== 0) return this.#settle(op, new VppApiError(op.name, retval));
        this.#settle(op, op.details ?? []);
      } else if (name === DUMP_DETAILS[op.name]) {
        this.replies++;
        (op.details ??= []).push(raw);
      } else {
        this.onProtocolError(`${name} does not answer ${op.name}`);
      }
      return;
    }
    if (name !== (REPLY_NAMES.get(op.name) ?? replyName(op.name))) return this.onProtocolError(`${name} does not answer ${op.name}`);
    this.replies++;
    this.#pending.delete(context);
    const retval = raw['retval'];
    if (typeof retval !== 'number') {
      this.protocolErrors++;
      return this.#settle(op, new ProtocolError(`${name} without a numeric retval`));
    }
    if (retval !== 0) {
      const rn = retvalName(retval);
      this.errorsByRetval[rn] = (this.errorsByRetval[rn] ?? 0) + 1;
      return this.#settle(op, new VppApiError(op.name, retval));
    }
    this.#settle(op, raw);
  }

  #release(op: Op): void {
    this.#pending.delete(op.context);
    op.state = 'done';
    const i = this.#tombstones.indexOf(op);
    if (i >= 0) this.#tombstones.splice(i, 1);
  }

  /** The sim answers each ring in order: a reply to a later sequence means earlier expired ones
   * will never be answered, so their contexts can be reused. */
  #retireOlderTombstones(context: number): void {
    const seq = sequenceOf(context);
    while (this.#tombstones.length > 0) {
      const t = this.#tombstones[0] as Op;
      if (!sequenceBefore(sequenceOf(t.context), seq)) break;
      this.#tombstones.shift();
      this.#pending.delete(t.context);
      t.state = 'done';
    }
  }

  // --- timeouts ---

  #armTimer(deadline: number): void {
    this.#timer = setTimeout(this.#onTimer, Math.max(0, deadline - performance.now()) + 1);
  }

  #expire(): void {
    this.#timer = null;
    const now = performance.now();
    let next = -1;
    while (this.#tHead < this.#timeline.length) {
      const op = this.#timeline[this.#tHead] as Op;
      if (op.state === 'done' || op.state === 'expired') {
        this.#tHead++;
        continue;
      }
      // A queued op waits behind backpressure: it fails only when nothing moved for replyTimeout.
      let due = op.state === 'queued' ? Math.max(op.deadline, this.#lastProgress) + this.o.replyTimeout : op.deadline;
      // A written op the sim has not reached yet (or a dump whose details still arrive) waits its
      // turn while replies keep coming: it fails only after replyTimeout without progress.
      if (due <= now && op.state === 'sent' && this.#notReachedYet(op)) {
        due = Math.max(due, this.#lastProgress + this.o.replyTimeout);
      }
      if (due > now) {
        next = due;
        break;
      }
      this.#tHead++;
      this.timeouts++;
      const err = new ReplyTimeoutError(op.name, op.context < 0 ? 0 : op.context, this.o.replyTimeout);
      if (op.context >= 0 && this.#pending.get(op.context) === op) {
        // Keep the context reserved until its late reply (or a later one) shows up.
        op.state = 'expired';
        op.framesLeft = 0;
        this.#tombstones.push(op);
        this.#settleExpired(op, err);
      } else {
        this.#settle(op, err);
      }
    }
    if (this.#tHead > 1024 && this.#tHead * 2 > this.#timeline.length) {
      this.#timeline = this.#timeline.slice(this.#tHead);
      this.#tHead = 0;
    }
    if (next >= 0) this.#armTimer(next);
    // Expired ops may have been queued: writing resumes with the ones behind them.
    this.flush();
  }

  /** Whether the last reply was to this op (a dump's details) or to an op written before it. */
  #notReachedYet(op: Op): boolean {
    const last = this.#lastReplySeq;
    return last >= 0 && !sequenceBefore(sequenceOf(op.context), last);
  }

  #settleExpired(op: Op, err: Error): void {
    const b = op.batch;
    const reject = op.reject;
    // The tombstone only keeps its context reserved: its request and callbacks can go.
    op.fields = undefined;
    op.batch = null;
    op.details = null;
    op.resolve = null;
    op.reject = null;
    if (b !== null) {
      b.results[op.index] = err;
      if (--b.remaining === 0) b.resolve(b.results);
    } else {
      (reject as (e: Error) => void)(err);
    }
  }

  // --- health (V5) ---

  startPinging(): void {
    if (this.o.pingInterval === 0) return;
    this.#pingTimer = setInterval(() => this.#tick(), this.o.pingInterval);
  }

  #tick(): void {
    const replied = this.replies !== this.#repliesAtTick;
    this.#repliesAtTick = this.replies;
    if (this.#pingOutstanding) {
      // A ping queued behind a long batch or dump is waiting its turn, not lost: the dataplane that
      // answered anything since the last tick is responding.
      if (replied) {
        this.#missedPings = 0;
        this.#setState('up');
      } else if (++this.#missedPings >= 2) this.#setState('not-responding');
      return;
    }
    void this.ping().then(
      () => {
        this.#missedPings = 0;
        this.#setState('up');
      },
      () => {
        if (++this.#missedPings >= 2) this.#setState('not-responding');
      },
    );
  }

  /** Sends a control_ping; learns the epoch (and reports a change as a restart). */
  async ping(): Promise<number> {
    this.#pingOutstanding = true;
    try {
      const reply = (await this.submitOne('ping', 'control_ping', undefined)) as Reply;
      const epoch = reply['epoch'];
      if (typeof epoch === 'number') this.#observeEpoch(epoch);
      return this.epoch;
    } finally {
      this.#pingOutstanding = false;
    }
  }

  #observeEpoch(epoch: number): void {
    const previous = this.epoch;
    this.epoch = epoch;
    if (previous !== 0 && previous !== epoch) this.notify(this.restartListeners, epoch, 'restart');
  }

  #setState(s: ConnectorState): void {
    if (this.state === s || this.state === 'closed') return;
    this.state = s;
    this.notify(this.stateListeners, s, 'state');
  }

  /** Calls user listeners; one that throws is logged and never stops the connector (close() above all). */
  notify<T>(listeners: Iterable<(v: T) => void>, v: T, what: string): void {
    for (const l of listeners) {
      try {
        l(v);
      } catch (err) {
        this.o.logger.warn({ err }, `vpp connector: a ${what} listener threw: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  submitOne(kind: OpKind, name: string, fields: Readonly<Record<string, unknown>> | undefined): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const op = this.newOp(kind, name, fields);
      op.resolve = resolve as (v: never) => void;
      op.reject = reject;
      this.flush();
    });
  }

  submitBatch(items: ReadonlyArray<BatchItem>): Promise<Array<Reply | Error>> {
    return new Promise((resolve, reject) => {
      const batch = new Batch(items.length, resolve, reject);
      // One submit time for the whole batch: no clock read per item.
      const now = performance.now();
      let queued = 0;
      for (let i = 0; i < items.length; i++) {
        const item = items[i];
        const err = checkItem(item, 'request');
        if (err !== null) {
          batch.results[i] = err;
          batch.remaining--;
          continue;
        }
        const it = item as BatchItem;
        const op = this.newOp('request', it.name, it.fields, now);
        op.batch = batch;
        op.index = i;
        queued++;
      }
      if (batch.remaining === 0) resolve(batch.results);
      if (queued > 0) this.flush();
    });
  }

  async createProducerRing(ringBytes: number | undefined): Promise<ProducerRing> {
    const t = this.transport;
    if (!(t instanceof RingTransport) || this.sim === null) throw new UnsupportedTransportError('createProducerRing', this.o.transport);
    const ring = createRing(ringBytes ?? t.ringBytes);
    const from = this.#lastProducerChannel < 0 ? this.o.channel : this.#lastProducerChannel;
    let channel = from;
    do {
      channel = channel >= 0xffff ? 1 : channel + 1;
      if (channel === from) throw new RangeError('channel: every channel id is in use');
    } while (channel === this.o.channel || this.producerListeners.has(channel));
    this.#lastProducerChannel = channel;
    const listeners = new Set<(r: Reply) => void>();
    const deliver = (r: Reply): void => this.notify(listeners, r, 'producer reply');
    this.producerListeners.set(channel, deliver);
    const sim = this.sim;
    try {
      await sim.attachRequestRing(ring);
    } catch (err) {
      this.producerListeners.delete(channel);
      throw err;
    }
    let closed = false;
    return {
      channel,
      ring,
      doorbell: t.doorbell,
      onReply: (listener) => {
        listeners.add(listener);
        return () => void listeners.delete(listener);
      },
      close: async () => {
        if (closed) return;
        closed = true;
        this.producerListeners.delete(channel);
        if (!sim.closed) await sim.detachRequestRing(ring).catch(() => undefined);
      },
    };
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.#setState('closed');
    if (this.#pingTimer) clearInterval(this.#pingTimer);
    if (this.#timer) clearTimeout(this.#timer);
    const err = new ConnectorClosedError();
    const failed = new Set<Batch>();
    const fail = (op: Op): void => {
      if (op.state === 'done' || op.state === 'expired') return;
      op.state = 'done';
      if (op.batch !== null) {
        if (!failed.has(op.batch)) {
          failed.add(op.batch);
          op.batch.reject(err);
        }
      } else {
        (op.reject as (e: Error) => void)(err);
      }
    };
    for (let i = this.#tHead; i < this.#timeline.length; i++) fail(this.#timeline[i] as Op);
    this.#pending.clear();
    this.#tombstones = [];
    this.#queue = [];
    this.#timeline = [];
    this.stateListeners.clear();
    this.restartListeners.clear();
    await this.transport.close();
  }
}

/** Returns a typed error when a request/dump item is unusable, else null. */
function checkItem(item: unknown, want: 'request' | 'dump'): Error | null {
  if (!isPlainFields(item) || typeof item['name'] !== 'string') return new InvalidMessageError('batch item: expected { name: string, fields? }');
  const name = item['name'];
  if (!Object.prototype.hasOwnProperty.call(REQUEST_FIELDS, name)) return new UnknownMessageError(name);
  const fields = item['fields'];
  if (fields !== undefined && !isPlainFields(fields)) return new InvalidMessageError(`${name}: fields must be a plain object`);
  if (want === 'request' && isDump(name)) return new InvalidMessageError(`${name} is a dump: use dump()`);
  if (want === 'dump' && !isDump(name)) return new InvalidMessageError(`${name} is not a dump: use request()`);
  return null;
}

/**
 * The VPP connector (V1–V6): binary-API requests to native-sim over SharedArrayBuffer rings (or the
 * postMessage baseline), replies matched by context, dumps, timeouts, backpressure and health.
 */
export class VppConnector {
  readonly #e: ConnectorEngine;

  private constructor(e: ConnectorEngine) {
    this.#e = e;
  }

  /** Attaches to a running native-sim and waits for its first ping (which sets `epoch`). */
  static async connect(sim: NativeSim, options?: ConnectorOptions): Promise<VppConnector> {
    const o = resolveConnectorOptions(options);
    if (typeof sim !== 'object' || sim === null || typeof (sim as NativeSim).attachConnector !== 'function') {
      throw new TypeError('sim: expected a NativeSim from startNativeSim()');
    }
    const e = new ConnectorEngine(o);
    e.sim = sim;
    e.transport = o.transport === 'ring' ? new RingTransport(sim, e, o.spinMicros) : await PostMessageTransport.open(sim, e, o.postMessageEncoding === 'json');
    try {
      // The sim thread may still be starting (or the machine busy): retry the first ping until
      // connectTimeout, each try bounded by replyTimeout.
      const giveUp = performance.now() + o.connectTimeout;
      for (;;) {
        try {
          await e.ping();
          break;
        } catch (err) {
          if (!(err instanceof ReplyTimeoutError) || performance.now() >= giveUp) throw err;
        }
      }
    } catch (err) {
      await e.close();
      throw err;
    }
    e.startPinging();
    return new VppConnector(e);
  }

  get state(): ConnectorState {
    return this.#e.state;
  }

  /** Dataplane epoch from the last control_ping_reply. */
  get epoch(): number {
    return this.#e.epoch;
  }

  get channel(): number {
    return this.#e.o.channel;
  }

  /** Sends one request; resolves with its reply (retval 0) or rejects with a typed error. */
  request(name: string, fields?: Readonly<Record<string, unknown>>): Promise<Reply> {
    if (this.#e.state === 'closed') return Promise.reject(new ConnectorClosedError());
    const err = checkItem({ name, fields }, 'request');
    if (err !== null) return Promise.reject(err);
    return this.#e.submitOne('request', name, fields) as Promise<Reply>;
  }

  /**
   * Sends many requests with one wake-up of the sim; one promise for the batch, resolved when every
   * reply is in, with a Reply or an Error per item. Rejects only if the connector is (or gets) closed.
   */
  requestBatch(msgs: ReadonlyArray<BatchItem>): Promise<Array<Reply | Error>> {
    if (this.#e.state === 'closed') return Promise.reject(new ConnectorClosedError());
    if (!Array.isArray(msgs)) return Promise.reject(new TypeError(`msgs: expected an array, received ${typeof msgs}`));
    return this.#e.submitBatch(msgs);
  }

  /** A dump (V2): the details messages that precede the control_ping_reply of the same context. */
  dump(name: string, fields?: Readonly<Record<string, unknown>>): Promise<Reply[]> {
    if (this.#e.state === 'closed') return Promise.reject(new ConnectorClosedError());
    const err = checkItem({ name, fields }, 'dump');
    if (err !== null) return Promise.reject(err);
    return this.#e.submitOne('dump', name, fields) as Promise<Reply[]>;
  }

  /** Sends a control_ping now; resolves with the epoch. */
  ping(): Promise<number> {
    if (this.#e.state === 'closed') return Promise.reject(new ConnectorClosedError());
    return this.#e.ping();
  }

  /** A new request ring a worker thread can write into directly (see ProducerRing). */
  createProducerRing(options?: { readonly ringBytes?: number }): Promise<ProducerRing> {
    if (this.#e.state === 'closed') return Promise.reject(new ConnectorClosedError());
    if (options !== undefined && (typeof options !== 'object' || options === null)) {
      return Promise.reject(new TypeError(`options: expected an object, received ${String(options)}`));
    }
    return this.#e.createProducerRing(options?.ringBytes);
  }

  onStateChange(listener: (state: ConnectorState) => void): () => void {
    this.#e.stateListeners.add(listener);
    return () => void this.#e.stateListeners.delete(listener);
  }

  /** Called with the new epoch when the dataplane restarted (V5). */
  onRestart(listener: (epoch: number) => void): () => void {
    this.#e.restartListeners.add(listener);
    return () => void this.#e.restartListeners.delete(listener);
  }

  stats(): ConnectorStats {
    const e = this.#e;
    const u = e.state === 'closed' ? { requestUsed: 0, requestBytes: 0, replyUsed: 0, replyBytes: 0 } : e.transport.usage();
    return {
      requests: e.requests,
      replies: e.replies,
      lateReplies: e.lateReplies,
      protocolErrors: e.protocolErrors,
      timeouts: e.timeouts,
      errorsByRetval: { ...e.errorsByRetval },
      requestRingUsedBytes: u.requestUsed,
      requestRingBytes: u.requestBytes,
      replyRingUsedBytes: u.replyUsed,
      replyRingBytes: u.replyBytes,
      inFlight: e.inFlight,
    };
  }

  /** Fails in-flight operations with ConnectorClosedError; later calls reject with it; twice is harmless. */
  close(): Promise<void> {
    return this.#e.close();
  }
}

