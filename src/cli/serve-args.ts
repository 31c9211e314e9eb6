import { EngineError } from '../api/errors.js';
import { etcdEndpoint } from '../dbwatcher/options.js';

/** A command line `serve` cannot run with; the message says what was wrong. */
export class ServeUsageError extends EngineError {
  constructor(message: string) {
    super('ERR_SERVE_USAGE', message);
  }
}

export interface ServeArgs {
  /** Remote DB endpoint(s), comma separated (http(s)://HOST:PORT or HOST:PORT); null = no DB watcher. */
  readonly etcd: string | null;
  readonly host: string;
  readonly port: number;
  /** Directory of the local DB mirror; null = none. */
  readonly localDb: string | null;
  /** Bearer token for the REST API (`--token` or the `ENGINE_REST_TOKEN` environment variable). */
  readonly token: string | null;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
  readonly help: boolean;
}

export const SERVE_USAGE = `usage: serve [--etcd URL] [--http HOST:PORT] [--local-db DIR] [--token TOKEN] [--log-level LEVEL]

  --etcd URL          watch the remote DB (etcd) at URL (comma separated for several endpoints)
  --http HOST:PORT    REST API address (default 127.0.0.1:9999; port 0 = any free port)
  --local-db DIR      keep a local mirror of the remote DB in DIR (resync from it when etcd is away)
  --token TOKEN       require "Authorization: Bearer TOKEN" on every endpoint but /health
                      (default: the ENGINE_REST_TOKEN environment variable, else no token)
  --log-level LEVEL   fatal | error | warn | info | debug | trace (default info)
`;

const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace']);

/** Parses `serve`'s command line; throws `ServeUsageError` with a precise message on bad input. */
export function parseServeArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): ServeArgs {
  let etcd: string | null = null;
  let http = '127.0.0.1:9999';
  let localDb: string | null = null;
  let token: string | null = env['ENGINE_REST_TOKEN'] || null;
  let logLevel: ServeArgs['logLevel'] = 'info';
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const inline = arg.startsWith('--') && eq > 0 ? arg.slice(eq + 1) : undefined;
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '' || (inline === undefined && v.startsWith('--'))) throw new ServeUsageError(`${name} needs a value`);
      return v;
    };
    switch (name) {
      case '--etcd':
        etcd = value()
          .split(',')
          .map((endpoint) => {
            const checked = etcdEndpoint(endpoint);
            if (checked === undefined) {
              throw new ServeUsageError(`--etcd expects URL(s) like http://127.0.0.1:2379 or 127.0.0.1:2379 (http or https, a port 1-65535, no path), received ${JSON.stringify(endpoint)}`);
            }
            return checked;
          })
          .join(',');
        break;
      case '--http':
        http = value();
        break;
      case '--local-db':
        localDb = value();
        break;
      case '--token':
        token = value();
        break;
      case '--log-level': {
        const level = value();
        if (!LEVELS.has(level)) throw new ServeUsageError(`--log-level expects one of ${[...LEVELS].join(', ')}, received ${JSON.stringify(level)}`);
        logLevel = level as ServeArgs['logLevel'];
        break;
      }
      case '--help':
      case '-h':
        help = true;
        break;
      default:
        throw new ServeUsageError(`unknown argument ${JSON.stringify(arg)}`);
    }
  }
  const { host, port } = parseHostPort(http);
  return { etcd, host, port, localDb, token, logLevel, help };
}

function parseHostPort(s: string): { host: string; port: number } {
  // [::1]:9999, 127.0.0.1:9999, localhost:0
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/.exec(s);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new ServeUsageError(`--http expects HOST:PORT with a port 0-65535, received ${JSON.stringify(s)}`);
  return { host: (m[1] ?? m[2]) as string, port };
}
