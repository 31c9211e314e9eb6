import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

/** JSON lines by default (for collectors); human-readable when stdout is a terminal. */
export function createServeLogger(options: { readonly level: string; readonly pretty: boolean }): Logger {
  const base = { level: options.level, base: { name: 'vpp-engine' } };
  if (!options.pretty) return pino(base, pino.destination({ fd: 1, sync: true }));
  // The stream form keeps formatting on this thread: no transport worker to outlive shutdown.
  return pino(base, pretty({ colorize: true, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,name' }));
}
