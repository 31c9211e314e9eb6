import { EngineError } from '../src/api/errors.js';

/** The simulated dataplane was closed (or its thread exited): control calls fail with this. */
export class SimClosedError extends EngineError {
  constructor(message = 'native-sim is closed') {
    super('ERR_SIM_CLOSED', message);
  }
}

/** A second ring connector tried to attach: the reply ring has exactly one consumer. */
export class SimBusyError extends EngineError {
  constructor() {
    super('ERR_SIM_BUSY', 'native-sim already has a connector attached');
  }
}

/** The sim thread rejected a control request (e.g. invalid fault settings); `code` is kept. */
export class SimControlError extends EngineError {}
