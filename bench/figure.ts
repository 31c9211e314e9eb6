import { cpus } from 'node:os';

/** One published figure, measured beside its baseline in the same run. */
export interface Figure {
  readonly value: number;
  /** The same work done the baseline way, in the same run; null where there is none. */
  readonly baseline: number | null;
  /** value / baseline; null without a baseline. */
  readonly ratio: number | null;
  readonly unit: string;
  /** The target, for the reader (e.g. 'ratio >= 20'). */
  readonly target?: string;
  /** Whether the target was reached in this run. */
  readonly met?: boolean;
}

/** A bench suite: `npm run bench -- --scope <name>` runs the suites whose name starts with NAME. */
export interface BenchSuite {
  readonly name: string;
  /** `quick` shortens runs (used by the smoke test); figures are then for the record only. */
  run(options: { readonly quick: boolean }): Promise<Record<string, Figure>>;
}

export function figure(value: number, baseline: number | null, unit: string, target?: string, met?: boolean): Figure {
  const ratio = baseline === null || baseline === 0 ? null : value / baseline;
  return { value, baseline, ratio, unit, ...(target === undefined ? {} : { target }), ...(met === undefined ? {} : { met }) };
}

export function machine(): { nproc: number; node: string; cpu: string } {
  return { nproc: cpus().length, node: process.version, cpu: cpus()[0]?.model ?? 'unknown' };
}

/** The middle value of unsorted numbers (the upper of the two middle ones for an even count). */
export function median(xs: readonly number[]): number {
  return [...xs].sort((a, b) => a - b)[xs.length >> 1] as number;
}

/** p-th percentile (0..100) of a sorted array. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}
