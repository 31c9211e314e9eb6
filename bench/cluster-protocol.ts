// Messages between the cluster scenario (bench/suites/cluster.ts) and its node processes.

/** Annotation carrying the epoch-ms (fractional) time a change was written to etcd. */
export const WRITTEN_AT = 'bench/written-at';

export interface NodeConfig {
  readonly index: number;
  readonly etcd: string;
}

export type NodeMessage =
  | { readonly type: 'ready'; readonly node: number; readonly resyncMs: number; readonly objects: number; readonly error: string | null }
  | {
      readonly type: 'samples';
      readonly node: number;
      readonly latenciesMs: readonly number[];
      readonly applied: number;
      readonly errors: number;
      readonly firstApplied: number;
      readonly lastApplied: number;
      /** Events waiting in the watcher for room in the controller's queue. */
      readonly pushBacklog: number;
      /** Events queued in the controller. */
      readonly queueDepth: number;
    }
  | {
      readonly type: 'stopped';
      readonly node: number;
      /** Interfaces of the streamed pods found on the node's dataplane at the end. */
      readonly streamInterfaces: number;
      readonly duplicatesSkipped: number;
      readonly pushRetries: number;
    };
