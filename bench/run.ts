// npm run bench -- [--scope NAME] [--json FILE] [--quick]
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type BenchSuite, type Figure, machine } from './figure.js';

const USAGE = 'usage: npm run bench -- [--scope NAME] [--json FILE] [--quick]\n  --scope NAME  run the suites whose name starts with NAME (default: every suite)\n  --json FILE   also write { machine, figures, failed } to FILE\n  --quick       short runs, for a smoke test (figures for the record only)\n';

/** A bad command line: the usage, and exit status 2 (before any suite ran). */
function usageError(message: string): never {
  process.stderr.write(`bench: ${message}\n${USAGE}`);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    options: {
      scope: { type: 'string' },
      json: { type: 'string' },
      quick: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
      // Internal: run exactly this suite in this process (the runner's child processes).
      only: { type: 'string' },
    },
  });
} catch (err) {
  usageError((err as Error).message);
}
const { values } = parsed;
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
if (values.scope === '') usageError('--scope needs a suite name (or leave it out to run every suite)');
// Checked now: a path that cannot be written would lose the figures after every suite ran.
if (values.json !== undefined) {
  if (values.json === '') usageError('--json needs a file name');
  try {
    await access(dirname(values.json), constants.W_OK);
  } catch {
    usageError(`--json: cannot write into ${dirname(values.json)}`);
  }
  if ((await stat(values.json).catch(() => null))?.isDirectory() === true) usageError(`--json: ${values.json} is a directory`);
}

const suitesDir = join(dirname(fileURLToPath(import.meta.url)), 'suites');
const files = (await readdir(suitesDir)).filter((f) => f.endsWith('.js')).sort();
const suites: BenchSuite[] = [];
const names: string[] = [];
for (const file of files) {
  const suite = ((await import(join(suitesDir, file))) as { suite?: BenchSuite }).suite;
  if (!suite) continue;
  names.push(suite.name);
  if (values.only !== undefined ? suite.name !== values.only : values.scope && !suite.name.startsWith(values.scope)) continue;
  suites.push(suite);
}
if (suites.length === 0) usageError(`no suite named ${values.only ?? `${values.scope ?? ''}…`} (suites: ${names.join(', ')})`);
const figures: Record<string, Figure> = {};
/** Suites that produced no figures, and why. */
const failed: { suite: string; reason: string }[] = [];
for (const suite of suites) {
  if (values.only === undefined) process.stderr.write(`suite ${suite.name}...\n`);
  try {
    // Several suites: each in its own process, so none runs in the heap, threads or JIT state an
    // earlier one left behind (a 10⁶-key suite leaves a heap that slows every later GC).
    const result = suites.length === 1 ? await suite.run({ quick: values.quick ?? false }) : await inChild(suite.name);
    Object.assign(figures, result);
    printTable(result);
  } catch (err) {
    // One failing suite (`cluster` without etcd) must not lose the figures of the others.
    const reason = err instanceof Error ? err.message : String(err);
    failed.push({ suite: suite.name, reason });
    // A child's failure is reported by its parent, from the JSON it writes.
    if (values.only === undefined) process.stderr.write(`bench: suite ${suite.name} failed: ${reason}\n`);
  }
}

async function inChild(name: string): Promise<Record<string, Figure>> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-'));
  try {
    const out = join(dir, 'figures.json');
    const args = [fileURLToPath(import.meta.url), '--only', name, '--json', out, ...(values.quick ? ['--quick'] : [])];
    // The child's table goes to /dev/null: this process prints the merged one.
    const child = spawn(process.execPath, [...process.execArgv, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (c, s) => resolve([c, s]));
    });
    const written = await readFile(out, 'utf8').then(
      (text) => JSON.parse(text) as { figures: Record<string, Figure>; failed: { reason: string }[] },
      () => null,
    );
    if (code === 0 && written !== null) return written.figures;
    throw new Error(written?.failed[0]?.reason ?? (signal === null ? `exit code ${code}` : `killed by ${signal}`));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function fmt(n: number | null): string {
  if (n === null || !Number.isFinite(n)) return '—';
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-US');
  return n.toPrecision(3);
}

function printTable(result: Record<string, Figure>): void {
  for (const [id, f] of Object.entries(result)) {
    const met = f.met === undefined ? '' : f.met ? ' ok' : ' MISSED';
    console.log(
      `${id.padEnd(24)} ${fmt(f.value).padStart(12)} ${f.unit.padEnd(10)} baseline ${fmt(f.baseline).padStart(12)}  ratio ${fmt(f.ratio).padStart(7)}  ${f.target ?? ''}${met}`,
    );
  }
}

if (values.json !== undefined) {
  // JSON has no Infinity: a crossover never reached is written as the string "Infinity".
  const json = JSON.stringify({ machine: machine(), figures, failed }, (_key, v: unknown) => (v === Infinity ? 'Infinity' : v), 2);
  await writeFile(values.json, json + '\n');
  if (values.only === undefined) process.stderr.write(`wrote ${values.json}\n`);
}
if (failed.length > 0) {
  if (values.only === undefined) process.stderr.write(`bench: ${failed.length} suite(s) failed: ${failed.map((f) => f.suite).join(', ')}\n`);
  // Exit now: a suite that failed in this process may have left handles open.
  process.exit(1);
}
