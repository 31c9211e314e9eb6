// npm run bench -- [--scope NAME] [--json FILE] [--quick]
import { readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type BenchSuite, type Figure, machine } from './figure.js';

const { values } = parseArgs({
  options: {
    scope: { type: 'string' },
    json: { type: 'string' },
    quick: { type: 'boolean', default: false },
  },
});

const suitesDir = join(dirname(fileURLToPath(import.meta.url)), 'suites');
const files = (await readdir(suitesDir)).filter((f) => f.endsWith('.js')).sort();
const figures: Record<string, Figure> = {};
for (const file of files) {
  const mod = (await import(join(suitesDir, file))) as { suite?: BenchSuite };
  const suite = mod.suite;
  if (!suite) continue;
  if (values.scope && !suite.name.startsWith(values.scope)) continue;
  process.stderr.write(`suite ${suite.name}...\n`);
  const result = await suite.run({ quick: values.quick ?? false });
  Object.assign(figures, result);
  printTable(result);
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
  process.stderr.write(`wrote ${values.json}\n`);
}
