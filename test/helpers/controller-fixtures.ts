// Shared helpers for the controller tests: a configurable test handler, a recording logger and a
// recording status check (test doubles of interfaces, not of the controller).
import type { Event, UpdateEvent } from '../../src/api/events.js';
import { EventMethodType, UpdateDirectionType, UpdateTransactionType } from '../../src/api/enums.js';
import type { EventHandler } from '../../src/api/handlers.js';
import type { ResyncOperations, UpdateOperations } from '../../src/api/transactions.js';
import type { KubeStateData } from '../../src/api/values.js';
import { Controller } from '../../src/controller/index.js';
import type { ControllerLogger, ControllerOptions, ProcessedEventInfo, StatusCheck } from '../../src/controller/index.js';
import { SchedulerDouble } from './controller-scheduler-double.js';

export interface Call {
  readonly handler: string;
  readonly stage: 'resync' | 'update' | 'revert';
  readonly event: string;
  readonly resyncCount?: number;
}

export class TestHandler implements EventHandler {
  readonly name: string;
  readonly calls: Call[];
  handles: (event: Event) => boolean = () => true;
  onResync: ((event: Event, kube: KubeStateData, count: number, txn: ResyncOperations) => unknown) | null = null;
  onUpdate: ((event: Event, txn: UpdateOperations) => unknown) | null = null;
  onRevert: ((event: Event) => unknown) | null = null;
  internal = '';
  describeInternalData?: () => string;

  constructor(name: string, calls: Call[] = []) {
    this.name = name;
    this.calls = calls;
  }
  toString(): string {
    return this.name;
  }
  handlesEvent(event: Event): boolean {
    return this.handles(event);
  }
  resync(event: Event, kube: KubeStateData, count: number, txn: ResyncOperations): void | Promise<void> {
    this.calls.push({ handler: this.name, stage: 'resync', event: event.getName(), resyncCount: count });
    return this.onResync?.(event, kube, count, txn) as void | Promise<void>;
  }
  update(event: Event, txn: UpdateOperations): string | void | Promise<string | void> {
    this.calls.push({ handler: this.name, stage: 'update', event: event.getName() });
    return this.onUpdate?.(event, txn) as string | void | Promise<string | void>;
  }
  revert(event: Event): void | Promise<void> {
    this.calls.push({ handler: this.name, stage: 'revert', event: event.getName() });
    return this.onRevert?.(event) as void | Promise<void>;
  }
}

export interface LogEntry {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly obj: object;
  readonly msg: string;
}

export class RecordingLogger implements ControllerLogger {
  readonly entries: LogEntry[] = [];
  onEntry: ((entry: LogEntry) => void) | null = null;
  level: 'debug' | 'info' | 'warn' | 'error' | 'silent' = 'debug';
  #add(entry: LogEntry): void {
    this.entries.push(entry);
    this.onEntry?.(entry);
  }
  static readonly ORDER = ['debug', 'info', 'warn', 'error', 'silent'];
  isLevelEnabled(level: string): boolean {
    return RecordingLogger.ORDER.indexOf(level) >= RecordingLogger.ORDER.indexOf(this.level);
  }
  debug(obj: object, msg = ''): void {
    this.#add({ level: 'debug', obj, msg });
  }
  info(obj: object, msg = ''): void {
    this.#add({ level: 'info', obj, msg });
  }
  warn(obj: object, msg = ''): void {
    this.#add({ level: 'warn', obj, msg });
  }
  error(obj: object, msg = ''): void {
    this.#add({ level: 'error', obj, msg });
  }
}

export class RecordingStatusCheck implements StatusCheck {
  readonly reports: Array<{ name: string; state: 'ok' | 'error'; err: Error | null }> = [];
  #waiters: Array<{ state: 'ok' | 'error'; resolve: () => void }> = [];
  reportStateChange(name: string, state: 'ok' | 'error', err?: Error | null): void {
    this.reports.push({ name, state, err: err ?? null });
    this.#waiters = this.#waiters.filter((w) => {
      if (w.state !== state) return true;
      w.resolve();
      return false;
    });
  }
  /** Resolves when `state` is (or has been) reported. */
  waitFor(state: 'ok' | 'error'): Promise<void> {
    if (this.reports.some((r) => r.state === state)) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ state, resolve }));
  }
}

/** An event whose `done` is observable: a promise of the error given to done, and a done count. */
export function tracked<E extends Event>(event: E): E & { settled: Promise<Error | null>; doneCount: number } {
  let resolve!: (err: Error | null) => void;
  const settled = new Promise<Error | null>((r) => (resolve = r));
  const t = event as E & { settled: Promise<Error | null>; doneCount: number };
  const original = event.done.bind(event);
  t.doneCount = 0;
  t.settled = settled;
  t.done = (err: Error | null) => {
    t.doneCount++;
    original(err);
    resolve(err);
  };
  return t;
}

export interface Harness {
  readonly controller: Controller;
  readonly scheduler: SchedulerDouble;
  readonly calls: Call[];
  readonly handlers: TestHandler[];
  readonly logger: RecordingLogger;
  readonly status: RecordingStatusCheck;
}

export function harness(names: string[] = ['A', 'B', 'C'], options: Partial<ControllerOptions> = {}): Harness {
  const calls: Call[] = [];
  const handlers = names.map((n) => new TestHandler(n, calls));
  const scheduler = new SchedulerDouble();
  const logger = new RecordingLogger();
  const status = new RecordingStatusCheck();
  const controller = new Controller({ handlers, scheduler, logger, statusCheck: status, ...options });
  return { controller, scheduler, calls, handlers, logger, status };
}

/** Resolves with the info of the next processed event named `name` (attach before it can happen). */
export function nextProcessed(controller: Controller, name: string): Promise<ProcessedEventInfo> {
  return new Promise((resolve) => {
    const off = controller.onEvent((info) => {
      if (info.name !== name) return;
      off();
      resolve(info);
    });
  });
}

/** Resolves once `count` events named `name` have been processed (attach before they can happen). */
export function processedTimes(controller: Controller, name: string, count: number): Promise<void> {
  let seen = 0;
  return new Promise((resolve) => {
    const off = controller.onEvent((info) => {
      if (info.name === name && ++seen === count) {
        off();
        resolve();
      }
    });
  });
}

/** An update event of a given transaction type and direction (the tests' own UpdateEvent). */
export class TypedUpdate implements UpdateEvent {
  constructor(
    private readonly type: UpdateTransactionType = UpdateTransactionType.BestEffort,
    private readonly dir: UpdateDirectionType = UpdateDirectionType.Forward,
    private readonly name = 'Typed',
  ) {}
  getName(): string {
    return this.name;
  }
  toString(): string {
    return `${this.name} ${this.type}/${this.dir}`;
  }
  method(): EventMethodType {
    return EventMethodType.Update;
  }
  isBlocking(): boolean {
    return false;
  }
  transactionType(): UpdateTransactionType {
    return this.type;
  }
  direction(): UpdateDirectionType {
    return this.dir;
  }
  done(): void {}
}
