// e2e.events: update events/s through the whole engine — controller, 3 handlers putting 5 keys
// each, scheduler, connector over SharedArrayBuffer rings, native-sim, replies — beside the same
// engine with the postMessage transport carrying JSON text (the "postMessage + JSON"
// baseline; 15 keys per transaction stay under inlineThreshold, so the work is inline in both).
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DBResync } from '../../src/api/index.js';
import { Piscina } from 'piscina';
import { Bench } from 'tinybench';
import { FrameCodec, requestMessage } from '../../src/connector/index.js';
import { builtinDescriptors, routeKey } from '../../src/descriptors/index.js';
import { KindTable, OpCode, Stage, TaskMetadata, encodeSegment, packSegment, type OpSegment } from '../../src/offload/shard-work.js';
import { toShared } from '../../src/offload/state-snapshot.js';
import type { EncodeTaskResult } from '../../src/offload/task-protocol.js';
import { Engine } from '../../src/engine/index.js';
import { CountedUpdate, UpdateBatch } from '../counted-update.js';
import { HANDLERS, KEYS, SLOTS, routeUpdateHandlers } from '../route-updates.js';
import { figure, median, type BenchSuite, type Figure } from '../figure.js';

const routeUpdates = new UpdateBatch();

async function start(transport: 'ring' | 'postMessage'): Promise<Engine> {
  const engine = await Engine.start({
    handlers: routeUpdateHandlers(),
    config: { eventQueueSize: 100_000 },
    stack: { connector: { transport, postMessageEncoding: 'json', pingInterval: 0, replyTimeout: 30_000 } },
  });
  const resync = new DBResync();
  let resolve!: () => void;
  const resynced = new Promise<void>((r) => (resolve = r));
  resync.done = () => resolve();
  engine.controller.pushEvent(resync);
  await resynced;
  return engine;
}

/** One engine under measurement and what it did so far. */
interface Side {
  readonly transport: 'ring' | 'postMessage';
  readonly engine: Engine;
  /** Events pushed so far (the next event's id). */
  pushed: number;
  readonly rates: number[];
  lag: number;
}

/** Pushes `n` events and waits until all are done; throws if one failed (verifies the run). */
async function batch(side: Side, n: number): Promise<number> {
  const finished = routeUpdates.expect(n);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) side.engine.controller.pushEvent(new CountedUpdate(side.pushed++, routeUpdates, 'Route Update'));
  await finished;
  const ms = performance.now() - t0;
  if (routeUpdates.errors > 0) throw new Error(`e2e: ${routeUpdates.errors} events failed: ${routeUpdates.firstError?.message}`);
  return (n / ms) * 1000;
}

/** Verifies on the dataplane: every slot of every handler holds a route. */
async function verify(side: Side): Promise<void> {
  const routes = (await side.engine.sim.snapshot()).routes.filter((r) => r.prefix.startsWith('10.'));
  const expected = HANDLERS * Math.min(SLOTS, side.pushed * KEYS);
  if (routes.length !== expected) throw new Error(`e2e ${side.transport}: ${routes.length} routes in the sim, expected ${expected}`);
}

/**
 * Both engines started at once and measured in alternating batches (one, then the other, then the
 * other way round), each side's median rate reported: the machine's speed drifts by up to 2× over
 * minutes here, and one side measured after the other would carry the drift into the ratio.
 */
async function measure(n: number, rounds: number): Promise<{ ring: { rate: number; lag: number }; posted: { rate: number; lag: number } }> {
  const sides: Side[] = [];
  try {
    for (const transport of ['ring', 'postMessage'] as const) sides.push({ transport, engine: await start(transport), pushed: 0, rates: [], lag: 0 });
    const [ring, posted] = sides as [Side, Side];
    for (const side of sides) await batch(side, Math.min(n, 500)); // warm-up
    for (let r = 0; r < rounds; r++) {
      for (const side of r % 2 === 0 ? [ring, posted] : [posted, ring]) {
        const h = monitorEventLoopDelay({ resolution: 1 });
        h.enable();
        side.rates.push(await batch(side, n));
        h.disable();
        side.lag = Math.max(side.lag, h.max / 1e6);
      }
    }
    for (const side of sides) await verify(side);
    return { ring: { rate: median(ring.rates), lag: ring.lag }, posted: { rate: median(posted.rates), lag: posted.lag } };
  } finally {
    for (const side of sides) await side.engine.close();
  }
}

