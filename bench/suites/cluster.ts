// Many nodes: N engines, each in its own process with its own native-sim, watch one etcd holding
// a synthetic cluster; changes are streamed into etcd and timed from the etcd write to the moment
// each node's controller finished the event (its dataplane commit included).
// Baseline, same run, same writes: a bare etcd watcher in this process (delivery only, no engine).
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Etcd3, type IWatchResponse } from 'etcd3';
import { type BenchSuite, type Figure, figure, percentile } from '../figure.js';
import { KubeStateChange } from '../../src/api/events.js';
import { DbWatcher, generateCluster, kubeResourcePrefix, kubeStateEtcdKey, loadIntoEtcd, podKey, type PodValue } from '../../src/dbwatcher/index.js';
import { startEtcd } from '../../test/helpers/etcd-server.js';
import { WRITTEN_AT, type NodeMessage } from '../cluster-protocol.js';

const nodeEntry = join(dirname(fileURLToPath(import.meta.url)), '..', 'cluster-node.js');
const now = (): number => performance.timeOrigin + performance.now();

interface NodeHandle {
  readonly child: ChildProcess;
  ready: Promise<Extract<NodeMessage, { type: 'ready' }>>;
  latencies: number[];
  applied: number;
  errors: number;
  firstApplied: number;
  lastApplied: number;
  status: string;
  waiters: Array<{ count: number; resolve: () => void }>;
  stopped: Extract<NodeMessage, { type: 'stopped' }> | null;
}

function startNode(index: number, etcd: string): NodeHandle {
  const child = fork(nodeEntry, [], { env: { ...process.env, CLUSTER_NODE: JSON.stringify({ index, etcd }) }, serialization: 'advanced' });
  let onReady!: (m: Extract<NodeMessage, { type: 'ready' }>) => void;
  const handle: NodeHandle = {
    child,
    ready: new Promise((resolve) => (onReady = resolve)),
    latencies: [],
    applied: 0,
    errors: 0,
    firstApplied: 0,
    lastApplied: 0,
    status: '',
    waiters: [],
    stopped: null,
  };
  child.on('error', (err) => process.stderr.write(`  node ${index}: ${err.message}\n`));
  child.on('message', (m: NodeMessage) => {
    if (m.type === 'ready') onReady(m);
    if (m.type === 'stopped') handle.stopped = m;
    if (m.type === 'samples') {
      for (const x of m.latenciesMs) handle.latencies.push(x);
      handle.applied = m.applied;
      handle.errors = m.errors;
      handle.firstApplied = m.firstApplied;
      handle.lastApplied = m.lastApplied;
      handle.status = `watcher backlog ${m.pushBacklog}, controller queue ${m.queueDepth}`;
      handle.waiters = handle.waiters.filter((w) => {
        if (handle.applied < w.count) return true;
        w.resolve();
        return false;
      });
    }
  });
  return handle;
}

