// The generator's events: the built-in event classes whose `done` reports to the run's tracker.
import { DBResync, ExternalConfigChange, KubeStateChange, type KeyValueChanges, type KeyValuePairs, type KubeStateData, type Value } from '../api/index.js';
import { AddPod, DeletePod } from '../handlers/index.js';
import { SyntheticUpdate } from './synthetic-handlers.js';

/** Receives each event's completion. */
export interface DoneSink {
  finished(seq: number, err: Error | null): void;
}

export class FloodKubeStateChange extends KubeStateChange {
  constructor(
    init: { key: string; resource: string; prevValue: Value | null; newValue: Value | null },
    readonly seq: number,
    readonly sink: DoneSink,
  ) {
    super(init);
  }
  override done(err: Error | null): void {
    this.sink.finished(this.seq, err);
  }
}

export class FloodDBResync extends DBResync {
  constructor(
    init: { kubeState: KubeStateData; externalConfig: KeyValuePairs },
    readonly seq: number,
    readonly sink: DoneSink,
  ) {
    super(init);
  }
  override done(err: Error | null): void {
    this.sink.finished(this.seq, err);
  }
}

export class FloodExternalConfigChange extends ExternalConfigChange {
  constructor(
    changes: KeyValueChanges,
    readonly seq: number,
    readonly sink: DoneSink,
  ) {
    super('db', false, changes);
  }
  override done(err: Error | null): void {
    super.done(err);
    this.sink.finished(this.seq, err);
  }
}

export class FloodAddPod extends AddPod {
  constructor(
    pod: { namespace: string; name: string },
    readonly seq: number,
    readonly sink: DoneSink,
  ) {
    super(pod);
  }
  override done(err: Error | null): void {
    super.done(err);
    this.sink.finished(this.seq, err);
  }
}

export class FloodDeletePod extends DeletePod {
  constructor(
    pod: { namespace: string; name: string },
    readonly seq: number,
    readonly sink: DoneSink,
  ) {
    super(pod);
  }
  override done(err: Error | null): void {
    super.done(err);
    this.sink.finished(this.seq, err);
  }
}

export class FloodSyntheticUpdate extends SyntheticUpdate {
  constructor(
    index: number,
    readonly seq: number,
    readonly sink: DoneSink,
  ) {
    super(index);
  }
  override done(err: Error | null): void {
    this.sink.finished(this.seq, err);
  }
}
