export { Scheduler } from './scheduler.js';
export type { SchedulerOptions, SchedulerLogger } from './options.js';
export { DEFAULT_POOLED_KINDS } from './options.js';
export type { OpPool, PoolOp, PoolWaveResult } from './op-pool.js';
export type { BinapiClient, BinapiRequest, Reply } from './binapi-client.js';
export type { Descriptor, CreatePlan, RetrieveContext, RetrievedValue } from './descriptor.js';
export type { MetadataReader, MetadataAllocator } from './metadata-store.js';
export type { KeyStatus, KeyState } from './key-status.js';
export type { SchedulerTxnRecord } from './history.js';
export type { DumpView } from './scheduler-engine.js';
export type { Plan, PlannedOp, PlanInput, PlanKeyView, PlannedOpKind } from './planner.js';
export { plan } from './planner.js';
export { deepEqual } from './value-equality.js';
export {
  InvalidKeyError,
  InvalidValueError,
  SchedulerClosedError,
  UnimplementedKeyError,
  DescriptorRegistrationError,
  DescriptorError,
  OperationInterruptedError,
} from './errors.js';
