// Ring transport vs postMessage (frames/s one way, round trip p50) and msgpackr records vs JSON.
// Every figure is measured beside its baseline in the same run, from the same code: the baselines
// are the connector's `transport: 'postMessage'` switch and a worker that receives postMessage.
import { Worker } from 'node:worker_threads';
import { Bench } from 'tinybench';
import { figure, median, type BenchSuite } from '../figure.js';
import { startNativeSim } from '../../native-sim/index.js';
import { FrameCodec, RingWriter, VppConnector, createRing, requestMessage } from '../../src/connector/index.js';
import { binaryAddressWriter, withBinaryAddresses } from '../binary-addresses.js';

/** Binary-API requests of 64–256 encoded bytes, as the scheduler sends them. */
function messages(n: number): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (let i = 0; i < n; i++) {
    const ctx = 0x10000 | (i & 0xffff);
    const octet = i % 250;
    switch (i % 4) {
      case 0:
        out.push(requestMessage('ip_route_add_del', ctx, {
          is_add: true,
          is_multipath: true,
          route: {
            table_id: i % 3,
            prefix: `10.${octet}.${(i >> 8) & 0xff}.0/24`,
            paths: [
              { sw_if_index: 1 + (i % 50), nh: `192.168.${octet}.1`, weight: 1, preference: 0 },
              { sw_if_index: 2 + (i % 50), nh: `192.168.${octet}.2`, weight: 1, preference: 0 },
            ],
          },
        }));
        break;
      case 1:
        out.push(requestMessage('acl_add_replace', ctx, {
          acl_index: 0xffffffff,
          tag: `policy/default/allow-web-${i}`,
          r: [{ is_permit: 1, src_prefix: `10.1.${octet}.0/24`, dst_prefix: '0.0.0.0/0', proto: 6, srcport_or_icmptype_first: 0, srcport_or_icmptype_last: 65535, dstport_or_icmpcode_first: 80, dstport_or_icmpcode_last: 80 }],
        }));
        break;
      case 2:
        out.push(requestMessage('tap_create_v3', ctx, { id: i, mac_address: '02:fe:aa:bb:cc:dd', host_if_name: `vpp-tap-pod-${i}`, mtu: 1450, tag: `kube-system/coredns-${i}-x7k2p` }));
        break;
      default:
        out.push(requestMessage('nat44_add_del_static_mapping', ctx, {
          is_add: true,
          tag: `svc/default/frontend-${i}`,
          external_ip_address: `10.96.${octet}.10`,
          external_port: 80,
          protocol: 6,
          locals: [{ addr: `10.1.${octet}.5`, port: 8080, probability: 1 }],
        }));
    }
  }
  return out;
}

/**
 * The receiving thread of the frames figure: decodes every frame (ring) or receives every
 * structured-cloned message (postMessage), counting them and summing their contexts into
 * `counter` so the sender can verify all arrived intact.
 */
const RECEIVER = `
const { workerData, parentPort } = require('node:worker_threads');
const { mode, decode, ring, counter: counterSab, connector } = workerData;
const counter = new Int32Array(counterSab);
let count = 0, sum = 0;
const publish = () => { Atomics.store(counter, 1, sum); Atomics.store(counter, 0, count); };
import(connector).then(({ RingReader, FrameCodec, RingLayout }) => {
  const codec = new FrameCodec();
  // decode: sum the decoded contexts; raw frames: sum their byte lengths.
  const seen = decode ? (bytes) => { count++; sum = (sum + codec.decode(bytes).context) | 0; }
                      : (bytes) => { count++; sum = (sum + bytes.length) | 0; };
  if (mode === 'postMessage') {
    parentPort.on('message', (m) => {
      if (m === 'stop') process.exit(0);
      if (decode === 'object') { count++; sum = (sum + m.context) | 0; } else seen(m);
      publish();
    });
    parentPort.postMessage('ready');
    return;
  }
  const reader = new RingReader(ring);
  parentPort.postMessage('ready');
  for (;;) {
    if (reader.drain(seen, () => {}) > 0) { publish(); continue; }
    if (Atomics.load(counter, 2) === 1) break;
    const head = reader.park();
    if (!reader.hasData()) Atomics.wait(reader.header, RingLayout.RingSlot.HEAD, head, 20);
    reader.unpark();
  }
});
`;

interface Receiver {
  readonly worker: Worker;
  readonly counter: Int32Array;
}

