// Drives native-sim's SimEngine directly (no thread): the real engine, called synchronously.
import { SimEngine } from '../../native-sim/sim-engine.js';

let context = 1;

export function newEngine(seed = 1): SimEngine {
  return new SimEngine(seed, 7);
}

/** Sends one request; returns its reply message. */
export function call(e: SimEngine, name: string, fields: Record<string, unknown> = {}): Record<string, unknown> {
  const out = e.handle({ _msgname: name, context: context++, ...fields });
  if (out === null || out.length !== 1) throw new Error(`${name}: expected one reply, got ${JSON.stringify(out)}`);
  return out[0] as Record<string, unknown>;
}

export function retval(e: SimEngine, name: string, fields: Record<string, unknown> = {}): number {
  return call(e, name, fields)['retval'] as number;
}

/** Sends a dump; returns the details messages. */
export function dump(e: SimEngine, name: string, fields: Record<string, unknown> = {}): Array<Record<string, unknown>> {
  const out = e.handle({ _msgname: name, context: context++, ...fields });
  if (out === null) throw new Error(`${name}: malformed`);
  return out;
}
