// npm run bench -- [--scope NAME] [--json FILE] [--quick]
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type BenchSuite, type Figure, machine } from './figure.js';

const { values } = parseArgs({
  options: {
    scope: { type: 'string' },
    json: { type: 'string' },
    quick: { type: 'boolean', default: false },
    // Internal: run exactly this suite in this process (the runner's child processes).
    only: { type: 'string' },
  },
});

const suitesDir = join(dirname(fileURLToPath(import.meta.url)), 'suites');
const files = (await readdir(suitesDir)).filter((f) => f.endsWith('.js')).sort();
const suites: BenchSuite[] = [];
for (const file of files) {
  const suite = ((await import(join(suitesDir, file))) as { suite?: BenchSuite }).suite;
  if (!suite) continue;
  if (values.only !== undefined ? suite.name !== values.only : values.scope && !suite.name.startsWith(values.scope)) continue;
  suites.push(suite);
}
const figures: Record<string, Figure> = {};
for (const suite of suites) {
  if (values.only === undefined) process.stderr.write(`suite ${suite.name}...\n`);
  // Several suites: each in its own process, so none runs in the heap, threads or JIT state an
  // earlier one left behind (a 10⁶-key suite leaves a heap that slows every later GC).
  const result = suites.length === 1 ? await suite.run({ quick: values.quick ?? false }) : await inChild(suite.name);
  Object.assign(figures, result);
  printTable(result);
}

async function inChild(name: string): Promise<Record<string, Figure>> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-'));
  try {
    const out = join(dir, 'figures.json');
    const args = [fileURLToPath(import.meta.url), '--only', name, '--json', out, ...(values.quick ? ['--quick'] : [])];
    // The child's table goes to /dev/null: this process prints the merged one.
    const child = spawn(process.execPath, [...process.execArgv, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', resolve);
    });
    if (code !== 0) throw new Error(`bench suite ${name} failed (exit code ${code})`);
    return (JSON.parse(await readFile(out, 'utf8')) as { figures: Record<string, Figure> }).figures;
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

if (values.json) {
  await writeFile(values.json, JSON.stringify({ machine: machine(), figures }, null, 2) + '\n');
  if (values.only === undefined) process.stderr.write(`wrote ${values.json}\n`);
}
