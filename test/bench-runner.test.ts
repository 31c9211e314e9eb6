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
