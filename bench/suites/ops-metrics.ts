// Cost of recording one processed event into the Prometheus metrics: EngineMetrics keeps one
// series object per event/handler name, updated with plain arithmetic; the baseline is the same
// metrics used the plain prom-client way (a labels object validated and hashed on every call),
// measured in the same run.
import { Counter, Histogram, Registry } from 'prom-client';
import { Bench } from 'tinybench';
import { figure, type BenchSuite } from '../figure.js';
import { EngineMetrics, type MetricsEventInfo as ProcessedEventInfo } from '../../src/metrics/index.js';

const NAMES = ['Kubernetes State Change', 'External Config Change', 'Healing Resync'];
const HANDLERS = ['ipam', 'podmanager', 'nodesync'];

function infos(): ProcessedEventInfo[] {
  return Array.from({ length: 64 }, (_, i) => ({
    seqNum: i,
    name: NAMES[i % NAMES.length] as string,
    method: 3,
    isFollowUp: false,
    result: i % 7 === 0 ? 'error' : 'ok',
    error: null,
    durationMs: 0.05 + (i % 5) * 0.01,
    handlerMs: HANDLERS.map((handler, h) => ({ handler, ms: 0.01 * (h + 1) })),
    commitMs: 0.02,
    healing: false,
  }));
}

/** The straightforward way, for the baseline. */
function naive(registry: Registry): (info: ProcessedEventInfo) => void {
  const registers = [registry];
  const events = new Counter({ name: 'n_events_total', help: 'h', labelNames: ['event', 'result'], registers });
  const dur = new Histogram({ name: 'n_event_seconds', help: 'h', labelNames: ['event'], registers });
  const handlers = new Histogram({ name: 'n_handler_seconds', help: 'h', labelNames: ['handler'], registers });
  const commit = new Histogram({ name: 'n_commit_seconds', help: 'h', registers });
  return (info) => {
    events.inc({ event: info.name, result: info.result });
    dur.observe({ event: info.name }, info.durationMs / 1000);
    for (const h of info.handlerMs) handlers.observe({ handler: h.handler }, h.ms / 1000);
    if (info.commitMs !== null) commit.observe(info.commitMs / 1000);
  };
}

async function count(registry: Registry, name: string): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  return (metric?.values ?? []).reduce((sum, v) => sum + v.value, 0);
}

export const suite: BenchSuite = {
  name: 'ops-metrics',
  async run({ quick }) {
    const batch = infos();
    const engine = new EngineMetrics({ defaultMetrics: false });
    const baseRegistry = new Registry();
    const base = naive(baseRegistry);
    const bench = new Bench({ time: quick ? 100 : 1500, warmupTime: quick ? 20 : 300 });
    bench.add('EngineMetrics.record', () => {
      for (const info of batch) engine.record(info);
    });
    bench.add('prom-client plain labels', () => {
      for (const info of batch) base(info);
    });
    await bench.run();
    const [mine, theirs] = bench.tasks.map((task) => {
      const r = task.result;
      if (r.state !== 'completed') throw new Error(`${task.name}: ${r.state}`);
      // Work over time: the mean latency per task (tinybench's throughput.mean averages per-sample rates, which overstates).
      return { hz: (1000 / r.latency.mean) * batch.length, runs: r.totalTime };
    });
    // Verify both did the same work: every recorded event was counted.
    const a = await count(engine.registry, 'vpp_engine_events_processed_total');
    const b = await count(baseRegistry, 'n_events_total');
    if (a === 0 || a % batch.length !== 0 || b % batch.length !== 0) throw new Error(`event counts not whole batches: ${a}, ${b}`);
    return {
      'metrics.record': figure(mine?.hz ?? NaN, theirs?.hz ?? NaN, 'events/s', 'ratio >= 5', (mine?.hz ?? 0) >= 5 * (theirs?.hz ?? Infinity)),
    };
  },
};
