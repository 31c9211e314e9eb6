// runFlood and the flood CLI against the real engine (controller + built-in handlers + scheduler +
// native-sim, threaded or inline). One test uses a stack double that never finishes events, to
// show that a stalled engine is reported rather than waited for forever.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { EventQueueFullError, TransactionError, type CommitOptions, type CommitResult, type KVScheduler, type Value } from '../src/api/index.js';
import { createFloodStack, formatReport, runFlood, type FloodReport, type FloodStack, type FloodStackInit } from '../src/flood/index.js';

const CLI = fileURLToPath(new URL('../src/cli/flood.js', import.meta.url));

function checkFigures(t: import('ava').ExecutionContext, r: FloodReport): void {
  for (const k of ['events', 'durationMs', 'eventsPerSec', 'kvOps', 'kvOpsPerSec', 'errors', 'healingResyncs', 'divergence', 'unfinished'] as const) {
    t.is(typeof r[k], 'number', k);
    t.true(Number.isFinite(r[k]), k);
  }
  const l = r.latencyUs;
  t.true(l.p50 > 0 && l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.max);
}

/** The inline flood stack, each commit's result passed through `then` (after the run's own counting). */
function afterCommit(then: (s: KVScheduler, values: ReadonlyMap<string, Value | null>, options: CommitOptions, res: CommitResult) => CommitResult) {
  return (init: FloodStackInit): Promise<FloodStack> =>
    createFloodStack({
      ...init,
      wrapScheduler: (s) => {
        const counted = init.wrapScheduler(s);
        return {
          getRecordedTransaction: (n) => counted.getRecordedTransaction(n),
          commit: async (values, options) => then(s, values, options, await counted.commit(values, options)),
        };
      },
    });
}

test('F1 F2: a seeded built-in flood through the threaded stack reports every figure and converges', async (t) => {
  const r = await runFlood({ events: 300, resyncEvery: 100, seed: 5 });
  checkFigures(t, r);
  t.is(r.mode, 'builtin');
  t.is(r.events, 301, 'the 300 generated events plus the startup resync');
  t.is(r.resyncs, 4, 'startup, two periodic (at events 100 and 200) and the final heal');
  for (const kind of ['pod', 'service', 'endpoints', 'policy', 'add-pod', 'delete-pod', 'external-config', 'resync']) {
    t.true((r.generated[kind] ?? 0) > 0, kind);
  }
  t.true(r.keys.desired > 0);
  t.is(r.keys.dataplane, r.keys.desired);
  t.is(r.divergence, 0);
  t.is(r.modelDivergence, 0);
  t.is(r.unfinished, 0);
  t.true(r.ok);
  t.true(typeof (r.stack['sim'] as { messages?: unknown } | undefined)?.messages === 'object');
});

test('F1: the same seed generates the same flood; another seed another one', async (t) => {
  const a = await runFlood({ events: 200, seed: 7, dataplane: 'inline' });
  const b = await runFlood({ events: 200, seed: 7, dataplane: 'inline' });
  const c = await runFlood({ events: 200, seed: 8, dataplane: 'inline' });
  t.deepEqual(a.generated, b.generated);
  t.is(a.keys.desired, b.keys.desired);
  t.notDeepEqual(a.generated, c.generated);
  t.true(a.ok && b.ok && c.ok);
});

test('F1 F3: synthetic mode (3 handlers x 5 keys) matches its model exactly', async (t) => {
  const r = await runFlood({ events: 301, handlers: 3, keysPerEvent: 5, dataplane: 'inline' });
  t.is(r.mode, 'synthetic');
  t.is(r.modelDivergence, 0);
  t.is(r.divergence, 0);
  t.true(r.kvOps >= 301 * 15);
  t.true(r.keys.desired > 0, '301 events leave an odd number of visits on some slots');
  t.true(r.ok);
});

test('F2: kvOps counts the operations the scheduler executed during the flood: resyncs that change nothing add none, the final heal none', async (t) => {
  const executed: number[] = [];
  const r = await runFlood({
    events: 300,
    resyncEvery: 20,
    dataplane: 'inline',
    stack: afterCommit((s, _values, options, res) => {
      executed.push(s.getRecordedTransaction(res.seqNum)?.executed.length ?? -1);
      return res;
    }),
  });
  t.true(r.ok);
  t.is(r.resyncs, 1 + 14 + 1, 'startup, one every 20 events, the final heal');
  t.false(executed.includes(-1), 'every commit recorded');
  const flood = executed.slice(0, -1); // the last commit is the final heal
  t.is(r.kvOps, flood.reduce((a, b) => a + b, 0));
  t.true(r.kvOps > 0);
  // durationMs is rounded to the ms; the rate is computed from the exact duration.
  const rate = r.kvOps / (r.durationMs / 1000);
  t.true(Math.abs(r.kvOpsPerSec - rate) <= rate * 0.01 + 1, `${r.kvOpsPerSec} vs ${rate}`);
});

