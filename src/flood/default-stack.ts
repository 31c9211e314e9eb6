// The embedded stack: native-sim + VppConnector + Scheduler + Controller.
import type { FloodStack, FloodStackInit } from './stack.js';

export async function createDefaultStack(_init: FloodStackInit): Promise<FloodStack> {
  throw new Error('the embedded stack is not available in this build');
}
