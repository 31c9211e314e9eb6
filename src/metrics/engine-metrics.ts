import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { resolveMetricsOptions, type EngineMetricsOptions } from './options.js';
import type {
  ConnectorStats,
  MetricsConnectorSource,
  MetricsControllerSource,
  MetricsOrchestratorSource,
  ProcessedEventInfo,
} from './sources.js';

type CounterChild = ReturnType<Counter<string>['labels']>;
type HistogramChild = ReturnType<Histogram<string>['labels']>;

/** The counters last seen on one connector, so a scrape adds only what changed since. */
interface SeenStats {
  errorsByRetval: Record<string, number>;
  timeouts: number;
  protocolErrors: number;
}

/**
 * Prometheus metrics of one engine, in a registry of its own (never the global default one).
 * Sources are structural and optional: attach whichever of controller, connector, orchestrator exist.
 */
export class EngineMetrics {
  /** The registry every metric of this instance lives in. */
  readonly registry: Registry;
  readonly #eventsProcessed: Counter<'event' | 'result'>;
  readonly #eventDuration: Histogram<'event'>;
  readonly #handlerDuration: Histogram<'handler'>;
  readonly #commitDuration: Histogram<string>;
  readonly #healingResyncs: Counter<string>;
  readonly #orchestratorResyncs: Counter<'completed'>;
  readonly #controllers = new Map<MetricsControllerSource, () => void>();
  readonly #connectors = new Map<MetricsConnectorSource, SeenStats>();
  readonly #orchestrators = new Map<MetricsOrchestratorSource, () => void>();
  // Label children cached per label value: the per-event path then does no label hashing.
  readonly #eventChildren = new Map<string, { ok: CounterChild; error: CounterChild; duration: HistogramChild }>();
  readonly #handlerChildren = new Map<string, HistogramChild>();
  readonly #listener = (info: ProcessedEventInfo): void => this.#record(info);

  constructor(options?: EngineMetricsOptions) {
    const o = resolveMetricsOptions(options);
    const p = o.prefix;
    this.registry = new Registry();
    const registers = [this.registry];
    if (o.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: p });

