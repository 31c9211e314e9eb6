// Piscina task module of the offload pool: diff a shard, or encode a wave's ops into a producer ring.
import { getPriority, setPriority } from 'node:os';
// piscina hands its `workerData` option to the thread as is: read it from Node, not by importing
// piscina here (this module is itself being loaded by piscina's worker).
import { workerData } from 'node:worker_threads';
import { Packr } from 'msgpackr';
import { FrameCodec } from '../src/connector/frame-codec.js';
import { makeContext, SEQUENCE_MASK } from '../src/connector/context.js';
import { RingWriter } from '../src/connector/ring.js';
import { loadDescriptors } from '../src/offload/descriptors-module.js';
import { COMMIT_EVERY, FrameBatch, RecordingMetadata, copyFrames, encodeFrame, writeWaiting, type PreEncoded } from '../src/offload/pre-encoded.js';
import { KindTable, Stage, diffShard, encodeSegment, packSegment, scanGone, segmentAt, unpackSegment, TaskMetadata, type GoneScan, type OpSegment, type RequestSink } from '../src/offload/shard-work.js';
import { ShardView } from '../src/offload/shard-bytes.js';
import { toShared } from '../src/offload/state-snapshot.js';
import type {
  CopyTask,
  CopyTaskResult,
  DiffTask,
  DiffTaskResult,
  EncodeTask,
  EncodeTaskResult,
  GoneTask,
  OffloadTask,
  OffloadWorkerData,
} from '../src/offload/task-protocol.js';
import type { BinapiRequest } from '../src/scheduler/binapi-client.js';

// Lower this thread alone (on Linux a nice value is per thread): the main thread's event loop keeps
// its core while a big resync keeps the pool busy. Not permitted or not supported: run as we are.
const nice = (workerData as OffloadWorkerData | undefined)?.nice ?? 0;
if (nice > 0) {
  try {
    setPriority(Math.min(19, getPriority() + nice));
  } catch {
    // keep the process's priority
  }
}

const tables = new Map<string, Promise<KindTable>>();
function kindTable(module: string | undefined): Promise<KindTable> {
  const k = module ?? '';
  let t = tables.get(k);
  if (!t) tables.set(k, (t = loadDescriptors(module).then((d) => new KindTable(d))));
  return t;
}

/**
 * One codec per worker thread, shared by every task's sink: building one compiles the record
 * writer's and reader's functions, too much to do for each task. Its bytes are copied into a ring
 * at once, and a thread runs one task's sends at a time.
 */
const codec = new FrameCodec();

class RingSink implements RequestSink {
  readonly #writer: RingWriter;
  readonly #channel: number;
  readonly #stallTimeout: number;
  #sequence: number;
  #sinceCommit = 0;

  constructor(t: NonNullable<EncodeTask['ring']>, stallTimeout: number) {
    this.#writer = new RingWriter(t.ring, t.doorbell);
    this.#channel = t.channel;
    this.#sequence = t.sequence;
    this.#stallTimeout = stallTimeout;
  }

