// The bench runner's contract: `--json FILE` holds { machine: { nproc, node, cpu }, figures: { id:
// { value, baseline, ratio, unit } } }. Runs the cheapest suite (ops-metrics) in quick mode.
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const runner = fileURLToPath(new URL('../bench/run.js', import.meta.url));

test('B1: npm run bench -- --scope ops-metrics --quick --json FILE writes the machine and each figure with its baseline and ratio', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'bench-runner-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const out = join(dir, 'figures.json');
  const child = spawn(process.execPath, [runner, '--scope', 'ops-metrics', '--quick', '--json', out], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  t.is(code, 0);
  const json = JSON.parse(await readFile(out, 'utf8')) as {
    machine: { nproc: number; node: string; cpu: string };
    figures: Record<string, { value: number; baseline: number | null; ratio: number | null; unit: string }>;
  };
  t.true(json.machine.nproc >= 1);
  t.is(json.machine.node, process.version);
  const f = json.figures['metrics.record'];
  t.truthy(f, 'the suite reported metrics.record');
  if (!f) return;
  t.true(f.value > 0 && f.baseline !== null && f.baseline > 0);
  t.is(f.ratio, f.value / (f.baseline as number));
  t.is(f.unit, 'events/s');
  t.regex(stdout, /metrics\.record/, 'the table is printed too');
});

/** Runs the runner with `args`; its exit code and output. */
async function runBench(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [runner, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stdout, stderr };
}

test('B1: a bad command line prints the usage and exits 2 before any suite runs (no stack trace); --help exits 0', async (t) => {
  for (const args of [['--nope'], ['--scope'], ['--quick=yes'], ['stray'], ['--scope', ''], ['--scope', 'no-such-suite'], ['--scope', 'ops-metrics', '--json', '/no/such/dir/x.json'], ['--scope', 'ops-metrics', '--json='], ['--scope', 'ops-metrics', '--json', tmpdir()]]) {
    const r = await runBench(args);
    t.is(r.code, 2, args.join(' '));
    t.regex(r.stderr, /^bench: .*\nusage: npm run bench/s, args.join(' '));
    t.notRegex(r.stderr, /\n\s+at /, 'no stack trace');
    t.notRegex(r.stderr, /^suite /m, 'no suite ran');
  }
  const help = await runBench(['--help']);
  t.is(help.code, 0);
  t.regex(help.stdout, /^usage: npm run bench/);
  t.regex((await runBench(['--scope', 'no-such-suite'])).stderr, /suites: .*ops-metrics/);
});

test('B1: a suite that fails is reported by name and reason, the later suites still run, --json keeps their figures and lists the failure, and the exit status is 1', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'bench-runner-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const out = join(dir, 'figures.json');
  // `cluster` sorts first and cannot start without etcd; `commit` comes after it.
  const r = await runBench(['--scope', 'c', '--quick', '--json', out], { ...process.env, ETCD_BIN: join(dir, 'no-etcd') });
  t.is(r.code, 1);
  t.regex(r.stderr, /^bench: suite cluster failed: .*cannot start etcd/m);
  t.notRegex(r.stderr, /\n\s+at /, 'no stack trace');
  t.regex(r.stdout, /commit\.latency\.p50/, 'the later suite ran');
  const json = JSON.parse(await readFile(out, 'utf8')) as { figures: Record<string, unknown>; failed: { suite: string; reason: string }[] };
  t.truthy(json.figures['commit.latency.p50']);
  t.is(json.failed.length, 1);
  t.is(json.failed[0]?.suite, 'cluster');
  t.regex(json.failed[0]?.reason ?? '', /cannot start etcd/);
});