function appliedAtLeast(node: NodeHandle, count: number, timeoutMs: number): Promise<void> {
  if (node.applied >= count) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node stalled at ${node.applied}/${count} applied changes (${node.status})`)), timeoutMs);
    node.waiters.push({ count, resolve: () => (clearTimeout(timer), resolve()) });
  });
}

const stops = new WeakMap<NodeHandle, Promise<void>>();

/** Stops a node once (later calls share the first stop); never throws. */
function stopNode(node: NodeHandle, streamed = 0): Promise<void> {
  let p = stops.get(node);
  if (!p) {
    p = (async () => {
      if (node.child.exitCode !== null || node.child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => node.child.once('exit', () => resolve()));
      if (node.child.connected) node.child.send({ type: 'stop', streamed });
      else node.child.kill('SIGKILL');
      const timer = setTimeout(() => node.child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    })();
    stops.set(node, p);
  }
  return p;
}

export const suite: BenchSuite = {
  name: 'cluster',
  async run({ quick }) {
    // CLUSTER_NODES / CLUSTER_PODS override the sizes (to explore where the stack holds up).
    const nodesN = Number(process.env['CLUSTER_NODES'] ?? (quick ? 2 : 4));
    const pods = Number(process.env['CLUSTER_PODS'] ?? (quick ? 1000 : 10_000));
    const latencyWrites = quick ? 100 : 400;
    const burstWrites = quick ? 300 : 2000;
    const etcd = await startEtcd();
    const client = new Etcd3({ hosts: etcd.url });
    const nodes: NodeHandle[] = [];
    const cleanups: Array<() => Promise<void>> = [];
    try {
      const loadStart = now();
      await loadIntoEtcd(client, generateCluster({ pods, services: Math.ceil(pods / 20), namespaces: 10, policies: Math.ceil(pods / 100), nodes: nodesN }));
      const loadMs = now() - loadStart;
      process.stderr.write(`  loaded ${pods} pods into etcd in ${loadMs.toFixed(0)} ms; starting ${nodesN} nodes\n`);

      for (let i = 0; i < nodesN; i++) nodes.push(startNode(i, etcd.url));
      const ready = await Promise.all(nodes.map((n) => n.ready));
      const resyncMs = Math.max(...ready.map((r) => r.resyncMs));
      process.stderr.write(`  all nodes resynced (slowest ${resyncMs.toFixed(0)} ms)${ready.map((r) => (r.error ? `; node ${r.node} resync error: ${r.error.slice(0, 400)}` : "")).join("")}\n`);

      // Baseline: a bare watcher on the pod prefix, timing etcd's delivery of the same writes.
      const rawLatencies: number[] = [];
      let rawFirst = 0;
      let rawLast = 0;
      // The watcher alone (with its lmdb mirror) in this process, feeding a loop that only counts:
      // what the DbWatcher itself costs, next to the same bare watch.
      let watcherSeen = 0;
      let watcherLast = 0;
      const mirrorDir = await mkdtemp(join(tmpdir(), 'cluster-watcher-'));
      const watcherOnly = new DbWatcher({
        eventLoop: {
          pushEvent: (ev) => {
            if (ev instanceof KubeStateChange && ev.key.startsWith('stream-')) {
              watcherSeen++;
              watcherLast = now();
            }
          },
        },
        etcd: { hosts: etcd.url },
        nodeLabel: 'bench',
        localDbPath: mirrorDir,
      });
      await watcherOnly.start();
      cleanups.push(async () => {
        await watcherOnly.close();
        await rm(mirrorDir, { recursive: true, force: true });
      });
      const raw = await client.watch().prefix(kubeResourcePrefix('pod')).create();
      raw.on('data', (res: IWatchResponse) => {
        const t = now();
        for (const ev of res.events) {
          if (ev.type !== 'Put') continue;
          const v = JSON.parse(ev.kv.value.toString()) as PodValue;
          const at = Number(v.annotations?.[WRITTEN_AT]);
          if (!Number.isFinite(at)) continue;
          if (rawLatencies.length === latencyWrites) rawFirst = t;
          rawLatencies.push(t - at);
          rawLast = t;
        }
      });

      let seq = 0;
      const streamPod = (): { key: Buffer; value: Buffer } => {
        const name = `stream-${seq++}`;
        const value: PodValue = { name, namespace: 'ns-0', labels: { app: 'bench-stream' }, annotations: { [WRITTEN_AT]: String(now()) } };
        return { key: Buffer.from(kubeStateEtcdKey('pod', podKey(name, 'ns-0'))), value: Buffer.from(JSON.stringify(value)) };
      };
      /** One etcd transaction of `n` new pods (one revision, n watch events). */
      const write = (n = 1): Promise<unknown> => {
        const ops = Array.from({ length: n }, () => ({ request_put: streamPod() }));
        return client.kv.txn({ compare: [], success: ops, failure: [] });
      };
      // Phase 1, latency: one write at a time, each waited for by every node before the next.
      for (let i = 0; i < latencyWrites; i++) {
        await write();
        await Promise.all(nodes.map((n) => appliedAtLeast(n, i + 1, 60_000)));
      }
      const e2e = nodes.flatMap((n) => n.latencies).sort((a, b) => a - b);
      const rawLat = rawLatencies.slice(0, latencyWrites).sort((a, b) => a - b);

      // Phase 2, throughput: a burst of new pods in transactions of 50, 4 in flight (etcd's own
      // write rate on this disk would otherwise be the bottleneck).
      const burstStart = now();
      const inFlight = new Set<Promise<unknown>>();
      for (let i = 0; i < burstWrites; i += 50) {
        const p = write(Math.min(50, burstWrites - i)).finally(() => inFlight.delete(p));
        inFlight.add(p);
        if (inFlight.size >= 4) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
      const total = latencyWrites + burstWrites;
      await Promise.all(nodes.map((n) => appliedAtLeast(n, total, 120_000)));
      const perNode = nodes.map((n) => burstWrites / ((n.lastApplied - burstStart) / 1000));
      const rawRate = burstWrites / ((rawLast - burstStart) / 1000);
      const worstNode = Math.min(...perNode);
      const errors = nodes.reduce((s, n) => s + n.errors, 0);
      await raw.cancel();
      const watcherRate = watcherSeen === total ? burstWrites / ((watcherLast - burstStart) / 1000) : 0;
      // Verify inside the benchmark: every streamed pod has its interface on every node's dataplane.
      // The figures are marked met only when this holds: a run whose changes did not reach the
      // dataplane (e.g. an aborting event loop finishing events at once) must not pass as fast.
      await Promise.all(nodes.map((n) => stopNode(n, total)));
      // Events that failed and were healed still count as applied when the dataplane has the pod.
      let verified = true;
      for (const [i, n] of nodes.entries()) {
        const found = n.stopped?.streamInterfaces ?? -1;
        process.stderr.write(`  verify: node ${i} has ${found}/${total} streamed pods' interfaces on its dataplane\n`);
        if (found !== total) verified = false;
      }
      if (!verified) process.stderr.write('  VERIFICATION FAILED: figures are marked MISSED (a node dataplane lacks streamed pods)\n');
      process.stderr.write(
        `  burst: per-node ${perNode.map((r) => r.toFixed(0)).join(', ')} changes/s; raw watch ${rawFirst ? rawRate.toFixed(0) : '?'} /s; event errors ${errors}\n`,
      );

      const figures: Record<string, Figure> = {
        cluster_e2e_p50_ms: figure(percentile(e2e, 50), percentile(rawLat, 50), 'ms', 'write -> applied on each node (verified)', verified),
        cluster_e2e_p99_ms: figure(percentile(e2e, 99), percentile(rawLat, 99), 'ms', 'write -> applied on each node (verified)', verified),
        cluster_node_changes_per_s: figure(worstNode, rawRate, 'changes/s', `slowest of ${nodesN} nodes (verified)`, verified),
        cluster_watcher_changes_per_s: figure(watcherRate, rawRate, 'changes/s', 'DbWatcher + mirror alone; baseline: bare etcd watch', watcherSeen === total),
        cluster_initial_resync_ms: figure(resyncMs, loadMs, 'ms', `${pods} pods, ${nodesN} nodes, no error`, ready.every((r) => r.error === null)),
      };
      return figures;
    } finally {
      await Promise.all(nodes.map((n) => stopNode(n)));
      for (const c of cleanups) await c();
      client.close();
      await etcd.stop();
    }
  },
};
