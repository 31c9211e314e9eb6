import {
  EventMethodType,
  HealingResyncType,
  UpdateDirectionType,
  UpdateTransactionType,
} from './enums.js';
import type { KeyValueChanges, KeyValuePairs, KubeStateData, Value } from './values.js';
import { newKubeStateData } from './values.js';

/** Something that has happened and may cause a reaction. */
export interface Event {
  getName(): string;
  toString(): string;
  method(): EventMethodType;
  /** A blocking event is waited for by its producer; it may not be pushed from inside the loop. */
  isBlocking(): boolean;
  /** Called by the controller exactly once, when the event has been processed. */
  done(err: Error | null): void;
}

/** An event that can be reacted to by an incremental change. */
export interface UpdateEvent extends Event {
  transactionType(): UpdateTransactionType;
  direction(): UpdateDirectionType;
}

/** The event loop: accepts events for processing. */
export interface EventLoop {
  pushEvent(event: Event): void;
}

export function isUpdateEvent(event: Event): event is UpdateEvent {
  const e = event as Partial<UpdateEvent>;
  return typeof e.transactionType === 'function' && typeof e.direction === 'function';
}

/**
 * An event whose producer can `wait()` for it. The promise is made lazily, so an error given to
 * `done` never becomes an unhandled rejection when nobody waits.
 */
export abstract class WaitableEvent {
  #settled = false;
  #error: Error | null = null;
  #waiters: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];