/** decode: false = count raw frames, true = msgpackr-decode each frame, 'object' = postMessage'd objects. */
async function startReceiver(mode: 'ring' | 'postMessage', ring: SharedArrayBuffer | null, decode: boolean | 'object'): Promise<Receiver> {
  const counterSab = new SharedArrayBuffer(16);
  const connector = new URL('../../src/connector/index.js', import.meta.url).href;
  const worker = new Worker(RECEIVER, { eval: true, workerData: { mode, decode, ring, counter: counterSab, connector } });
  await new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return { worker, counter: new Int32Array(counterSab) };
}

/** Spins (bench only) until the receiver counted `target` messages. */
function awaitCount(r: Receiver, target: number): void {
  while (Atomics.load(r.counter, 0) < target);
}

function contextSum(msgs: ReadonlyArray<Record<string, unknown>>): number {
  let s = 0;
  for (const m of msgs) s = (s + (m['context'] as number)) | 0;
  return s;
}

interface FramesResult {
  readonly ring: number;
  readonly pm: number;
}

/**
 * Frames/s one way, main -> receiving thread, counted there. `encoded`: both transports carry the
 * same pre-encoded msgpack frames (the ring copies them in; postMessage clones a Uint8Array each);
 * `e2e`: the ring side also encodes on main and decodes on the receiver, against postMessage of the
 * message objects (structured clone does both jobs itself).
 */
async function framesFigure(quick: boolean, kind: 'encoded' | 'e2e'): Promise<FramesResult> {
  const msgs = messages(4096);
  const codec = new FrameCodec();
  const frames = msgs.map((m) => codec.encode(m).slice());
  const ringSab = createRing(1 << 20);
  const writer = new RingWriter(ringSab);
  const e2e = kind === 'e2e';
  const ringRx = await startReceiver('ring', ringSab, e2e);
  const pmRx = await startReceiver('postMessage', null, e2e ? 'object' : false);
  let ringSent = 0;
  let pmSent = 0;
  const [ring, pm] = await alternatingRates(quick, msgs.length, [
    () => {
      for (let i = 0; i < msgs.length; i++) {
        const bytes = e2e ? codec.encode(msgs[i]) : (frames[i] as Uint8Array);
        while (!writer.write(bytes)) writer.commit(); // full: publish; the receiver frees room
        // One publish (and at most one notify) per 64 frames.
        if (writer.staged === 64) writer.commit();
      }
      writer.commit();
      ringSent += msgs.length;
      awaitCount(ringRx, ringSent);
    },
    () => {
      const port = pmRx.worker;
      if (e2e) for (const m of msgs) port.postMessage(m);
      else for (const f of frames) port.postMessage(f);
      pmSent += msgs.length;
      awaitCount(pmRx, pmSent);
    },
  ]);
  // Verify: every frame arrived intact (context sums when decoded, byte sums when raw).
  const perRound = e2e ? contextSum(msgs) : frames.reduce((a, f) => (a + f.length) | 0, 0);
  for (const [rx, sent] of [[ringRx, ringSent], [pmRx, pmSent]] as const) {
    const rounds = sent / msgs.length;
    if (Atomics.load(rx.counter, 0) !== sent || Atomics.load(rx.counter, 1) !== (Math.imul(perRound, rounds) | 0)) {
      throw new Error(`receiver lost or corrupted frames (${Atomics.load(rx.counter, 0)} of ${sent})`);
    }
  }
  Atomics.store(ringRx.counter, 2, 1);
  pmRx.worker.postMessage('stop');
  await Promise.all([ringRx.worker.terminate(), pmRx.worker.terminate()]);
  return { ring, pm };
}

/**
 * The receiving thread of the ringbuf.js lane: ringbuf.js carries elements, not frames, so each
 * frame travels as one push of [u32 length][payload] (one push, so a frame is never seen half
 * written); the reader pops the length, then copies the payload out into a scratch buffer (where
 * msgpackr would decode it; ours is read in place). ringbuf.js has no wait/notify (it is made for audio worklets that poll), so
 * the lane adds the doorbell a user would: an idle reader raises counter[3] and sleeps on
 * counter[4]; the sender rings it every 64 frames while the flag is up, as our ring does.
 */
