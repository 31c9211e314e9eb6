// What a flood runs against: a controller over handlers, plus the few dataplane controls the run
// needs. The default is the embedded stack (native-sim + connector + scheduler); tests may pass
// their own.
import type { Event, EventHandler, KVScheduler, Value } from '../api/index.js';
import type { StatusCheck } from '../controller/index.js';

export interface FloodController {
  start(): Promise<void>;
  pushEvent(event: Event): void;
  close(): Promise<void>;
}

export interface FloodStack {
  readonly controller: FloodController;
  /** The scheduler's desired state ('nb') or the dataplane's state read back through the descriptors ('sb'). */
  dump(view: 'nb' | 'sb'): Promise<Map<string, Value>>;
  /** Fault injection into the dataplane: error rate 0..1 (0 = off). */
  setFaults(errorRate: number, seed: number): Promise<void>;
  /** Restarts the dataplane (it loses its state) and resolves once it answers again. */
  restart(): Promise<void>;
  /** Extra figures for the report (dataplane counters, connector stats...). */
  stats(): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

export interface FloodStackInit {
  readonly handlers: EventHandler[];
  readonly queueSize: number;
  readonly seed: number;
  readonly dataplane: 'thread' | 'inline';
  /** Controller configuration tuned for a flood (short retry and healing delays). */
  readonly controllerConfig: Readonly<Record<string, unknown>>;
  /** Wraps the scheduler the controller commits to, so that the run can count commits. */
  readonly wrapScheduler: (scheduler: KVScheduler) => KVScheduler;
  /** Give it to the controller: the run reports the error that aborted the loop, if one did. */
  readonly statusCheck?: StatusCheck;
}

export type FloodStackFactory = (init: FloodStackInit) => Promise<FloodStack>;