  sendAll(reqs: readonly BinapiRequest[]): void {
    // Every frame is encoded before the first is written: an op goes out whole or not at all, and
    // the sequence counts only frames written (the pool matches replies by it).
    const max = this.#writer.maxPayloadBytes;
    const frames = reqs.map((r, k) => encodeFrame(codec, r, makeContext(this.#channel, (this.#sequence + k + 1) & SEQUENCE_MASK), max));
    for (const bytes of frames) {
      this.#sequence = (this.#sequence + 1) & SEQUENCE_MASK;
      if (writeWaiting(this.#writer, bytes, this.#stallTimeout)) this.#sinceCommit = 0;
      if (++this.#sinceCommit >= COMMIT_EVERY) this.flush();
    }
  }

  flush(): void {
    this.#writer.commit();
    this.#sinceCommit = 0;
  }
}

class ArraySink implements RequestSink {
  readonly requests: BinapiRequest[] = [];
  sendAll(reqs: readonly BinapiRequest[]): void {
    // All requests travel in one message: one the codec cannot write must fail its op alone, here.
    for (const r of reqs) encodeFrame(codec, r, 0, Infinity);
    this.requests.push(...reqs);
  }
}

async function diff(t: DiffTask): Promise<DiffTaskResult> {
  const kinds = await kindTable(t.descriptorsModule);
  const out = diffShard(new ShardView(t.desired), new ShardView(t.applied), kinds, { gone: new Set(t.gone), deleted: new Set(t.deleted), cyclic: new Set(t.cyclic) }, new Set(t.known), new Map(t.madeWith));
  const waves: Array<Uint8Array | null> = [];
  const pre: Array<PreEncoded | null> = [];
  const at: Array<Pick<PreEncoded, 'ops' | 'pos'> | null> = [];
  const counts: number[] = [];
  const mainOnly: boolean[] = [];
  const recreated: Array<readonly string[]> = [];
  // One metadata for the task: ids it allocates come from its own range, whatever the wave.
  const md = t.preEncode ? new RecordingMetadata(t.preEncode.metadata, t.preEncode.alloc) : null;
  for (let w = 0; w < kinds.waveCount; w++) {
    const seg = out.waves[w];
    counts.push(seg ? seg.keys.length : 0);
    recreated.push(seg?.recreated ?? []);
    const bound = seg ? kinds.threadBound(seg) : false;
    mainOnly.push(bound);
    let frames: PreEncoded | null = null;
    if (seg && md && !bound) {
      try {
        frames = preEncode(seg, kinds, md, t.preEncode?.maxPayload ?? Infinity);
      } catch {
        // Requests that cannot be written fail their own ops in preEncode; anything else thrown
        // here sends the segment the packed way, its encode task failing just its keys.
        frames = null;
      }
    }
    let bytes: Uint8Array | null = null;
    let where: Pick<PreEncoded, 'ops' | 'pos'> | null = null;
    if (seg && !frames) {
      try {
        bytes = toShared(packSegment(seg));
      } catch {
        // A normalized value msgpack cannot carry (a user descriptor's BigInt): the segment goes by
        // its ops' positions in the shards instead, rebuilt where it is encoded, as inline.
        where = { ops: Uint8Array.from(seg.op), pos: Int32Array.from(seg.pos ?? []) };
      }
    }
    waves.push(bytes);
    at.push(where);
    pre.push(frames);
  }
  return { waves, pre, at, counts, mainOnly, recreated, failures: out.failures, dropped: out.dropped, unlinked: out.unlinked, orphans: out.orphans, compared: out.compared };
}

/** The Main stage's frames of one segment, with what settling them needs. */
function preEncode(seg: OpSegment, kinds: KindTable, md: RecordingMetadata, maxPayload: number): PreEncoded {
  md.reads.clear();
  md.readAll = false;
  const batch = new FrameBatch(codec, maxPayload);
  const r = encodeSegment(seg, Stage.Main, kinds, md, batch);
  return {
    ...r,
    ...batch.finish(),
    frameOp: r.frameOp.slice(),
    reads: md.readAll ? null : [...md.reads],
    ops: Uint8Array.from(seg.op),
    pos: Int32Array.from(seg.pos ?? []),
    allocated: md.highest,
  };
}

const requestPackr = new Packr({ useRecords: true, moreTypes: false });

async function encode(t: EncodeTask): Promise<EncodeTaskResult> {
  const kinds = await kindTable(t.descriptorsModule);
  const seg = t.at ? segmentAt(new ShardView(t.at.desired), new ShardView(t.at.applied), t.at.ops, t.at.pos, kinds) : unpackSegment(t.segment);
  const md = new TaskMetadata(t.metadata, t.alloc);
  const skip = t.skip ? new Set(t.skip) : undefined;
  if (t.ring) {
    const sink = new RingSink(t.ring, t.stallTimeout);
    const r = encodeSegment(seg, t.stage, kinds, md, sink, skip);
    sink.flush();
    return { ...r, frameOp: r.frameOp.slice(), requests: null, allocated: md.highest };
  }
  const sink = new ArraySink();
  const r = encodeSegment(seg, t.stage, kinds, md, sink, skip);
  return { ...r, frameOp: r.frameOp.slice(), requests: requestPackr.pack(sink.requests), allocated: md.highest };
}

function copy(t: CopyTask): CopyTaskResult {
  const { channel, sequence } = t.ring;
  const frames = copyFrames(t.frames, new RingWriter(t.ring.ring, t.ring.doorbell), (f) => makeContext(channel, (sequence + f + 1) & SEQUENCE_MASK), t.stallTimeout);
  return { frames };
}

async function gone(t: GoneTask): Promise<GoneScan> {
  return scanGone(new ShardView(t.desired), new ShardView(t.applied), await kindTable(t.descriptorsModule), t.kept, new Set(t.known), new Set(t.cyclic));
}

export default function run(task: OffloadTask): Promise<GoneScan | DiffTaskResult | EncodeTaskResult | CopyTaskResult> {
  if (task.kind === 'copy') return Promise.resolve(copy(task));
  if (task.kind === 'gone') return gone(task);
  return task.kind === 'diff' ? diff(task) : encode(task);
}