const RINGBUF_RECEIVER = `
const { workerData, parentPort } = require('node:worker_threads');
const { sab, counter: counterSab, ringbuf } = workerData;
const counter = new Int32Array(counterSab);
import(ringbuf).then(({ RingBuffer }) => {
  const rb = new RingBuffer(sab, Uint8Array);
  const head = new Uint8Array(4);
  const headView = new DataView(head.buffer);
  const scratch = new Uint8Array(1 << 16);
  let count = 0, sum = 0;
  parentPort.postMessage('ready');
  for (;;) {
    let n = 0;
    while (rb.availableRead() >= 4) {
      rb.pop(head, 4);
      const len = headView.getUint32(0, true);
      rb.pop(scratch, len);
      count++;
      sum = (sum + len) | 0;
      n++;
    }
    if (n > 0) { Atomics.store(counter, 1, sum); Atomics.store(counter, 0, count); continue; }
    if (Atomics.load(counter, 2) === 1) break;
    const bell = Atomics.load(counter, 4);
    Atomics.store(counter, 3, 1);
    if (rb.availableRead() < 4) Atomics.wait(counter, 4, bell, 20);
    Atomics.store(counter, 3, 0);
  }
});
`;

/**
 * Our ring against ringbuf.js (the SPSC SharedArrayBuffer ring the issue asked us to consider),
 * the same pre-encoded frames one way, counted (not decoded: that costs both the same) by the
 * receiver: frames/s, ours ÷ ringbuf.js.
 */
async function ringbufFigure(quick: boolean): Promise<{ ours: number; ringbuf: number }> {
  const { RingBuffer } = await import('ringbuf.js');
  const msgs = messages(4096);
  const codec = new FrameCodec();
  const frames = msgs.map((m) => codec.encode(m).slice());
  const ringSab = createRing(1 << 20);
  const writer = new RingWriter(ringSab);
  const ours = await startReceiver('ring', ringSab, false);
  const rbSab = RingBuffer.getStorageForCapacity(1 << 20, Uint8Array);
  const rb = new RingBuffer(rbSab, Uint8Array);
  const counterSab = new SharedArrayBuffer(32);
  const worker = new Worker(RINGBUF_RECEIVER, {
    eval: true,
    workerData: { sab: rbSab, counter: counterSab, ringbuf: import.meta.resolve('ringbuf.js') },
  });
  await new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  const theirs: Receiver = { worker, counter: new Int32Array(counterSab) };
  // Each frame as one element run: [u32 length][payload], built once (the copy a user would make).
  const pushed = frames.map((f) => {
    const b = new Uint8Array(4 + f.length);
    new DataView(b.buffer).setUint32(0, f.length, true);
    b.set(f, 4);
    return b;
  });
  let oursSent = 0;
  let theirsSent = 0;
  const bell = theirs.counter;
  const ring = (): void => {
    if (Atomics.load(bell, 3) === 0) return;
    Atomics.add(bell, 4, 1);
    Atomics.notify(bell, 4);
  };
  const [a, b] = await alternatingRates(quick, frames.length, [
    () => {
      for (const f of frames) {
        while (!writer.write(f)) writer.commit();
        if (writer.staged === 64) writer.commit();
      }
      writer.commit();
      oursSent += frames.length;
      awaitCount(ours, oursSent);
    },
    () => {
      for (let i = 0; i < pushed.length; i++) {
        const p = pushed[i] as Uint8Array;
        while (rb.availableWrite() < p.length) ring(); // a partial push would split the frame
        rb.push(p);
        if ((i & 63) === 63) ring();
      }
      ring();
      theirsSent += pushed.length;
      awaitCount(theirs, theirsSent);
    },
  ]);
  const perRound = frames.reduce((a, f) => (a + f.length) | 0, 0);
  for (const [rx, sent] of [[ours, oursSent], [theirs, theirsSent]] as const) {
    if (Atomics.load(rx.counter, 0) !== sent || Atomics.load(rx.counter, 1) !== (Math.imul(perRound, sent / msgs.length) | 0)) {
      throw new Error(`ringbuf figure: receiver lost or corrupted frames (${Atomics.load(rx.counter, 0)} of ${sent})`);
    }
  }
  Atomics.store(ours.counter, 2, 1);
  Atomics.store(theirs.counter, 2, 1);
  await Promise.all([ours.worker.terminate(), theirs.worker.terminate()]);
  return { ours: a, ringbuf: b };
}

function frameSizes(): [number, number] {
  const codec = new FrameCodec();
  const sizes = messages(4096).map((m) => codec.encode(m).length);
  return [Math.min(...sizes), Math.max(...sizes)];
}

