import type { AclRule } from '../src/binapi/messages.js';

export interface SimInterfaceSnapshot {
  readonly sw_if_index: number;
  readonly name: string;
  readonly tag: string;
  /** VPP `interface_dev_type`: local, loopback, virtio (tap), memif. */
  readonly type: string;
  readonly flags: number;
  readonly mtu: number;
  readonly mac: string;
  readonly vrf: number;
  readonly vrf6: number;
  /** sw_if_index whose addresses it borrows, or null. */
  readonly unnumbered: number | null;
  readonly addresses: readonly string[];
  readonly host_if_name: string;
  readonly bridge_domain: { readonly bd_id: number; readonly port_type: number } | null;
}

/** The simulated dataplane's full state (N5). */
export interface SimSnapshot {
  readonly epoch: number;
  readonly interfaces: readonly SimInterfaceSnapshot[];
  readonly tables: ReadonlyArray<{ readonly table_id: number; readonly is_ip6: boolean; readonly name: string }>;
  readonly routes: ReadonlyArray<{
    readonly table_id: number;
    readonly is_ip6: boolean;
    readonly prefix: string;
    readonly paths: ReadonlyArray<{ readonly sw_if_index: number; readonly nh: string; readonly weight: number; readonly preference: number }>;
  }>;
  readonly neighbors: ReadonlyArray<{ readonly sw_if_index: number; readonly ip_address: string; readonly mac_address: string; readonly flags: number }>;
  readonly acls: ReadonlyArray<{ readonly acl_index: number; readonly tag: string; readonly r: readonly AclRule[] }>;
  readonly aclBindings: ReadonlyArray<{ readonly sw_if_index: number; readonly n_input: number; readonly acls: readonly number[] }>;
  readonly nat44StaticMappings: ReadonlyArray<{
    readonly tag: string;
    readonly external_ip_address: string;
    readonly external_port: number;
    readonly protocol: number;
    readonly locals: ReadonlyArray<{ readonly addr: string; readonly port: number; readonly probability: number }>;
  }>;
  readonly bridgeDomains: ReadonlyArray<{
    readonly bd_id: number;
    readonly bd_tag: string;
    readonly flood: boolean;
    readonly forward: boolean;
    readonly learn: boolean;
    readonly members: ReadonlyArray<{ readonly sw_if_index: number; readonly port_type: number }>;
  }>;
}

/** Counters of the simulated dataplane (N5). */
export interface SimCounters {
  /** Requests received, by message name (control_ping included). */
  readonly messages: Readonly<Record<string, number>>;
  /** Errors injected by the fault settings, by message name. */
  readonly errorsInjected: Readonly<Record<string, number>>;
  /** Malformed frames or messages received (V6). */
  readonly protocolErrors: number;
  readonly restarts: number;
  /** Replies and details written. */
  readonly replies: number;
  readonly epoch: number;
}

/** Fault injection (N4). Fields left out keep their current setting. */
export interface SimFaults {
  /** Probability (0..1) that a request is answered with retval -1 instead of being applied. @default 0 */
  readonly errorRate?: number;
  /** Restrict error injection to these message names; empty or absent = all (control_ping never). */
  readonly messages?: readonly string[];
  /**
   * An error rate (0..1) per message name, in place of `errorRate` (and `messages`) for the names
   * it lists; `{}` clears them. E.g. `{ ip_route_add_del: 0.2, sw_interface_add_del_address: 0.05 }`.
   */
  readonly errorRates?: Readonly<Record<string, number>>;
  /** Delay added to every reply, in ms. @default 0 */
  readonly latencyMs?: number;
  /** Stop answering binary-API messages for this long, from now, in ms. */
  readonly stallMs?: number;
  /** Re-seed the fault PRNG. */
  readonly seed?: number;
}

/** The sim thread's own V8 heap, in bytes (diagnostics: the bench tells live state from garbage). */
export interface SimHeapUsage {
  /** Heap in use when asked. */
  readonly used: number;
  /** Heap in use after a full collection of the sim isolate (= `used` when none was asked for). */
  readonly live: number;
  /** Heap reserved by the isolate after that collection. */
  readonly total: number;
}
