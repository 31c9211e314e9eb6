#!/usr/bin/env node
// `npm run flood` / `npm start`: floods the embedded engine and reports (SPEC F1-F3).
import { FLOOD_USAGE, FloodUsageError, parseFloodArgs } from '../flood/argv.js';
import { formatReport, runFlood } from '../flood/index.js';
import { progressDisplay } from './flood-progress.js';

async function main(argv: readonly string[]): Promise<number> {
  let command;
  try {
    command = parseFloodArgs(argv);
  } catch (err) {
    if (!(err instanceof FloodUsageError)) throw err;
    process.stderr.write(`flood: ${err.message}\n${FLOOD_USAGE}\n`);
    return 2;
  }
  if (command.help) {
    process.stdout.write(`${FLOOD_USAGE}\n`);
    return 0;
  }
  const display = command.progress ? progressDisplay(process.stderr) : undefined;
  // Interrupted once: the flood ends, and the heal, the checks and the report still come. Twice:
  // at once, no report (the terminal still gets its cursor back).
  const stop = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (!stop.signal.aborted) {
        process.stderr.write(`\nflood: interrupted by ${signal}, ending the flood (again to quit at once)\n`);
        stop.abort();
        return;
      }
      display?.stop();
      process.stderr.write(`flood: interrupted again by ${signal}, no report\n`);
      process.exit(130);
    });
  }
  let report;
  try {
    report = await runFlood({ ...command.options, signal: stop.signal, ...(display === undefined ? {} : { onProgress: (p) => display.update(p) }) });
  } finally {
    display?.stop();
  }
  if (command.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else process.stdout.write(`${formatReport(report)}\n`);
  if (report.interrupted) return 130;
  return report.ok ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // The report is out: a thread a stalled run could not close must not keep the process alive.
    setTimeout(() => process.exit(code), 2000).unref();
  },
  (err: unknown) => {
    process.stderr.write(`flood: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