/**
 * Round-trip p50 of a whole `VppConnector.request` over the ring and over postMessage, each with its
 * own sim, both open at once and measured in alternating short rounds (medians of the rounds' p50s).
 */
async function rttP50s(quick: boolean): Promise<{ ring: number; pm: number }> {
  const open = async (transport: 'ring' | 'postMessage') => {
    const sim = await startNativeSim();
    return { sim, c: await VppConnector.connect(sim, { transport, pingInterval: 0 }) };
  };
  const sides = [await open('ring'), await open('postMessage')];
  try {
    const p50s: [number[], number[]] = [[], []];
    const rounds = quick ? 3 : 12;
    for (let r = 0; r < rounds; r++) {
      const bench = new Bench({ time: quick ? 60 : 160, warmupTime: quick ? 20 : 40 });
      for (const k of r % 2 === 0 ? [0, 1] : [1, 0]) {
        const c = (sides[k] as { c: VppConnector }).c;
        bench.add(String(k), async () => {
          const reply = await c.request('sw_interface_set_flags', { sw_if_index: 0, flags: 1 });
          if (reply['retval'] !== 0) throw new Error('bad reply');
        });
      }
      await bench.run();
      for (const t of bench.tasks) {
        if (t.result.state !== 'completed') throw new Error(`rtt round ${r}, side ${t.name}: ${t.result.state}`);
        (p50s[Number(t.name)] as number[]).push(t.result.latency.p50 * 1000);
      }
    }
    return { ring: median(p50s[0]), pm: median(p50s[1]) };
  } finally {
    for (const { sim, c } of sides) {
      await c.close();
      await sim.close();
    }
  }
}

async function encodeFigure(quick: boolean): Promise<{ mp: number; json: number }> {
  const msgs = messages(256);
  const codec = new FrameCodec();
  const check = new FrameCodec();
  for (const m of msgs) {
    if (JSON.stringify(check.decode(codec.encode(m))) !== JSON.stringify(m)) throw new Error('codec round trip differs');
  }
  return encodeRates(quick, msgs, (m) => codec.encode(m));
}

/**
 * The engine's own path for the same requests: encoded from name, context and fields
 * (`encodeRequest`, no message object), against building the message and JSON.stringify-ing it.
 */
async function requestEncodeFigure(quick: boolean): Promise<{ mp: number; json: number }> {
  const reqs = messages(256).map((m) => {
    const { _msgname: name, context, ...fields } = m as { _msgname: string; context: number };
    return { name, context, fields };
  });
  const codec = new FrameCodec();
  for (const r of reqs) {
    const via = JSON.stringify(codec.decode(codec.encodeRequest(r.name, r.context, r.fields)));
    if (via !== JSON.stringify(requestMessage(r.name, r.context, r.fields))) throw new Error('encodeRequest round trip differs');
  }
  let sink = 0;
  const [mp, json] = await alternatingRates(quick, reqs.length, [
    () => {
      for (const r of reqs) sink += codec.encodeRequest(r.name, r.context, r.fields).length;
    },
    () => {
      for (const r of reqs) sink += JSON.stringify(requestMessage(r.name, r.context, r.fields)).length;
    },
  ]);
  if (sink === 0) throw new Error('nothing encoded');
  return { mp, json };
}

/** Messages/s decoded by the record reader and by msgpackr alone (the reader's off switch), same frames. */
async function decodeRates(quick: boolean): Promise<{ reader: number; msgpackr: number }> {
  const writer = new FrameCodec();
  const frames = messages(256).map((m) => writer.encode(m).slice());
  const reader = new FrameCodec({ recordReader: true });
  const plain = new FrameCodec({ recordReader: false });
  for (const f of frames) {
    if (JSON.stringify(reader.decode(f)) !== JSON.stringify(plain.decode(f))) throw new Error('record reader and msgpackr disagree');
  }
  let sink = 0;
  const [a, b] = await alternatingRates(quick, frames.length, [
    () => {
      for (const f of frames) sink += (reader.decode(f) as { context: number }).context;
    },
    () => {
      for (const f of frames) sink += (plain.decode(f) as { context: number }).context;
    },
  ]);
  if (sink === 0) throw new Error('nothing decoded');
  return { reader: a, msgpackr: b };
}

