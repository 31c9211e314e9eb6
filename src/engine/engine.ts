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
  #closing: Promise<void> | null = null;

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
    if (stackOptions !== undefined && (typeof stackOptions !== 'object' || stackOptions === null || Array.isArray(stackOptions))) {
      throw new TypeError(`options.stack must be an object, received ${stackOptions === null ? 'null' : typeof stackOptions}`);
    }
    const stack = await startDefaultStack(stackOptions);
    let controller: Controller;
    try {
      controller = new Controller({ ...controllerOptions, scheduler: stack.scheduler });
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

  /** Closes the controller (every queued event finished), then the stack; never rejects. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.controller.close();
      await this.stack.close();
    })();
    return this.#closing;
  }
}
