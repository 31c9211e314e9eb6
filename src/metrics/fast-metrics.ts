// Counters and histograms for the per-event path. prom-client validates and hashes a labels object
// on every inc/observe; these keep one series object per label value, found once and then updated
// with plain arithmetic. They render through prom-client's registry (its `get()` metric protocol).
import type { Registry } from 'prom-client';

/** One sample line, as the registry renders it. */
interface Sample {
  readonly labels: Labels;
  readonly value: number;
  readonly metricName?: string;
}

/** What the registry's metric protocol expects from `get()`. */
interface Rendered {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'histogram';
  readonly aggregator: 'sum';
  readonly values: readonly Sample[];
}

type Labels = Readonly<Record<string, string>>;

/** One labelled series of a counter. */
export interface CounterSeries {
  readonly labels: Labels;
  value: number;
}

/** One labelled series of a histogram: per-bucket (non-cumulative) counts, sum and count. */
export interface HistogramSeries {
  readonly labels: Labels;
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

abstract class FastMetric<S extends { readonly labels: Labels }> {
  readonly name: string;
  readonly help: string;
  readonly aggregator = 'sum' as const;
  readonly #labelNames: readonly string[];
  readonly #series = new Map<string, S>();

  constructor(registry: Registry, name: string, help: string, labelNames: readonly string[]) {
    this.name = name;
    this.help = help;
    this.#labelNames = labelNames;
    // The registry only calls `get()`; the cast is to the union it declares.
    registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  /** The series for these label values (in labelNames order), created on first use. */
  series(...values: string[]): S {
    const key = values.length === 1 ? (values[0] as string) : values.join('\u0000');
    let s = this.#series.get(key);
    if (!s) {
      const labels: Record<string, string> = {};
      this.#labelNames.forEach((n, i) => (labels[n] = values[i] ?? ''));
      s = this.create(labels);
      this.#series.set(key, s);
    }
    return s;
  }

  protected get unlabelled(): boolean {
    return this.#labelNames.length === 0;
  }

  protected abstract create(labels: Labels): S;

  /** Zeroes every series in place (the registry's resetMetrics): holders of a series keep it. */
  abstract reset(): void;

  protected all(): IterableIterator<S> {
    return this.#series.values();
  }
}

/** A monotonic counter with cached series. */
export class FastCounter extends FastMetric<CounterSeries> {
  readonly type = 'counter' as const;

  protected create(labels: Labels): CounterSeries {
    return { labels, value: 0 };
  }

  reset(): void {
    for (const s of this.all()) s.value = 0;
  }

  get(): Rendered {
    const values: Sample[] = [];
    for (const s of this.all()) values.push({ labels: s.labels, value: s.value });
    // An unlabelled counter shows 0 before its first increment, like prom-client's.
    if (values.length === 0 && this.unlabelled) values.push({ labels: {}, value: 0 });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

/** A histogram with fixed buckets and cached series. */
export class FastHistogram extends FastMetric<HistogramSeries> {
  readonly type = 'histogram' as const;
  readonly #upper: Float64Array;

  constructor(registry: Registry, name: string, help: string, labelNames: readonly string[], buckets: readonly number[]) {
    super(registry, name, help, labelNames);
    this.#upper = Float64Array.from(buckets);
  }

  protected create(labels: Labels): HistogramSeries {
    // One slot per bucket plus the +Inf one.
    return { labels, counts: new Float64Array(this.#upper.length + 1), sum: 0, count: 0 };
  }

  reset(): void {
    for (const s of this.all()) {
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  }

  observe(series: HistogramSeries, value: number): void {
    const upper = this.#upper;
    let i = 0;
    while (i < upper.length && value > (upper[i] as number)) i++;
    (series.counts[i] as number)++;
    series.sum += value;
    series.count++;
  }

  get(): Rendered {
    const values: Sample[] = [];
    const bucketName = `${this.name}_bucket`;
    for (const s of this.all()) {
      let cumulative = 0;
      for (let i = 0; i <= this.#upper.length; i++) {
        cumulative += s.counts[i] as number;
        const le = i < this.#upper.length ? String(this.#upper[i]) : '+Inf';
        values.push({ labels: { ...s.labels, le }, value: cumulative, metricName: bucketName });
      }
      values.push({ labels: s.labels, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: s.labels, value: s.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
