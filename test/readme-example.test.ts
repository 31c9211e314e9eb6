import test from 'ava';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

test('C17 S1: README: the embedding example is examples/embed.ts verbatim, compiles (it is in the build) and runs', async (t) => {
  const readme = await readFile(`${root}README.md`, 'utf8');
  const source = await readFile(`${root}examples/embed.ts`, 'utf8');
  const block = /<!-- embed-example -->\s*```ts\n([\s\S]*?)```/.exec(readme);
  t.truthy(block, 'README has the embedding example block');
  // The README imports the package by name; the example imports the sources.
  t.is(block?.[1]?.replace("from 'vpp-controller-engine'", "from '../src/index.js'"), source);
  const { stdout } = await run(process.execPath, [`${root}dist/examples/embed.js`], { timeout: 60_000 });
  t.regex(stdout, /web-1 got 10\.\d+\.\d+\.\d+ on tap-/);
  t.regex(stdout, /#3 Delete Pod/);
});
