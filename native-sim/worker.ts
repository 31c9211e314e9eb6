// The native-sim thread: owns the simulated dataplane, serves the rings (or postMessage).
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { type MessagePort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { VppRetval } from '../src/binapi/retval.js';
import { FrameCodec } from '../src/connector/frame-codec.js';
import { DoorbellSlot, DOORBELL_SLOTS } from '../src/connector/ring-layout.js';
import { RingReader, RingWriter } from '../src/connector/ring.js';
import { RecentWaits } from '../src/connector/adaptive-spin.js';
import type { ControlReply, ControlRequest, SimWorkerData } from './control-protocol.js';
import type { SimHeapUsage } from './sim-types.js';
import { type OutMessage, SimEngine, validateFaults } from './sim-engine.js';

const data = workerData as SimWorkerData;
const engine = new SimEngine(data.seed, data.epoch);
const control = data.controlPort;
const bell = new Int32Array(data.doorbell, 0, DOORBELL_SLOTS);
const readers: RingReader[] = [new RingReader(data.requestRing)];
/** Ids of the attached producer rings, parallel to readers (0 = the connector's own ring). */
const readerIds: number[] = [0];
const replies = new RingWriter(data.replyRing);
const decoder = new FrameCodec();
const encoder = new FrameCodec();
/** Contexts of dumps a detail of which was too large for the reply ring (their control_ping_reply fails). */
const truncatedDumps = new Set<number>();
/** Frames per ring per round, so one busy producer cannot starve the others. */
const ROUND_BUDGET = 256;
/** Longest sleep: a safety net only, producers and control messages ring the doorbell. */
const IDLE_WAIT_MS = 50;

type Mode = { readonly kind: 'rings' } | { readonly kind: 'postmessage'; readonly port: MessagePort } | { readonly kind: 'closed' };
let mode: Mode = { kind: 'rings' };

/** Replies held back by `latencyMs`, FIFO so replies never overtake each other. */
const delayed: Array<{ due: number; bytes: Uint8Array | null; msg: OutMessage | string | null }> = [];
let pmTimer: NodeJS.Timeout | null = null;

let collectGarbage: (() => void) | null = null;

function heapUsage(collect: boolean): SimHeapUsage {
  const before = getHeapStatistics();
  const used = before.used_heap_size;
  if (!collect) return { used, live: used, total: before.total_heap_size };
  if (!collectGarbage) {
    // Only when asked (benchmarks): exposes gc to a fresh context, as the main thread's bench does.
    setFlagsFromString('--expose-gc');
    collectGarbage = runInNewContext('gc') as () => void;
  }
  collectGarbage();
  collectGarbage();
  const after = getHeapStatistics();
  return { used, live: after.used_heap_size, total: after.total_heap_size };
}

function reply(r: ControlReply): void {
  control.postMessage(r);
}

function handleControl(req: ControlRequest): void {
  try {
    switch (req.op) {
      case 'hello':
        return reply({ id: req.id, ok: true, value: engine.epoch });
      case 'snapshot':
        return reply({ id: req.id, ok: true, value: engine.snapshot() });
      case 'counters':
        return reply({ id: req.id, ok: true, value: engine.counters() });
      case 'heap':
        return reply({ id: req.id, ok: true, value: heapUsage(req.collect) });
      case 'faults':
        engine.setFaults(validateFaults(req.faults), performance.now());
        // A stall that was shortened or lifted releases the requests it held.
        if (mode.kind === 'postmessage') releaseHeld();
        return reply({ id: req.id, ok: true, value: null });
      case 'restart':
        engine.restart();
        return reply({ id: req.id, ok: true, value: engine.epoch });
      case 'attach-ring':
        readers.push(new RingReader(req.ring));
        readerIds.push(req.ringId);
        return reply({ id: req.id, ok: true, value: null });
      case 'detach-ring': {
        const i = readerIds.indexOf(req.ringId);
        if (i > 0) {
          readers.splice(i, 1);
          readerIds.splice(i, 1);
        }
        return reply({ id: req.id, ok: true, value: null });
      }
      case 'serve-rings':
        if (mode.kind === 'postmessage') {
          mode.port.close();
          dropHeld();
          mode = { kind: 'rings' };
          setImmediate(runRings);
        }
        return reply({ id: req.id, ok: true, value: null });
      case 'serve-postmessage': {
        const port = req.port;
        if (mode.kind === 'postmessage') {
          mode.port.close();
          dropHeld();
        }
        mode = { kind: 'postmessage', port };
        port.on('message', onPostedRequest);
        return reply({ id: req.id, ok: true, value: null });
      }
      case 'close':
        if (mode.kind === 'postmessage') mode.port.close();
        mode = { kind: 'closed' };
        if (pmTimer) clearTimeout(pmTimer);
        dropHeld();
        reply({ id: req.id, ok: true, value: null });
        control.close();
        return;
    }
  } catch (err) {
    const e = err as { message?: string; code?: string };
    reply({ id: req.id, ok: false, message: String(e.message), code: e.code ?? (err instanceof RangeError ? 'ERR_OUT_OF_RANGE' : 'ERR_INVALID_ARG') });
  }
}

// Control messages arrive as events while the thread is idle in postMessage mode, and are pulled
// synchronously (receiveMessageOnPort) by the ring loop, which never returns to the event loop.
control.on('message', (m: ControlRequest) => handleControl(m));

function pollControl(): void {
  for (let m = receiveMessageOnPort(control); m !== undefined; m = receiveMessageOnPort(control)) {
    handleControl(m.message as ControlRequest);
    if (mode.kind !== 'rings') return;
  }
}

/**
 * The first replies of a round are published in groups of EARLY_GROUP, up to EARLY_LIMIT: the
 * connector (parked, or spinning for them) wakes and handles them while we apply the rest, which
 * goes out at the round's end. Beyond that a long round publishes once, so a big wave does not
 * wake the connector for every few replies.
 */
const EARLY_GROUP = 4;
const EARLY_LIMIT = 16;
/** Replies written in the current round. */
let roundReplies = 0;

function writeReply(bytes: Uint8Array): void {
  for (;;) {
    // (A reply larger than the ring never gets here: onFrame drops it.)
    let written: boolean;
    try {
      written = replies.write(bytes);
    } catch {
      // Whatever a write refuses, it must not end the sim's thread: counted, the request times out.
      engine.protocolError();
      return;
    }
    if (written) {
      if (++roundReplies <= EARLY_LIMIT && roundReplies % EARLY_GROUP === 0) replies.commit();
      return;
    }
    // Reply ring full: publish what we have and wait for the connector to consume.
    replies.commit();
    replies.waitForSpaceSync(IDLE_WAIT_MS);
    pollControl();
    if (mode.kind !== 'rings') return;
  }
}

function onFrame(frame: Uint8Array): void {
  let msg: unknown;
  try {
    msg = decoder.decode(frame);
  } catch {
    engine.protocolError();
    return;
  }
  if (truncatedDumps.size > 0) forgetTruncated(msg);
  const out = engine.handle(msg);
  if (out === null) return;
  const latency = engine.latencyMs;
  for (let m of out) {
    const context = (m as { context?: unknown }).context as number;
    // A dump whose details did not fit ends with an error: its reader must not take it as complete.
    if (m['_msgname'] === 'control_ping_reply' && truncatedDumps.delete(context)) m = { ...m, retval: VppRetval.UNSPECIFIED };
    const bytes = encoder.encode(m);
    if (bytes.length > replies.maxPayloadBytes) {
      // A reply larger than the ring can never be delivered: counted; a request then times out.
      engine.protocolError();
      truncatedDumps.add(context);
      continue;
    }
    if (latency > 0 || delayed.length > 0) delayed.push({ due: performance.now() + latency, bytes: bytes.slice(), msg: null });
    else writeReply(bytes);
  }
}

/**
 * A request other than a dump's closing ping reuses its context: a dump marked truncated on it
 * that no ping ended (a producer's raw dump) is over.
 */
function forgetTruncated(msg: unknown): void {
  if (typeof msg !== 'object' || msg === null) return;
  const { _msgname: name, context } = msg as { _msgname?: unknown; context?: unknown };
  if (name !== 'control_ping' && typeof context === 'number') truncatedDumps.delete(context);
}

function onCorrupt(): void {
  engine.protocolError();
}

function flushDelayed(now: number): void {
  while (delayed.length > 0 && (delayed[0]?.due ?? Infinity) <= now) {
    const d = delayed.shift();
    if (d?.bytes) writeReply(d.bytes);
  }
}

/** One pass over every request ring; returns whether anything was read. */
function serviceRings(): boolean {
  const now = performance.now();
  let worked = false;
  roundReplies = 0;
  if (engine.stallRemaining(now) === 0) {
    for (const r of readers) {
      if (r.drain(onFrame, onCorrupt, ROUND_BUDGET) > 0) worked = true;
      if (mode.kind !== 'rings') return false;
    }
  }
  flushDelayed(performance.now());
  replies.commit();
  return worked;
}

function anyRequests(): boolean {
  for (const r of readers) if (r.hasData()) return true;
  return false;
}

/** Spin this much (µs) beyond the longest recent gap it covers. */
const SPIN_MARGIN_MICROS = 5;
/** Gaps between the end of our work and the next request. */
const gaps = new RecentWaits();
/** When the current idle period began (the last round that found work ended); -1 while busy. */
let idleSince = -1;
/** One spin per idle period: the safety-net timeouts of a long sleep do not spin again. */
let spinArmed = false;

/** Called after every round: learns the gap that preceded work, marks the start of idle time. */
function noteRound(worked: boolean): void {
  if (worked) {
    if (idleSince >= 0) gaps.add((performance.now() - idleSince) * 1000);
    idleSince = -1;
    spinArmed = true;
  } else if (idleSince < 0) {
    idleSince = performance.now();
  }
}

/**
 * Polls the rings once per idle period, for at most `spinMicros` from the moment work ran out: a
 * request that follows within it skips the futex wake on both sides. Spinning longer than a wake
 * costs does not pay (and a spinning thread slows its neighbour on a shared core), so the budget is
 * a bound, not a target: the spin covers the longest recent gap that fits it, and is skipped while
 * most recent gaps are longer (an idle or slower producer) or most recent spins missed (on an
 * overloaded machine the spin may hold the core the producer needs).
 */
function spin(): boolean {
  if (data.spinMicros === 0 || !spinArmed) return false;
  spinArmed = false;
  const budget = gaps.budget(data.spinMicros, SPIN_MARGIN_MICROS);
  if (budget === 0) return false;
  const end = (idleSince >= 0 ? idleSince : performance.now()) + budget / 1000;
  do {
    if (anyRequests()) {
      gaps.spun(true);
      return true;
    }
  } while (performance.now() < end);
  gaps.spun(false);
  return false;
}

function sleep(): void {
  if (delayed.length === 0 && engine.stallRemaining(performance.now()) === 0 && spin()) return;
  const now = performance.now();
  let timeout = IDLE_WAIT_MS;
  const stall = engine.stallRemaining(now);
  if (stall > 0) timeout = Math.min(timeout, stall);
  const head = delayed[0];
  if (head) timeout = Math.min(timeout, Math.max(0, head.due - now));
  // Read the bell before checking the rings: a producer that commits after the check has changed
  // the bell by then (so wait returns at once) or sees SLEEPING and notifies.
  const seen = Atomics.load(bell, DoorbellSlot.BELL);
  Atomics.store(bell, DoorbellSlot.SLEEPING, 1);
  if (stall > 0 || !anyRequests()) Atomics.wait(bell, DoorbellSlot.BELL, seen, timeout);
  Atomics.store(bell, DoorbellSlot.SLEEPING, 0);
}

function runRings(): void {
  while (mode.kind === 'rings') {
    pollControl();
    if (mode.kind !== 'rings') break;
    const worked = serviceRings();
    noteRound(worked);
    if (!worked) sleep();
  }
}

// --- postMessage transport: the baseline, same engine, event driven ---

/**
 * Requests posted while the sim is stalled, held unread (the ring loop leaves them in their ring):
 * a stall applies nothing, and ends when it runs out or when the faults end it (stallMs 0).
 */
const held: unknown[] = [];
let heldTimer: NodeJS.Timeout | null = null;

function onPostedRequest(posted: unknown): void {
  if (mode.kind !== 'postmessage') return;
  if (held.length > 0 || engine.stallRemaining(performance.now()) > 0) {
    // Behind requests already held, in order.
    held.push(posted);
    scheduleHeld();
    return;
  }
  answerPosted(posted);
}

/** Answers the held requests once the stall is over (called by its timer and after setFaults). */
function releaseHeld(): void {
  if (heldTimer) clearTimeout(heldTimer);
  heldTimer = null;
  while (held.length > 0 && mode.kind === 'postmessage') {
    if (engine.stallRemaining(performance.now()) > 0) return scheduleHeld();
    answerPosted(held.shift());
  }
  held.length = 0;
}

/** The held requests of a port that was closed: nobody waits for their replies. */
function dropHeld(): void {
  if (heldTimer) clearTimeout(heldTimer);
  heldTimer = null;
  held.length = 0;
}

function scheduleHeld(): void {
  if (heldTimer || held.length === 0) return;
  heldTimer = setTimeout(releaseHeld, Math.max(1, engine.stallRemaining(performance.now())));
}

function answerPosted(posted: unknown): void {
  if (mode.kind !== 'postmessage') return;
  // A request posted as JSON text is answered in JSON text (the connector's 'json' encoding).
  const json = typeof posted === 'string';
  let msg = posted;
  if (json) {
    try {
      msg = JSON.parse(posted);
    } catch {
      engine.protocolError();
      return;
    }
  }
  const out = engine.handle(msg);
  if (out === null) return;
  const now = performance.now();
  const due = now + engine.latencyMs;
  for (const m of out) {
    const reply = json ? JSON.stringify(m) : m;
    if (due > now || delayed.length > 0) delayed.push({ due, bytes: null, msg: reply });
    else mode.port.postMessage(reply);
  }
  schedulePosted();
}

function schedulePosted(): void {
  if (pmTimer || delayed.length === 0) return;
  const head = delayed[0] as { due: number };
  pmTimer = setTimeout(() => {
    pmTimer = null;
    const now = performance.now();
    while (delayed.length > 0 && (delayed[0]?.due ?? Infinity) <= now && mode.kind === 'postmessage') {
      const d = delayed.shift();
      if (d?.msg) mode.port.postMessage(d.msg);
    }
    schedulePosted();
  }, Math.max(0, head.due - performance.now()));
}

// Start after module evaluation: the ring loop only returns when the mode changes.
setImmediate(runRings);
