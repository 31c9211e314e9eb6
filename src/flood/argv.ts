// Command-line arguments of `flood` -> FloodOptions; every mistake is a FloodUsageError.
import { parseArgs } from 'node:util';
import { EngineError } from '../api/index.js';
import { resolveFloodOptions, type FloodOptions } from './options.js';

/** A bad command line: the CLI prints it with the usage and exits with status 2. */
export class FloodUsageError extends EngineError {
  constructor(message: string) {
    super('ERR_FLOOD_USAGE', message);
  }
}

export const FLOOD_USAGE = `usage: flood [options]
  --events N          stop after N generated events (default 10000; unlimited with --duration)
  --duration S        stop after S seconds
  --rate R|max        target events per second (default max)
  --handlers N        synthetic mode: N simple handlers instead of the built-in ones
  --keys-per-event K  synthetic mode: keys each handler puts per event (default 5)
  --faults P          dataplane error rate 0..1 during the run (default 0)
  --resync-every N    push a full DBResync every N events (default 0 = never)
  --restarts N        dataplane restarts spread over the run (default 0)
  --seed S            generator and fault seed (default 1)
  --queue-size N      controller event queue capacity (default 1000)
  --pods N            most live pods the generator keeps (default 300)
  --dataplane D       thread (default: simulated VPP in its own thread, over the rings) or
                      inline (its engine called in this thread, no rings: a baseline)
  --healing-delay MS  delay of the after-error healing resync (default 100); a healing resync
                      that still fails after its retries aborts the loop (SPEC C14)
  --stall-timeout MS  give up when no event finishes for MS ms (default 30000)
  --json              print the report as one JSON object on stdout (progress goes to stderr)
  --no-progress       no progress output
  -h, --help          this text
exit status: 0 when divergence, model divergence, unfinished and duplicate done are all 0, the loop did not abort and the run did not stall, 1 otherwise, 2 for a bad command line`;

export interface FloodCommand {
  readonly options: FloodOptions;
  readonly json: boolean;
  readonly progress: boolean;
  readonly help: boolean;
}

const INT = /^\d+$/;
const NUM = /^(\d+(\.\d*)?|\.\d+)(e[-+]?\d+)?$/i;

function int(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!INT.test(text)) throw new FloodUsageError(`--${flag} expects a whole number, received '${text}'`);
  return Number(text);
}

function num(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!NUM.test(text)) throw new FloodUsageError(`--${flag} expects a number, received '${text}'`);
  return Number(text);
}

export function parseFloodArgs(argv: readonly string[]): FloodCommand {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        events: { type: 'string' },
        duration: { type: 'string' },
        rate: { type: 'string' },
        handlers: { type: 'string' },
        'keys-per-event': { type: 'string' },
        faults: { type: 'string' },
        'resync-every': { type: 'string' },
        restarts: { type: 'string' },
        seed: { type: 'string' },
        'queue-size': { type: 'string' },
        pods: { type: 'string' },
        'stall-timeout': { type: 'string' },
        dataplane: { type: 'string' },
        'healing-delay': { type: 'string' },
        json: { type: 'boolean' },
        'no-progress': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new FloodUsageError((err as Error).message);
  }
  const s = (k: string): string | undefined => values[k] as string | undefined;
  const rateText = s('rate');
  const options: FloodOptions = {
    events: int('events', s('events')),
    durationS: num('duration', s('duration')),
    rate: rateText === 'max' ? 'max' : num('rate', rateText),
    handlers: int('handlers', s('handlers')),
    keysPerEvent: int('keys-per-event', s('keys-per-event')),
    faults: num('faults', s('faults')),
    resyncEvery: int('resync-every', s('resync-every')),
    restarts: int('restarts', s('restarts')),
    seed: int('seed', s('seed')),
    queueSize: int('queue-size', s('queue-size')),
    pods: int('pods', s('pods')),
    stallTimeoutMs: int('stall-timeout', s('stall-timeout')),
    dataplane: s('dataplane') as FloodOptions['dataplane'],
    healingDelayMs: int('healing-delay', s('healing-delay')),
  };
  try {
    resolveFloodOptions(options);
  } catch (err) {
    // Name the flag as typed rather than the programmatic option.
    const message = (err as Error).message
      .replace(/^durationS\b/, '--duration')
      .replace(/^keysPerEvent\b/, '--keys-per-event')
      .replace(/^resyncEvery\b/, '--resync-every')
      .replace(/^queueSize\b/, '--queue-size')
      .replace(/^stallTimeoutMs\b/, '--stall-timeout')
      .replace(/^healingDelayMs\b/, '--healing-delay')
      .replace(/^(events|rate|handlers|faults|restarts|seed|pods|dataplane)\b/, '--$1');
    throw new FloodUsageError(message);
  }
  return { options, json: values['json'] === true, progress: values['no-progress'] !== true, help: values['help'] === true };
}