/** The what-if of bench/binary-addresses.ts: the same messages with binary addresses, each written by the record writer. */
async function binaryAddressFigure(quick: boolean): Promise<{ mp: number; json: number }> {
  const msgs = messages(256).map((m) => withBinaryAddresses(m) as Record<string, unknown>);
  const writer = binaryAddressWriter();
  for (const m of msgs) if (writer.write(m) === undefined) throw new Error(`binary addresses: the writer declined ${JSON.stringify(m)}`);
  return encodeRates(quick, msgs, (m) => writer.write(m) as Uint8Array);
}

/** Messages/s of `encode` and of JSON.stringify over the same messages (alternating rounds). */
async function encodeRates(quick: boolean, msgs: Array<Record<string, unknown>>, encode: (m: Record<string, unknown>) => Uint8Array): Promise<{ mp: number; json: number }> {
  let sink = 0;
  const [mp, json] = await alternatingRates(quick, msgs.length, [
    () => {
      for (const m of msgs) sink += encode(m).length;
    },
    () => {
      for (const m of msgs) sink += JSON.stringify(m).length;
    },
  ]);
  if (sink === 0) throw new Error('nothing encoded');
  return { mp, json };
}

/**
 * Items/s of two loops over `items` items each, measured in alternating short tinybench rounds
 * (first one, then the other, then the other way round) and reported as each one's median: the
 * machine's speed drifts by up to 2× within seconds here, and one long run of each would put the
 * drift into the ratio.
 */
async function alternatingRates(quick: boolean, items: number, loops: readonly [() => void, () => void]): Promise<[number, number]> {
  const rounds = quick ? 3 : 12;
  const rates: [number[], number[]] = [[], []];
  for (let r = 0; r < rounds; r++) {
    const bench = new Bench({ time: quick ? 60 : 120, warmupTime: quick ? 20 : 40 });
    const order = r % 2 === 0 ? [0, 1] : [1, 0];
    for (const k of order) bench.add(String(k), loops[k] as () => void);
    await bench.run();
    for (const t of bench.tasks) {
      if (t.result.state !== 'completed') throw new Error(`round ${r}, loop ${t.name}: ${t.result.state}`);
      // Work over time (1000 / mean ms per run): tinybench's throughput.mean averages per-sample rates, which overstates.
      (rates[Number(t.name)] as number[]).push((1000 / t.result.latency.mean) * items);
    }
  }
  return [median(rates[0]), median(rates[1])];
}

export const suite: BenchSuite = {
  name: 'transport',
  async run({ quick }) {
    const [min, max] = frameSizes();
    process.stderr.write(`transport.frames: msgpack frames of ${min}–${max} B\n`);
    const frames = await framesFigure(quick, 'encoded');
    const e2e = await framesFigure(quick, 'e2e');
    const vsRingbuf = await ringbufFigure(quick);
    const rtt = await rttP50s(quick);
    const ringRtt = rtt.ring;
    const pmRtt = rtt.pm;
    const enc = await encodeFigure(quick);
    const binary = await binaryAddressFigure(quick);
    const dec = await decodeRates(quick);
    const req = await requestEncodeFigure(quick);
    return {
      'transport.frames': figure(frames.ring, frames.pm, 'frames/s', 'ratio >= 20', frames.ring >= 20 * frames.pm),
      // For the record: encode on main + decode on the receiver included, vs postMessage of objects.
      'transport.frames.e2e': figure(e2e.ring, e2e.pm, 'msgs/s'),
      // Why our own ring: the same frames, decoded by the receiver, against ringbuf.js.
      'transport.ringbuf': figure(vsRingbuf.ours, vsRingbuf.ringbuf, 'frames/s', 'ratio >= 1 (ours vs ringbuf.js)', vsRingbuf.ours >= vsRingbuf.ringbuf),
      'transport.rtt': figure(ringRtt, pmRtt, 'µs p50', 'ratio <= 0.2', ringRtt <= 0.2 * pmRtt),
      'codec.encode': figure(enc.mp, enc.json, 'msgs/s', 'ratio >= 3', enc.mp >= 3 * enc.json),
      // For the record: would binary addresses lift it? (bench/binary-addresses.ts)
      'codec.encode.binary-addresses': figure(binary.mp, binary.json, 'msgs/s'),
      // For the record: the connector's path (from the scheduler's name and fields) against the JSON transport's.
      'codec.encode.request': figure(req.mp, req.json, 'msgs/s'),
      // For the record: the record reader against msgpackr's unpack of the same frames.
      'codec.decode': figure(dec.reader, dec.msgpackr, 'msgs/s'),
    };
  },
};
