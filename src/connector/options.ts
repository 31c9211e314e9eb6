/** Minimal pino-compatible logger the connector writes to (silent by default). */
export interface ConnectorLogger {
  warn(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export interface ConnectorOptions {
  /**
   * Milliseconds without progress before a request fails with ReplyTimeoutError: counted from its
   * write, and restarted whenever a reply to an earlier request (or a detail of this dump) arrives,
   * so a long queue or a big dump on a busy machine does not time out while the dataplane works.
   * @default 5000
   */
  readonly replyTimeout?: number;
  /** Milliseconds `connect` keeps retrying its first ping (each try bounded by replyTimeout). @default 10000 */
  readonly connectTimeout?: number;
  /** Milliseconds between health pings (control_ping); two missed pings mean 'not-responding'. 0 disables pinging. @default 1000 */
  readonly pingInterval?: number;
  /**
   * Most microseconds the main thread spins on the reply ring after sending before it parks on
   * Atomics.waitAsync; within it the spin covers the longest recent round trip that fits, and is
   * skipped while most round trips are longer. 0 = never spin. @default 50
   */
  readonly spinMicros?: number;
  /** 'ring': SharedArrayBuffer rings; 'postMessage': the structured-clone baseline over a MessagePort. @default 'ring' */
  readonly transport?: 'ring' | 'postMessage';
  /**
   * How the postMessage transport carries a message: 'clone' posts the object (structured clone),
   * 'json' posts its JSON text and parses replies (the "postMessage + JSON" baseline).
   * Ignored by the ring transport. @default 'clone'
   */
  readonly postMessageEncoding?: 'clone' | 'json';
  /** Channel id: the high 16 bits of every context this connector issues (1..65535). @default 1 */
  readonly channel?: number;
  /** Most requests awaiting a reply at once (also bounds context reuse: < 32768). @default 16384 */
  readonly maxInFlight?: number;
  /** First per-channel sequence number (0..65535); a test aid for the 16-bit wrap-around. @default 0 */
  readonly initialSequence?: number;
  /** Where late replies and protocol errors are reported. @default silent */
  readonly logger?: ConnectorLogger;
}

export interface ResolvedConnectorOptions {
  readonly replyTimeout: number;
  readonly connectTimeout: number;
  readonly pingInterval: number;
  readonly spinMicros: number;
  readonly transport: 'ring' | 'postMessage';
  readonly postMessageEncoding: 'clone' | 'json';
  readonly channel: number;
  readonly maxInFlight: number;
  readonly initialSequence: number;
  readonly logger: ConnectorLogger;
}

const SILENT: ConnectorLogger = Object.freeze({ warn() {}, debug() {} });

function describe(v: unknown): string {
  return typeof v === 'number' || typeof v === 'string' ? `${typeof v} ${String(v)}` : v === null ? 'null' : typeof v;
}

function int(o: Record<string, unknown>, name: string, def: number, min: number, max: number): number {
  const v = o[name];
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`${name}: expected an integer, received ${describe(v)}`);
  if (v < min || v > max) throw new RangeError(`${name}: expected ${min}..${max}, received ${v}`);
  return v;
}

/** Validates connector options (the one place): TypeError/RangeError naming the option. */
export function resolveConnectorOptions(options: unknown): ResolvedConnectorOptions {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new TypeError(`options: expected an object, received ${describe(options)}`);
  }
  const o = (options ?? {}) as Record<string, unknown>;
  const transport = o['transport'] ?? 'ring';
  if (transport !== 'ring' && transport !== 'postMessage') {
    throw new TypeError(`transport: expected 'ring' or 'postMessage', received ${describe(transport)}`);
  }
  const postMessageEncoding = o['postMessageEncoding'] ?? 'clone';
  if (postMessageEncoding !== 'clone' && postMessageEncoding !== 'json') {
    throw new TypeError(`postMessageEncoding: expected 'clone' or 'json', received ${describe(postMessageEncoding)}`);
  }
  const logger = o['logger'] ?? SILENT;
  if (typeof logger !== 'object' || logger === null || typeof (logger as ConnectorLogger).warn !== 'function' || typeof (logger as ConnectorLogger).debug !== 'function') {
    throw new TypeError(`logger: expected an object with warn() and debug(), received ${describe(logger)}`);
  }
  return {
    replyTimeout: int(o, 'replyTimeout', 5000, 1, 3_600_000),
    connectTimeout: int(o, 'connectTimeout', 10_000, 0, 3_600_000),
    pingInterval: int(o, 'pingInterval', 1000, 0, 3_600_000),
    spinMicros: int(o, 'spinMicros', 50, 0, 100_000),
    transport,
    postMessageEncoding,
    channel: int(o, 'channel', 1, 1, 0xffff),
    maxInFlight: int(o, 'maxInFlight', 16384, 1, 32767),
    initialSequence: int(o, 'initialSequence', 0, 0, 0xffff),
    logger: logger as ConnectorLogger,
  };
}
