// The package's command-line entry points (API.md "Command line": the package installs a bin for the
// npm scripts' commands): each is built, starts with a shebang, and runs.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import test from 'ava';

const root = new URL('../../', import.meta.url);

test('F1 C20: package.json installs flood, serve and load-k8s as commands; each is an executable script that answers --help', async (t) => {
  const pkg = JSON.parse(await readFile(new URL('package.json', root), 'utf8')) as { bin?: Record<string, string> };
  t.deepEqual(Object.keys(pkg.bin ?? {}).sort(), ['vpp-engine-flood', 'vpp-engine-load-k8s', 'vpp-engine-serve']);
  for (const [name, path] of Object.entries(pkg.bin ?? {})) {
    const file = new URL(path, root);
    t.true((await readFile(file, 'utf8')).startsWith('#!/usr/bin/env node\n'), `${name}: shebang`);
    const { stdout } = await promisify(execFile)(process.execPath, [file.pathname, '--help']);
    t.regex(stdout, /usage/i, name);
  }
});
