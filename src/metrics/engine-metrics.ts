import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { FastCounter, FastHistogram, type CounterSeries, type HistogramSeries } from './fast-metrics.js';
import { resolveMetricsOptions, type EngineMetricsOptions } from './options.js';
import type {
  ConnectorStats,
  MetricsConnectorSource,
  MetricsControllerSource,
  MetricsOrchestratorSource,
  ProcessedEventInfo,
} from './sources.js';


/** The counters last seen on one connector, so a scrape adds only what changed since. */
interface SeenStats {
  errorsByRetval: Record<string, number>;
  timeouts: number;
  protocolErrors: number;
}

/**
 * The process metrics (CPU, memory, GC, event loop lag) once per prefix, shared by every
 * EngineMetrics: prom-client's collectors (a GC observer, an event-loop delay monitor) cannot be
 * stopped, so one set per instance would keep every closed instance alive.
 */
const defaultMetrics = new Map<string, Registry>();
function defaultMetricsOf(prefix: string): Registry {
  let r = defaultMetrics.get(prefix);
  if (!r) {
    r = new Registry();
    collectDefaultMetrics({ register: r, prefix });
    defaultMetrics.set(prefix, r);
  }
  return r;
}

/**
 * Prometheus metrics of one engine, in a registry of its own (never the global default one).
 * Sources are structural and optional: attach whichever of controller, connector, orchestrator exist.
 */
export class EngineMetrics {
  /** The registry every metric of this instance lives in. */
  readonly registry: Registry;
  readonly #eventsProcessed: FastCounter;
  readonly #eventDuration: FastHistogram;
  readonly #handlerDuration: FastHistogram;
  readonly #commitDuration: FastHistogram;
  readonly #commitSeries: HistogramSeries;
  readonly #healingResyncs: FastCounter;
  readonly #healingSeries: CounterSeries;
  readonly #orchestratorResyncs: Counter<'completed'>;
  readonly #controllers = new Map<MetricsControllerSource, () => void>();
  /** Attached connectors, with what their counts were at the last scrape. */
  readonly #connectors = new Map<MetricsConnectorSource, SeenStats>();
  /** Every connector ever attached: a re-attached one continues from its last scrape. */
  readonly #seen = new WeakMap<MetricsConnectorSource, SeenStats>();
  readonly #orchestrators = new Map<MetricsOrchestratorSource, () => void>();
  // Series cached per label value: the per-event path then does no label hashing at all.
  readonly #eventSeries = new Map<string, { ok: CounterSeries; error: CounterSeries; duration: HistogramSeries }>();
  readonly #handlerSeries = new Map<string, HistogramSeries>();
  readonly #listener = (info: ProcessedEventInfo): void => this.#record(info);