/**
 * Pre-computation (diff + encode a transaction's puts in a worker while handlers still run): the
 * least the main thread pays for it is packing the puts and one pool round trip; inline it
 * builds and encodes the same 15 requests itself. Both verified to produce 15 frames.
 */
async function precompute(quick: boolean): Promise<{ offloaded: number; inline: number }> {
  const kinds = new KindTable(builtinDescriptors());
  const seg: OpSegment = { op: [], keys: [], values: [], olds: [] };
  for (let i = 0; i < HANDLERS * KEYS; i++) {
    const v = { vrfId: 0, dstNetwork: `10.9.${i}.0/24`, nextHopAddr: '192.168.0.1', weight: 1, preference: 0 };
    seg.op.push(OpCode.Create);
    seg.keys.push(routeKey(v));
    seg.values.push(v);
    seg.olds.push(null);
  }
  const codec = new FrameCodec();
  const md = new TaskMetadata([], { base: 1, size: 1 << 20 });
  const piscina = new Piscina({ filename: new URL('../../workers/offload-entry.cjs', import.meta.url).href, minThreads: 1, maxThreads: 1 });
  try {
    const bench = new Bench({ time: quick ? 200 : 1500, warmupTime: quick ? 100 : 500 });
    bench.add('inline', () => {
      let bytes = 0;
      const r = encodeSegment(seg, Stage.Main, kinds, md, { sendAll: (qs) => { for (const q of qs) bytes += codec.encode(requestMessage(q.name, 1, q.fields)).length; } });
      if (r.frames !== seg.keys.length || bytes === 0) throw new Error('inline encode broken');
    });
    bench.add('offloaded', async () => {
      const r = (await piscina.run({ kind: 'encode', descriptorsModule: undefined, segment: toShared(packSegment(seg)), stage: 0, metadata: [], alloc: { base: 1, size: 1 << 20 }, stallTimeout: 1000 })) as EncodeTaskResult;
      if (r.frames !== seg.keys.length || r.requests === null) throw new Error('offloaded encode broken');
    }, { async: true });
    await bench.run();
    const mean = (name: string): number => {
      const r = bench.getTask(name)?.result;
      if (r === undefined || (r.state !== 'completed' && r.state !== 'aborted-with-statistics')) throw new Error(`bench task ${name} did not complete`);
      return r.latency.mean;
    };
    return { offloaded: mean('offloaded') * 1000, inline: mean('inline') * 1000 };
  } finally {
    await piscina.destroy();
  }
}

export const suite: BenchSuite = {
  name: 'e2e',
  async run({ quick }) {
    const { ring, posted } = await measure(quick ? 300 : 2000, quick ? 2 : 8);
    process.stderr.write(`  ring ${ring.rate.toFixed(0)} events/s (lag ${ring.lag.toFixed(1)} ms), postMessage + JSON ${posted.rate.toFixed(0)} events/s\n`);
    const pre = await precompute(quick);
    process.stderr.write(`  precompute: offloaded ${pre.offloaded.toFixed(1)} µs per 15-key txn, inline ${pre.inline.toFixed(1)} µs\n`);
    const out: Record<string, Figure> = {
      'e2e.events': figure(ring.rate, posted.rate, 'events/s', 'ratio >= 5, value >= 50000', ring.rate / posted.rate >= 5 && ring.rate >= 50_000),
      'e2e.events.lag': figure(ring.lag, posted.lag, 'ms'),
      'e2e.precompute.txn': figure(pre.offloaded, pre.inline, 'µs', 'ratio < 1 to keep it', pre.offloaded < pre.inline),
    };
    return out;
  },
};
