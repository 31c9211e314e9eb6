// A real engine for the bad-input tests: Controller + Scheduler with the built-in descriptors over
// the simulated VPP's engine called in this thread (src/flood's inline dataplane), plus small events
// whose completion can be awaited.
import {
  DBResync,
  EventMethodType,
  UpdateDirectionType,
  UpdateTransactionType,
  type Event,
  type EventHandler,
  type UpdateEvent,
  type UpdateOperations,
  type Value,
} from '../../src/api/index.js';
import { Controller, type ControllerConfig } from '../../src/controller/index.js';
import { InlineDataplane } from '../../src/flood/inline-dataplane.js';
import { Scheduler } from '../../src/scheduler/index.js';

/** Settles once `done` is called; remembers how often it was called. */
export class Completion {
  calls = 0;
  error: Error | null = null;
  readonly settled: Promise<Error | null>;
  #resolve!: (err: Error | null) => void;
  constructor() {
    this.settled = new Promise((resolve) => (this.#resolve = resolve));
  }
  finish(err: Error | null): void {
    this.calls++;
    this.error = err;
    this.#resolve(err);
  }
}

/** An update event handled by the test handlers: `puts` are put, `deletes` deleted. */
export class TestUpdate implements UpdateEvent {
  readonly completion = new Completion();
  constructor(
    readonly label: string,
    readonly puts: ReadonlyMap<unknown, unknown> = new Map(),
  ) {}
  getName(): string {
    return 'Test Update';
  }
  toString(): string {
    return `Test Update ${this.label}`;
  }
  method(): EventMethodType {
    return EventMethodType.Update;
  }
  transactionType(): UpdateTransactionType {
    return UpdateTransactionType.BestEffortIgnoreErrors;
  }
  direction(): UpdateDirectionType {
    return UpdateDirectionType.Forward;
  }
  isBlocking(): boolean {
    return false;
  }
  done(err: Error | null): void {
    this.completion.finish(err);
  }
}

/** Puts what a TestUpdate carries, as is (whatever the test made it). */
export const putsHandler: EventHandler = {
  toString: () => 'test-puts',
  handlesEvent: (e: Event) => e instanceof TestUpdate,
  resync: () => {},
  update(e: Event, txn: UpdateOperations) {
    if (!(e instanceof TestUpdate)) return;
    for (const [k, v] of e.puts) txn.put(k as string, v as Value);
    return `${e.puts.size} key(s)`;
  },
  revert: () => {},
};

export class StartupResync extends DBResync {
  readonly completion = new Completion();
  override done(err: Error | null): void {
    this.completion.finish(err);
  }
}

export interface TestEngine {
  readonly controller: Controller;
  readonly scheduler: Scheduler;
  readonly dataplane: InlineDataplane;
  close(): Promise<void>;
}

/** Starts the engine and processes the startup resync. */
export async function startTestEngine(handlers: EventHandler[], config: Partial<ControllerConfig> = {}): Promise<TestEngine> {
  const dataplane = new InlineDataplane(1);
  const scheduler = new Scheduler({ connector: dataplane });
  const controller = new Controller({ handlers, scheduler, config: { delayRetry: 1, delayAfterErrorHealing: 60_000, ...config } });
  await controller.start();
  const startup = new StartupResync();
  controller.pushEvent(startup);
  await startup.completion.settled;
  return {
    controller,
    scheduler,
    dataplane,
    async close() {
      await controller.close();
      await scheduler.close();
    },
  };
}

export function loopback(name: string): Value {
  return { name, type: 'SOFTWARE_LOOPBACK', enabled: true, ipAddresses: [], vrf: 0 };
}
