// The flood's report: the figures of SPEC F2 and what decides the exit status (F3).
import type { Divergence } from './divergence.js';
import type { LatencySummary } from './tracker.js';

export interface FloodReport {
  readonly mode: 'builtin' | 'synthetic';
  readonly seed: number;
  /** Events accepted by the controller during the flood (the startup resync and the generated ones; not the final heal). */
  readonly events: number;
  readonly durationMs: number;
  readonly eventsPerSec: number;
  /** Operations the scheduler executed during the flood (see CommitCounters.kvOps; not the final heal). */
  readonly kvOps: number;
  readonly kvOpsPerSec: number;
  /** End-to-end latency push -> done, microseconds. */
  readonly latencyUs: LatencySummary;
  /** Events finished with an error. */
  readonly errors: number;
  readonly errorsByCode: Readonly<Record<string, number>>;
  readonly healingResyncs: number;
  readonly resyncs: number;
  readonly restarts: number;
  readonly faults: number;
  /** Times the queue was full and the producer waited. */
  readonly queueFullWaits: number;
  /** Keys where the dataplane differs from the desired state after the final heal. */
  readonly divergence: number;
  readonly divergenceDetail: Divergence;
  /** Keys where the desired state differs from the model of what the handlers should produce. */
  readonly modelDivergence: number;
  readonly modelDivergenceDetail: Divergence;
  /** Events pushed but never finished. */
  readonly unfinished: number;
  /** `done` called more than once for an event. */
  readonly duplicateDone: number;
  /** The run stopped early because no event finished for `stallTimeoutMs`. */
  readonly stalled: boolean;
  /** The flood was ended early by its abort signal (the CLI: SIGINT/SIGTERM); the heal and the checks still ran. */
  readonly interrupted: boolean;
  /** The error the controller reported when its loop aborted (SPEC C9/C14), or null. */
  readonly aborted: { readonly code: string; readonly message: string } | null;
  readonly keys: { readonly desired: number; readonly dataplane: number };
  readonly generated: Readonly<Record<string, number>>;
  readonly stack: Readonly<Record<string, unknown>>;
  /** F3: divergence === 0 && unfinished === 0 (and no model divergence, no duplicate done, the loop not aborted). */
  readonly ok: boolean;
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

/** A short human-readable report. */
export function formatReport(r: FloodReport): string {
  const lines = [
    `flood (${r.mode} handlers, seed ${r.seed}${r.faults > 0 ? `, faults ${r.faults}` : ''}${r.restarts > 0 ? `, ${r.restarts} restart(s)` : ''})`,
    `  events          ${fmt(r.events)} in ${fmt(r.durationMs)} ms = ${fmt(r.eventsPerSec)} events/s${r.interrupted ? ' (interrupted)' : ''}`,
    `  kv operations   ${fmt(r.kvOps)} = ${fmt(r.kvOpsPerSec)} ops/s`,
    `  latency (µs)    p50 ${fmt(r.latencyUs.p50)}  p90 ${fmt(r.latencyUs.p90)}  p99 ${fmt(r.latencyUs.p99)}  max ${fmt(r.latencyUs.max)}`,
    `  errors          ${fmt(r.errors)}${Object.keys(r.errorsByCode).length > 0 ? ` (${Object.entries(r.errorsByCode).map(([c, n]) => `${c} ${n}`).join(', ')})` : ''}`,
    `  resyncs         ${fmt(r.resyncs)} (healing ${fmt(r.healingResyncs)}), queue-full waits ${fmt(r.queueFullWaits)}`,
    `  keys            desired ${fmt(r.keys.desired)}, dataplane ${fmt(r.keys.dataplane)}`,
    `  divergence      ${r.divergence} (dataplane vs desired), ${r.modelDivergence} (desired vs model)`,
    `  unfinished      ${r.unfinished}${r.duplicateDone > 0 ? `, duplicate done ${r.duplicateDone}` : ''}${r.stalled ? ' (STALLED)' : ''}`,
  ];
  if (r.aborted !== null) lines.push(`  aborted         ${r.aborted.code}: ${r.aborted.message}`);
  for (const s of [...r.divergenceDetail.sample, ...r.modelDivergenceDetail.sample].slice(0, 5)) lines.push(`    ${s}`);
  lines.push(r.ok ? '  result          OK' : '  result          FAILED');
  return lines.join('\n');
}