test('C2 F1: a full queue makes the producer wait and retry; nothing is dropped', async (t) => {
  const r = await runFlood({ events: 300, queueSize: 8, dataplane: 'inline' });
  t.true(r.queueFullWaits > 0);
  t.is(r.events, 301);
  t.is(r.unfinished, 0);
  t.is(r.divergence, 0);
  t.true(r.ok);
});

test('F3: dataplane restarts during the run are healed before the divergence check', async (t) => {
  const r = await runFlood({ events: 400, restarts: 1, dataplane: 'inline' });
  t.is(r.restarts, 1);
  t.is(r.divergence, 0);
  t.is(r.modelDivergence, 0);
  t.is(r.unfinished, 0);
  t.true(r.ok);
});

test('F1 F3: every restart asked for is done, when the duration ends the run before the events or there are more restarts than events', async (t) => {
  const timed = await runFlood({ events: 1_000_000, durationS: 0.6, restarts: 2, dataplane: 'inline' });
  t.is(timed.restarts, 2);
  t.is((timed.stack['sim'] as { restarts?: number } | undefined)?.restarts ?? 2, 2);
  t.true(timed.ok);
  const few = await runFlood({ events: 3, restarts: 5, dataplane: 'inline' });
  t.is(few.restarts, 5);
  t.true(few.ok);
});

test('F1: with --rate the run ends at --duration: no event is generated after it', async (t) => {
  const r = await runFlood({ rate: 20, durationS: 0.52, dataplane: 'inline' });
  // Events are due at 0, 50, ..., 500 ms (11), plus the startup resync; the one due at 550 ms is not made.
  t.true(r.events <= 12, `${r.events} events`);
  t.true(r.ok);
});

/** A flood stack double whose controller hands every event to `pushEvent`; the rest does nothing. */
function stackDouble(pushEvent: FloodStack['controller']['pushEvent']): () => Promise<FloodStack> {
  return async () => ({
    controller: { start: async () => {}, pushEvent, close: async () => {} },
    dump: async () => new Map(),
    setFaults: async () => {},
    restart: async () => {},
    stats: async () => ({}),
    close: async () => {},
  });
}

test('F3: events that never finish are reported as unfinished, the run is not ok, and it does not hang', async (t) => {
  let pushed = 0;
  const stuck = stackDouble(() => void pushed++);
  const r = await runFlood({ events: 20, stack: stuck, stallTimeoutMs: 150 });
  t.true(r.stalled);
  t.is(r.unfinished, pushed);
  t.true(r.unfinished > 0);
  t.false(r.ok);
});

test('F3: a queue held full by events that are not the flood\'s does not hang the run: it stalls after the stall timeout', async (t) => {
  let n = 0;
  // The first event finishes; then the queue is full for ever of events that are not the run's.
  const held = stackDouble((ev) => {
    if (n++ === 0) return void setImmediate(() => ev.done(null));
    throw new EventQueueFullError(1);
  });
  const run = runFlood({ events: 10, stack: held, stallTimeoutMs: 200, handlers: 1 });
  const r = await Promise.race([run, new Promise<string>((res) => setTimeout(() => res('no report after 10 s'), 10_000).unref())]);
  if (typeof r === 'string') return t.fail(r);
  t.true(r.stalled);
  t.false(r.ok);
  t.is(r.unfinished, 0);
});

test('F2 F3: a real stack whose loop is stuck in a handler still reports (its close is bounded by the stall timeout) and is not ok', async (t) => {
  let n = 0;
  let unstick = (): void => {};
  const hang = {
    toString: () => 'hang',
    handlesEvent: () => true,
    resync: () => undefined,
    // Early, so that the run is stuck well before a slow machine could make it look stalled.
    update: () => (++n === 5 ? new Promise<void>((r) => (unstick = r)) : undefined),
    revert: () => undefined,
  };
  let made: FloodStack | undefined;
  const run = runFlood({
    events: 200,
    handlers: 1,
    stallTimeoutMs: 2000,
    stack: async (init: FloodStackInit) => (made = await createFloodStack({ ...init, handlers: [...init.handlers, hang] })),
  });
  const report = await Promise.race([run, new Promise<string>((r) => setTimeout(() => r('no report after 30 s'), 30_000).unref())]);
  // Let the stuck event end, so that the close runFlood gave up on completes (the sim thread ends).
  unstick();
  t.teardown(() => Promise.race([made?.close(), new Promise((r) => setTimeout(r, 10_000).unref())]));
  if (typeof report === 'string') return t.fail(report);
  t.true(n >= 5, 'the handler got stuck');
  t.true(report.stalled);
  t.false(report.ok);
  t.regex(String(report.stack['closeError']), /did not finish within 2000 ms/);
});

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

