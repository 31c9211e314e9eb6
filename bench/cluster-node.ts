// One node of the cluster scenario (bench/suites/cluster.ts), run as a child process: an Engine
// (controller with the built-in handlers over the default stack: its own native-sim, connector,
// scheduler) and a DbWatcher on the shared etcd. It reports over IPC when the first DBResync is
// processed and, for every change that carries a write timestamp, when the controller finished it
// (commit to the dataplane included).
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DBResync, KubeStateChange, type Event } from '../src/api/events.js';
import { DbWatcher } from '../src/dbwatcher/index.js';
import { builtinHandlers, podInterfaceName } from '../src/handlers/index.js';
import { Engine } from '../src/engine/index.js';
import { WRITTEN_AT, type NodeMessage, type NodeConfig } from './cluster-protocol.js';

const config = JSON.parse(process.env['CLUSTER_NODE'] ?? '{}') as NodeConfig;
// A bench node reports what broke and keeps going, so that the run ends with figures marked missed
// rather than a dead child.
process.on('unhandledRejection', (err) => {
  process.stderr.write(`  node ${config.index}: unhandled rejection: ${err instanceof Error ? err.message : String(err)}\n`);
});
const send = (m: NodeMessage): void => {
  process.send?.(m);
};
const now = (): number => performance.timeOrigin + performance.now();

const mirrorDir = await mkdtemp(join(tmpdir(), 'cluster-node-'));
const engine = await Engine.start({ handlers: builtinHandlers(), stack: { sim: { seed: config.index + 1 } } });
const { controller, scheduler } = engine;

let samples: number[] = [];
let applied = 0;
let errors = 0;
let firstApplied = 0;
let lastApplied = 0;
const resyncStarted = now();

/** Wraps `done` of the events we time; the controller calls it once the event is processed. */
function instrument(event: Event): void {
  if (event instanceof DBResync) {
    const ev = event;
    const done = ev.done.bind(ev);
    ev.done = (err) => {
      done(err);
      let pods = 0;
      for (const m of ev.kubeState.values()) pods += m.size;
      send({ type: 'ready', node: config.index, resyncMs: now() - resyncStarted, objects: pods, error: err ? err.message : null });
    };
    return;
  }
  if (!(event instanceof KubeStateChange) || event.newValue === null) return;
  const annotations = (event.newValue as { annotations?: Record<string, string> }).annotations;
  const writtenAt = Number(annotations?.[WRITTEN_AT]);
  if (!Number.isFinite(writtenAt)) return;
  const ev = event;
  ev.done = (err) => {
    const t = now();
    if (err && errors++ === 0) process.stderr.write(`  node ${config.index}: first event error: ${err.message.slice(0, 300)}\n`);
    if (applied === 0) firstApplied = t;
    lastApplied = t;
    applied++;
    samples.push(t - writtenAt);
  };
}

const watcher = new DbWatcher({
  eventLoop: {
    pushEvent: (event) => {
      instrument(event);
      controller.pushEvent(event);
    },
  },
  etcd: { hosts: config.etcd },
  nodeLabel: `node-${config.index + 1}`,
  localDbPath: mirrorDir,
  remoteDBProbingInterval: 1000,
});
await watcher.start();

const report = (): void => {
  const status = { pushBacklog: watcher.stats.pushBacklog, queueDepth: controller.queueDepth };
  send({ type: 'samples', node: config.index, latenciesMs: samples, applied, errors, firstApplied, lastApplied, ...status });
  samples = [];
};
let ticks = 0;
// Samples every 50 ms; the queue status at least every second, so a stall can be told apart.
const flush = setInterval(() => {
  if (samples.length > 0 || ++ticks % 20 === 0) report();
}, 50);

let stopping = false;
// The bench process died without stopping us: remove the mirror and leave.
process.on('disconnect', () => {
  if (stopping) return;
  rmSync(mirrorDir, { recursive: true, force: true });
  process.exit(1);
});

process.on('message', (m: { type: string; streamed?: number }) => {
  if (m.type !== 'stop') return;
  stopping = true;
  void (async () => {
    clearInterval(flush);
    report();
    await watcher.close();
    // -1 when the dataplane cannot even be dumped (the bench then marks its figures missed).
    let streamInterfaces = -1;
    try {
      const sb = await scheduler.dump('config/vpp/v2/interfaces/', 'sb');
      streamInterfaces = 0;
      for (let i = 0; i < (m.streamed ?? 0); i++) {
        if (sb.has(`config/vpp/v2/interfaces/${podInterfaceName(`ns-0/stream-${i}`)}`)) streamInterfaces++;
      }
    } catch (err) {
      process.stderr.write(`  node ${config.index}: dataplane dump failed: ${(err as Error).message}\n`);
    }
    try {
      await engine.close();
    } catch (err) {
      process.stderr.write(`  node ${config.index}: shutdown error: ${(err as Error).message}\n`);
    }
    await rm(mirrorDir, { recursive: true, force: true });
    send({ type: 'stopped', node: config.index, streamInterfaces, duplicatesSkipped: watcher.stats.duplicatesSkipped, pushRetries: watcher.stats.pushRetries });
    process.disconnect?.();
  })();
});