  done(err: Error | null): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#error = err;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) {
      if (err) w.reject(err);
      else w.resolve();
    }
  }

  /** Resolves when processed without error, rejects with the processing error. */
  wait(): Promise<void> {
    if (this.#settled) return this.#error ? Promise.reject(this.#error) : Promise.resolve();
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** Whether `done` has been called. */
  get isDone(): boolean {
    return this.#settled;
  }
}

/** A snapshot of the database: all watched Kubernetes state and the external configuration. */
export class DBResync {
  /** True when loaded from the local mirror rather than the remote database. */
  local: boolean;
  kubeState: KubeStateData;
  externalConfig: KeyValuePairs;

  constructor(init: { local?: boolean; kubeState?: KubeStateData; externalConfig?: KeyValuePairs } = {}) {
    this.local = init.local ?? false;
    this.kubeState = init.kubeState ?? newKubeStateData();
    this.externalConfig = init.externalConfig ?? new Map();
  }
  getName(): string {
    return 'Database Resync';
  }
  toString(): string {
    let resources = 0;
    for (const m of this.kubeState.values()) resources += m.size;
    return `${this.getName()} (${this.local ? 'local' : 'remote'} DB, ${resources} k8s values, ${this.externalConfig.size} external values)`;
  }
  method(): EventMethodType {
    return EventMethodType.FullResync;
  }
  isBlocking(): boolean {
    return false;
  }
  done(_err: Error | null): void {}
}

export function newDBResync(): DBResync {
  return new DBResync();
}

/** A change of one key of the Kubernetes state. */
export class KubeStateChange implements UpdateEvent {
  key: string;
  resource: string;
  prevValue: Value | null;
  newValue: Value | null;

  constructor(init: { key: string; resource: string; prevValue?: Value | null; newValue?: Value | null }) {
    this.key = init.key;
    this.resource = init.resource;
    this.prevValue = init.prevValue ?? null;
    this.newValue = init.newValue ?? null;
  }
  getName(): string {
    return 'Kubernetes State Change';
  }
  toString(): string {
    const what = this.newValue === null ? 'delete' : this.prevValue === null ? 'add' : 'update';
    return `${this.getName()} (${what} ${this.resource} ${this.key})`;
  }
  method(): EventMethodType {
    return EventMethodType.Update;
  }
  transactionType(): UpdateTransactionType {
    return UpdateTransactionType.BestEffort;
  }
  direction(): UpdateDirectionType {
    return this.newValue === null ? UpdateDirectionType.Reverse : UpdateDirectionType.Forward;
  }
  isBlocking(): boolean {
    return false;
  }
  done(_err: Error | null): void {}
}

/** A change of one or more keys of the external configuration from one source. */
export class ExternalConfigChange extends WaitableEvent implements UpdateEvent {
  source: string;
  blocking: boolean;
  /** `null` value = delete. */
  updatedKVs: KeyValueChanges;

  constructor(source: string, blocking = false, updatedKVs: KeyValueChanges = new Map()) {
    super();
    this.source = source;
    this.blocking = blocking;
    this.updatedKVs = updatedKVs;
  }
  getName(): string {
    return 'External Config Change';
  }
  override toString(): string {
    return `${this.getName()} (source ${this.source}, ${this.updatedKVs.size} key(s))`;
  }
  method(): EventMethodType {
    return EventMethodType.Update;
  }
  transactionType(): UpdateTransactionType {
    return UpdateTransactionType.BestEffort;
  }
  direction(): UpdateDirectionType {
    return UpdateDirectionType.Forward;
  }
  isBlocking(): boolean {
    return this.blocking;
  }
}

export function newExternalConfigChange(source: string, blocking: boolean): ExternalConfigChange {
  return new ExternalConfigChange(source, blocking);
}

/** A full snapshot of the external configuration from one source. */
export class ExternalConfigResync extends WaitableEvent implements Event {
  source: string;
  blocking: boolean;
  externalConfig: KeyValuePairs;

  constructor(source: string, blocking = false, externalConfig: KeyValuePairs = new Map()) {
    super();
    this.source = source;
    this.blocking = blocking;
    this.externalConfig = externalConfig;
  }
  getName(): string {
    return 'External Config Resync';
  }
  override toString(): string {
    return `${this.getName()} (source ${this.source}, ${this.externalConfig.size} key(s))`;
  }
  method(): EventMethodType {
    return EventMethodType.UpstreamResync;
  }
  isBlocking(): boolean {
    return this.blocking;
  }
}

export function newExternalConfigResync(source: string, blocking: boolean): ExternalConfigResync {
  return new ExternalConfigResync(source, blocking);
}

/** A resync that heals the dataplane: periodic (downstream) or after an error (full). */
export class HealingResync implements Event {
  type: HealingResyncType;
  error: Error | null;

  constructor(type: HealingResyncType, error: Error | null = null) {
    this.type = type;
    this.error = error;
  }
  getName(): string {
    return 'Healing Resync';
  }
  toString(): string {
    if (this.type === HealingResyncType.Periodic) return `${this.getName()} (periodic)`;
    return `${this.getName()} (after error: ${this.error?.message ?? 'unknown'})`;
  }
  method(): EventMethodType {
    return this.type === HealingResyncType.Periodic ? EventMethodType.DownstreamResync : EventMethodType.FullResync;
  }
  isBlocking(): boolean {
    return false;
  }
  done(_err: Error | null): void {}
}

/** Pushed by `close()`: the last event the loop processes. */
export class Shutdown extends WaitableEvent implements UpdateEvent {
  getName(): string {
    return 'Shutdown';
  }
  override toString(): string {
    return this.getName();
  }
  method(): EventMethodType {
    return EventMethodType.Update;
  }
  transactionType(): UpdateTransactionType {
    return UpdateTransactionType.BestEffort;
  }
  direction(): UpdateDirectionType {
    return UpdateDirectionType.Forward;
  }
  isBlocking(): boolean {
    return true;
  }
}

export function newShutdownEvent(): Shutdown {
  return new Shutdown();
}

/** Follows an event in verification mode to check that handlers' state stayed consistent. */
export class VerificationResync implements Event {
  getName(): string {
    return 'Verification Resync';
  }
  toString(): string {
    return this.getName();
  }
  method(): EventMethodType {
    return EventMethodType.UpstreamResync;
  }
  isBlocking(): boolean {
    return false;
  }
  done(_err: Error | null): void {}
}