test('F2 F3: --json prints exactly one JSON object on stdout and exits 0 when converged', async (t) => {
  const { code, stdout } = await run(['--events', '150', '--json', '--dataplane', 'inline', '--seed', '3']);
  t.is(code, 0);
  const report = JSON.parse(stdout) as FloodReport;
  t.is(stdout.trim().split('\n').length, 1);
  t.like(report, { divergence: 0, unfinished: 0, ok: true, seed: 3 });
});

test('F1: a bad option exits 2 with the usage on stderr and nothing on stdout', async (t) => {
  const { code, stdout, stderr } = await run(['--faults', 'lots']);
  t.is(code, 2);
  t.is(stdout, '');
  t.regex(stderr, /--faults expects a number, received 'lots'/);
  t.regex(stderr, /usage: flood/);
});

test('F2: the human report names every figure', async (t) => {
  const { code, stdout } = await run(['--events', '100', '--dataplane', 'inline', '--no-progress']);
  t.is(code, 0);
  for (const word of ['events/s', 'ops/s', 'p50', 'p99', 'errors', 'healing', 'divergence', 'unfinished', 'OK']) t.true(stdout.includes(word), word);
});

test('F2 F3: a run whose loop aborts (a healing resync that fails, SPEC C14) reports the error that aborted it and is not ok', async (t) => {
  let commits = 0;
  const r = await runFlood({
    events: 200,
    dataplane: 'inline',
    healingDelayMs: 1,
    stallTimeoutMs: 2000,
    // The tenth commit and every resync after the startup one fail: the healing cannot succeed.
    stack: afterCommit((_s, values, options, res) => {
      const n = ++commits;
      if (n === 10 || (n > 1 && options.resync !== undefined)) return { ...res, error: new TransactionError([...values.keys()].slice(0, 1).map((key) => ({ key, error: new Error(`commit ${n} refused`) }))) };
      return res;
    }),
  });
  t.false(r.ok);
  t.is(r.aborted?.code, 'ERR_HEALING_FAILED');
  t.regex(r.aborted?.message ?? '', /refused/);
  t.regex(formatReport(r), /aborted\s+ERR_HEALING_FAILED/);
  t.true((r.errorsByCode['ERR_EVENT_LOOP_ABORTING'] ?? 0) > 0, 'later events failed with the loop aborting');
});

test('F2 F3: an aborted signal ends the flood early: the run still heals, checks and reports, marked interrupted', async (t) => {
  const stop = new AbortController();
  const r = await runFlood({
    events: 1_000_000,
    dataplane: 'inline',
    seed: 4,
    signal: stop.signal,
    onProgress: (p) => {
      if (p.done >= 200) stop.abort();
    },
  });
  t.true(r.interrupted);
  t.true(r.events > 200 && r.events < 1_000_000, `${r.events} events`);
  t.like(r, { divergence: 0, modelDivergence: 0, unfinished: 0, ok: true });
  t.regex(formatReport(r), /interrupted/);
  t.false((await runFlood({ events: 50, dataplane: 'inline' })).interrupted);
  await t.throwsAsync(runFlood({ signal: 'stop' as unknown as AbortSignal }), { instanceOf: TypeError, message: /signal/ });
});

test('F2: the CLI interrupted once (SIGINT) ends the flood and prints the report, exit 130', async (t) => {
  const child = execFile(process.execPath, [CLI, '--events', '100000000', '--dataplane', 'inline', '--no-progress', '--json'], { timeout: 60_000 });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: string) => (stdout += d));
  child.stderr?.on('data', (d: string) => (stderr += d));
  // Interrupted once the flood runs (a second or so after the stack is up).
  const timer = setTimeout(() => child.kill('SIGINT'), 2500);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  t.is(code, 130, stderr);
  const report = JSON.parse(stdout) as FloodReport;
  t.like(report, { interrupted: true, divergence: 0, unfinished: 0 });
  t.regex(stderr, /interrupted by SIGINT/);
});
