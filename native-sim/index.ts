export { NativeSim, startNativeSim } from './native-sim.js';
export type { NativeSimOptions, SimRings } from './native-sim.js';
export type { SimCounters, SimFaults, SimHeapUsage, SimSnapshot, SimInterfaceSnapshot } from './sim-types.js';
export { SimBusyError, SimClosedError, SimControlError } from './sim-errors.js';
export { SimEngine } from './sim-engine.js';
export { DataplaneState } from './dataplane-state.js';
