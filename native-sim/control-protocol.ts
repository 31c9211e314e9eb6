import type { MessagePort } from 'node:worker_threads';
import type { SimFaults } from './sim-types.js';

/** Control messages main → sim thread (postMessage on a dedicated port; never on the rings). */
export type ControlRequest =
  | { readonly id: number; readonly op: 'hello' | 'snapshot' | 'counters' | 'restart' | 'close' }
  | { readonly id: number; readonly op: 'faults'; readonly faults: SimFaults }
  | { readonly id: number; readonly op: 'heap'; readonly collect: boolean }
  | { readonly id: number; readonly op: 'attach-ring'; readonly ring: SharedArrayBuffer; readonly ringId: number }
  | { readonly id: number; readonly op: 'detach-ring'; readonly ringId: number }
  | { readonly id: number; readonly op: 'serve-rings' }
  | { readonly id: number; readonly op: 'serve-postmessage'; readonly port: MessagePort };

export type ControlReply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly message: string; readonly code: string };

/** What the sim thread receives as workerData. */
export interface SimWorkerData {
  readonly controlPort: MessagePort;
  readonly requestRing: SharedArrayBuffer;
  readonly replyRing: SharedArrayBuffer;
  readonly doorbell: SharedArrayBuffer;
  readonly seed: number;
  readonly epoch: number;
  readonly spinMicros: number;
}
