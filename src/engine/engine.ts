import { Controller } from '../controller/index.js';
import type { ControllerOptions } from '../controller/index.js';
import { startDefaultStack, type DefaultStack, type DefaultStackOptions } from './default-stack.js';

export interface EngineOptions extends Omit<ControllerOptions, 'scheduler' | 'createScheduler'> {
  /** Options of the parts below the controller. */
  readonly stack?: Omit<DefaultStackOptions, 'eventLoop'>;
}

/**
 * The whole embedded engine: a Controller committing to the default stack (native-sim, connector,
 * scheduler, resync orchestrator), with every part reachable for inspection.
 */
export class Engine {
  readonly controller: Controller;
  readonly stack: DefaultStack;

  private constructor(controller: Controller, stack: DefaultStack) {
    this.controller = controller;
    this.stack = stack;
  }

  /** Builds and starts the engine; the controller then waits for its first DBResync (SPEC C4). */
  static async start(options: EngineOptions): Promise<Engine> {
    if (typeof options !== 'object' || options === null || Array.isArray(options)) {
      throw new TypeError(`options must be an object with at least { handlers }, received ${options === null ? 'null' : typeof options}`);
    }
    const { stack: stackOptions, ...controllerOptions } = options;
    // The engine's controller commits to the stack it builds: one of the caller's would leave that
    // stack unused and never closed.
    for (const name of ['scheduler', 'createScheduler'] as const) {
      if (name in options) throw new TypeError(`options.${name} is not an Engine option (the engine builds its own stack; use new Controller() to commit elsewhere)`);
    }
    if (stackOptions !== undefined && (typeof stackOptions !== 'object' || stackOptions === null || Array.isArray(stackOptions))) {
      throw new TypeError(`options.stack must be an object, received ${stackOptions === null ? 'null' : typeof stackOptions}`);
    }
    const stack = await startDefaultStack(stackOptions);
    let controller: Controller;
    try {
      // The controller owns the stack: it closes it after its Shutdown, also when close() is called
      // from a handler (then close() returns at once and the stack must outlive the running event).
      controller = new Controller({ ...controllerOptions, createScheduler: async () => ({ scheduler: stack.scheduler, close: () => stack.close() }) });
      stack.attach(controller);
      await controller.start();
    } catch (err) {
      await stack.close();
      throw err;
    }
    return new Engine(controller, stack);
  }

  get scheduler(): DefaultStack['scheduler'] {
    return this.stack.scheduler;
  }

  get connector(): DefaultStack['connector'] {
    return this.stack.connector;
  }

  get sim(): DefaultStack['sim'] {
    return this.stack.sim;
  }

  /**
   * Closes the controller (every queued event finished), then the stack; never rejects. From a
   * handler it resolves once the Shutdown is queued, as `Controller.close()` does; the stack closes
   * after the loop ends.
   */
  close(): Promise<void> {
    return this.controller.close();
  }
}