  constructor(options?: EngineMetricsOptions) {
    const o = resolveMetricsOptions(options);
    const p = o.prefix;
    this.registry = new Registry();
    const registers = [this.registry];
    if (o.defaultMetrics) {
      const shared = defaultMetricsOf(p);
      for (const { name } of shared.getMetricsAsArray()) {
        const m = shared.getSingleMetric(name);
        if (m) this.registry.registerMetric(m);
      }
    }

    this.#eventsProcessed = new FastCounter(this.registry, `${p}events_processed_total`,
      'Events processed by the controller, by event name and result (ok | error).', ['event', 'result']);
    this.#eventDuration = new FastHistogram(this.registry, `${p}event_duration_seconds`,
      'Time from the start to the end of processing one event, by event name.', ['event'], o.durationBuckets);
    this.#handlerDuration = new FastHistogram(this.registry, `${p}handler_duration_seconds`,
      'Time spent in one handler for one event (resync, update or revert), by handler.', ['handler'], o.durationBuckets);
    this.#commitDuration = new FastHistogram(this.registry, `${p}commit_duration_seconds`,
      'Latency of one transaction commit to the scheduler.', [], o.commitBuckets);
    this.#commitSeries = this.#commitDuration.series();
    this.#healingResyncs = new FastCounter(this.registry, `${p}healing_resyncs_total`, 'Healing resyncs processed by the controller.', []);
    this.#healingSeries = this.#healingResyncs.series();
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

    const connectorSources = (): IterableIterator<MetricsConnectorSource> => this.#connectors.keys();
    const readAll = (): Array<[MetricsConnectorSource, ConnectorStats]> => {
      const all: Array<[MetricsConnectorSource, ConnectorStats]> = [];
      for (const c of this.#connectors.keys()) all.push([c, c.stats()]);
      return all;
    };
    // The two ring gauges differ only in which pair of counters they sum.
    const ringGauge = (name: string, help: string, pick: (s: ConnectorStats) => readonly [number, number]): void => {
      new Gauge({
        name: `${p}${name}`,
        help,
        labelNames: ['ring'] as const,
        registers,
        collect() {
          let req = 0;
          let rep = 0;
          for (const [, s] of readAll()) {
            const [request, reply] = pick(s);
            req += request;
            rep += reply;
          }
          this.set({ ring: 'request' }, req);
          this.set({ ring: 'reply' }, rep);
        },
      });
    };
    ringGauge('ring_used_bytes', 'Bytes in use in the connector rings, by ring (request | reply; read on scrape).', (s) => [
      s.requestRingUsedBytes,
      s.replyRingUsedBytes,
    ]);
    ringGauge('ring_capacity_bytes', 'Capacity of the connector rings, by ring (request | reply).', (s) => [s.requestRingBytes, s.replyRingBytes]);
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
    new Gauge({
      name: `${p}dataplane_up`,
      help: '1 when a connector is attached and every attached one reports its dataplane up (answering health pings), else 0.',
      registers,
      collect() {
        // Nothing attached is no dataplane up (a source without a state counts as up).
        let up = 0;
        for (const c of connectorSources()) {
          up = 1;
          if (c.state !== undefined && c.state !== 'up') {
            up = 0;
            break;
          }
        }
        this.set(up);
      },
    });
    const connectors = this.#connectors;
    // The connector's statistics are cumulative: each scrape adds what changed since the last one.
    new Counter({
      name: `${p}dataplane_errors_total`,
      help: 'Binary-API replies with a non-zero retval, by VPP error code (as the connector names it).',
      labelNames: ['code'] as const,
      registers,
      collect() {
        for (const [c, s] of readAll()) {
          const seen = connectors.get(c);
          if (!seen) continue;
          for (const [code, n] of Object.entries(s.errorsByRetval)) {
            const delta = delta0(n, seen.errorsByRetval[code] ?? 0);
            if (delta > 0) this.inc({ code }, delta);
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
    // Its counts are cumulative: what an earlier attachment already counted is not counted again.
    let seen = this.#seen.get(connector);
    if (!seen) this.#seen.set(connector, (seen = { errorsByRetval: {}, timeouts: 0, protocolErrors: 0 }));
    this.#connectors.set(connector, seen);
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

  /**
   * Records one processed event (what the controller listener does; usable directly by other
   * producers). A duration that is not a finite number >= 0 is a TypeError, as prom-client's
   * observe() has it: NaN would poison a histogram's sum for good.
   */
  record(info: ProcessedEventInfo): void {
    if (typeof info !== 'object' || info === null) throw new TypeError(`info must be a ProcessedEventInfo, received ${info === null ? 'null' : typeof info}`);
    if (typeof info.name !== 'string') throw new TypeError(`info.name must be a string, received ${typeof info.name}`);
    if (info.result !== 'ok' && info.result !== 'error') throw new TypeError(`info.result must be 'ok' or 'error', received ${String(info.result)}`);
    checkDuration('info.durationMs', info.durationMs);
    if (info.commitMs !== null) checkDuration('info.commitMs', info.commitMs);
    if (!Array.isArray(info.handlerMs)) throw new TypeError('info.handlerMs must be an array of { handler, ms }');
    for (const h of info.handlerMs) {
      if (typeof h?.handler !== 'string') throw new TypeError('info.handlerMs[].handler must be a string');
      checkDuration(`info.handlerMs (${h.handler})`, h.ms);
    }
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
    let ev = this.#eventSeries.get(info.name);
    if (!ev) {
      ev = {
        ok: this.#eventsProcessed.series(info.name, 'ok'),
        error: this.#eventsProcessed.series(info.name, 'error'),
        duration: this.#eventDuration.series(info.name),
      };
      this.#eventSeries.set(info.name, ev);
    }
    (info.result === 'ok' ? ev.ok : ev.error).value++;
    this.#eventDuration.observe(ev.duration, info.durationMs / 1000);
    const handlers = info.handlerMs;
    for (let i = 0; i < handlers.length; i++) {
      const h = handlers[i] as { readonly handler: string; readonly ms: number };
      let series = this.#handlerSeries.get(h.handler);
      if (!series) {
        series = this.#handlerDuration.series(h.handler);
        this.#handlerSeries.set(h.handler, series);
      }
      this.#handlerDuration.observe(series, h.ms / 1000);
    }
    if (info.commitMs !== null) this.#commitDuration.observe(this.#commitSeries, info.commitMs / 1000);
    if (info.healing) this.#healingSeries.value++;
  }
}

/** Growth of a cumulative counter; a counter that went backwards was reset (e.g. a new connector). */
function delta0(now: number, before: number): number {
  return now >= before ? now - before : now;
}

function checkDuration(name: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new TypeError(`${name} must be a finite number of ms >= 0, received ${String(v)}`);
}