    this.#eventsProcessed = new Counter({
      name: `${p}events_processed_total`,
      help: 'Events processed by the controller, by event name and result (ok | error).',
      labelNames: ['event', 'result'] as const,
      registers,
    });
    this.#eventDuration = new Histogram({
      name: `${p}event_duration_seconds`,
      help: 'Time from the start to the end of processing one event, by event name.',
      labelNames: ['event'] as const,
      buckets: o.durationBuckets,
      registers,
    });
    this.#handlerDuration = new Histogram({
      name: `${p}handler_duration_seconds`,
      help: 'Time spent in one handler for one event (resync, update or revert), by handler.',
      labelNames: ['handler'] as const,
      buckets: o.durationBuckets,
      registers,
    });
    this.#commitDuration = new Histogram({
      name: `${p}commit_duration_seconds`,
      help: 'Latency of one transaction commit to the scheduler.',
      buckets: o.commitBuckets,
      registers,
    });
    this.#healingResyncs = new Counter({
      name: `${p}healing_resyncs_total`,
      help: 'Healing resyncs processed by the controller.',
      registers,
    });
    this.#orchestratorResyncs = new Counter({
      name: `${p}orchestrator_resyncs_total`,
      help: 'Runs of the resync orchestrator, by whether they went through every registration.',
      labelNames: ['completed'] as const,
      registers,
    });

    const controllers = this.#controllers;
    new Gauge({
      name: `${p}event_queue_depth`,
      help: 'Events waiting in the controller queues (read on scrape).',
      registers,
      collect() {
        let depth = 0;
        for (const c of controllers.keys()) depth += c.queueDepth;
        this.set(depth);
      },
    });

    const readAll = (): Array<[MetricsConnectorSource, ConnectorStats]> => {
      const all: Array<[MetricsConnectorSource, ConnectorStats]> = [];
      for (const c of this.#connectors.keys()) all.push([c, c.stats()]);
      return all;
    };
    new Gauge({
      name: `${p}ring_used_bytes`,
      help: 'Bytes in use in the connector rings, by ring (request | reply; read on scrape).',
      labelNames: ['ring'] as const,
      registers,
      collect() {
        let req = 0;
        let rep = 0;
        for (const [, s] of readAll()) {
          req += s.requestRingUsedBytes;
          rep += s.replyRingUsedBytes;
        }
        this.set({ ring: 'request' }, req);
        this.set({ ring: 'reply' }, rep);
      },
    });
    new Gauge({
      name: `${p}ring_capacity_bytes`,
      help: 'Capacity of the connector rings, by ring (request | reply).',
      labelNames: ['ring'] as const,
      registers,
      collect() {
        let req = 0;
        let rep = 0;
        for (const [, s] of readAll()) {
          req += s.requestRingBytes;
          rep += s.replyRingBytes;
        }
        this.set({ ring: 'request' }, req);
        this.set({ ring: 'reply' }, rep);
      },
    });
    new Gauge({
      name: `${p}dataplane_requests_in_flight`,
      help: 'Binary-API requests sent and not yet answered (read on scrape).',
      registers,
      collect() {
        let n = 0;
        for (const [, s] of readAll()) n += s.inFlight;
        this.set(n);
      },
    });
    const connectors = this.#connectors;
    // The connector's statistics are cumulative: each scrape adds what changed since the last one.
    new Counter({
      name: `${p}dataplane_errors_total`,
      help: 'Binary-API replies with a non-zero retval, by VPP retval code.',
      labelNames: ['retval'] as const,
      registers,
      collect() {
        for (const [c, s] of readAll()) {
          const seen = connectors.get(c);
          if (!seen) continue;
          for (const [code, n] of Object.entries(s.errorsByRetval)) {
            const delta = delta0(n, seen.errorsByRetval[code] ?? 0);
            if (delta > 0) this.inc({ retval: code }, delta);
            seen.errorsByRetval[code] = n;
          }
        }
      },
    });
    new Counter({
      name: `${p}dataplane_timeouts_total`,
      help: 'Binary-API requests that got no reply within the timeout.',
      registers,
      collect() {
        for (const [c, s] of readAll()) {
          const seen = connectors.get(c);
          if (!seen) continue;
          const delta = delta0(s.timeouts, seen.timeouts);
          if (delta > 0) this.inc(delta);
          seen.timeouts = s.timeouts;
        }
      },
    });
    new Counter({
      name: `${p}dataplane_protocol_errors_total`,
      help: 'Malformed or unexpected frames received from the dataplane.',
      registers,
      collect() {
        for (const [c, s] of readAll()) {
          const seen = connectors.get(c);
          if (!seen) continue;
          const delta = delta0(s.protocolErrors, seen.protocolErrors);
          if (delta > 0) this.inc(delta);
          seen.protocolErrors = s.protocolErrors;
        }
      },
    });

    if (options?.controller) this.attachController(options.controller);
    if (options?.connector) this.attachConnector(options.connector);
    if (options?.orchestrator) this.attachOrchestrator(options.orchestrator);
  }

  /** Counts processed events and reads the queue depth on scrape; returns the detach function. */
  attachController(controller: MetricsControllerSource): () => void {
    if (!controller || typeof controller.onEvent !== 'function') {
      throw new TypeError(`controller must have an onEvent(listener) method, received ${typeof controller}`);
    }
    if (!this.#controllers.has(controller)) this.#controllers.set(controller, controller.onEvent(this.#listener));
    return () => {
      this.#controllers.get(controller)?.();
      this.#controllers.delete(controller);
    };
  }

  /** Reads ring occupancy and dataplane errors from `connector.stats()` on scrape; returns the detach function. */
  attachConnector(connector: MetricsConnectorSource): () => void {
    if (!connector || typeof connector.stats !== 'function') {
      throw new TypeError(`connector must have a stats() method, received ${typeof connector}`);
    }
    if (!this.#connectors.has(connector)) this.#connectors.set(connector, { errorsByRetval: {}, timeouts: 0, protocolErrors: 0 });
    return () => void this.#connectors.delete(connector);
  }

  /** Counts resync orchestrator runs; returns the detach function. */
  attachOrchestrator(orchestrator: MetricsOrchestratorSource): () => void {
    if (!orchestrator || typeof orchestrator.onResync !== 'function') {
      throw new TypeError(`orchestrator must have an onResync(listener) method, received ${typeof orchestrator}`);
    }
    if (!this.#orchestrators.has(orchestrator)) {
      const off = orchestrator.onResync((info) => this.#orchestratorResyncs.inc({ completed: String(info.completed) }));
      this.#orchestrators.set(orchestrator, off);
    }
    return () => {
      this.#orchestrators.get(orchestrator)?.();
      this.#orchestrators.delete(orchestrator);
    };
  }

  /** Records one processed event (what the controller listener does; usable directly by other producers). */
  record(info: ProcessedEventInfo): void {
    this.#record(info);
  }

  /** The Prometheus text exposition of every metric in the registry. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  /** The Content-Type of `metrics()`. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Detaches every source; the registry keeps its last values. */
  close(): void {
    for (const off of this.#controllers.values()) off();
    for (const off of this.#orchestrators.values()) off();
    this.#controllers.clear();
    this.#orchestrators.clear();
    this.#connectors.clear();
  }

  #record(info: ProcessedEventInfo): void {
    let ev = this.#eventChildren.get(info.name);
    if (!ev) {
      ev = {
        ok: this.#eventsProcessed.labels(info.name, 'ok'),
        error: this.#eventsProcessed.labels(info.name, 'error'),
        duration: this.#eventDuration.labels(info.name),
      };
      this.#eventChildren.set(info.name, ev);
    }
    (info.result === 'ok' ? ev.ok : ev.error).inc();
    ev.duration.observe(info.durationMs / 1000);
    for (const h of info.handlerMs) {
      let child = this.#handlerChildren.get(h.handler);
      if (!child) {
        child = this.#handlerDuration.labels(h.handler);
        this.#handlerChildren.set(h.handler, child);
      }
      child.observe(h.ms / 1000);
    }
    if (info.commitMs !== null) this.#commitDuration.observe(info.commitMs / 1000);
    if (info.healing) this.#healingResyncs.inc();
  }
}

/** Growth of a cumulative counter; a counter that went backwards was reset (e.g. a new connector). */
function delta0(now: number, before: number): number {
  return now >= before ? now - before : now;
}
