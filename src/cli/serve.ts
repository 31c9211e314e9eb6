#!/usr/bin/env node
// npm run serve -- [--etcd URL] [--http HOST:PORT] [--local-db DIR] [--token TOKEN] [--log-level LEVEL]
import { toError } from '../api/errors.js';
import { startServeApp, type ServeApp } from './serve-app.js';
import { parseServeArgs, SERVE_USAGE, ServeUsageError, type ServeArgs } from './serve-args.js';
import { createServeLogger } from './serve-logger.js';
import { buildServeEngine } from './serve-stack.js';

/** A shutdown that takes longer than this is stuck: exit non-zero rather than hang. */
const SHUTDOWN_DEADLINE_MS = 30_000;

let args: ServeArgs;
try {
  args = parseServeArgs(process.argv.slice(2), process.env);
} catch (err) {
  if (!(err instanceof ServeUsageError)) throw err;
  process.stderr.write(`serve: ${err.message}\n${SERVE_USAGE}`);
  process.exit(2);
}
if (args.help) {
  process.stdout.write(SERVE_USAGE);
  process.exit(0);
}

const logger = createServeLogger({ level: args.logLevel, pretty: process.stdout.isTTY === true });
let starting: Promise<ServeApp | null> | null = null;
let stopping = false;

async function stop(reason: string, code: number): Promise<void> {
  if (stopping) {
    logger.warn({ reason }, 'second signal during shutdown: exiting at once');
    process.exit(1);
  }
  stopping = true;
  // unref: the deadline must not be what keeps the process alive.
  setTimeout(() => {
    logger.error({ deadlineMs: SHUTDOWN_DEADLINE_MS }, 'shutdown did not finish in time');
    process.exit(1);
  }, SHUTDOWN_DEADLINE_MS).unref();
  // A signal during startup waits for the engine to be up, then closes it like any other.
  const app = await starting?.catch(() => null);
  await app?.shutdown(reason);
  process.exit(code);
}

process.on('SIGINT', () => void stop('SIGINT', 0));
process.on('SIGTERM', () => void stop('SIGTERM', 0));
process.on('uncaughtException', (err) => {
  logger.fatal({ err }, 'uncaught exception');
  void stop('uncaught exception', 1);
});
process.on('unhandledRejection', (reason) => {
  logger.fatal({ err: toError(reason) }, 'unhandled rejection');
  void stop('unhandled rejection', 1);
});

starting = startServeApp(args, logger, buildServeEngine);
try {
  await starting;
} catch (err) {
  logger.fatal({ err: toError(err) }, 'serve could not start');
  process.exit(1);
}
