import { Etcd3, GRPCResourceExhastedError, Range, isRecoverableError, type IKeyValue, type IOptions, type IRangeResponse, type IWatchResponse, type Watcher } from 'etcd3';
import { DBResync, ExternalConfigChange, KubeStateChange } from '../api/events.js';
import type { KeyValueChanges, KeyValuePairs, Value } from '../api/values.js';
import { newKubeStateData } from '../api/values.js';
import { DbWatcherStateError, RemoteDbUnavailableError } from './errors.js';
import { EventPusher } from './event-pusher.js';
import { KeyRouter, parseDbValue } from './key-router.js';
import { LocalMirror } from './local-mirror.js';
import { RevisionTracker } from './revision-tracker.js';
import {
  type DbWatcherOptions,
  type DbWatcherState,
  type ResolvedDbWatcherOptions,
  resolveDbWatcherOptions,
} from './options.js';

/** The source name external-config events from the DB carry. */
export const DB_SOURCE = 'db';

/** Counters of what the watcher did, for tests, metrics and the health page. */
export interface DbWatcherStats {
  readonly remoteResyncs: number;
  readonly localResyncs: number;
  readonly failedResyncs: number;
  readonly changesPushed: number;
  /** Watch events at or below a revision already seen (SPEC D5). */
  readonly duplicatesSkipped: number;
  /** Values that were not JSON objects: skipped and reported. */
  readonly invalidValues: number;
  /** Times the loop's queue was full and a push was retried later. */
  readonly pushRetries: number;
  /** Events still waiting for room in the loop's queue. */
  readonly pushBacklog: number;
  readonly connectionLosses: number;
  /** Revision of the last remote snapshot. */
  readonly snapshotRevision: number;
  /** Writes the local mirror could not make (lmdb refused the key or value): logged, the rest kept. */
  readonly mirrorWriteErrors: number;
  /** Keys whose last revision is remembered (SPEC D5): the live keys seen, deleted ones forgotten. */
  readonly revisionsTracked: number;
}

/** Keys per snapshot range request (halved for a page too large for one gRPC message). */
const SNAPSHOT_PAGE_KEYS = 1000;
const ZERO_BYTE = Buffer.from([0]);
/** gRPC's default 4 MiB is too small for a watch response carrying a transaction of large values. */
const MAX_RECEIVE_BYTES = 64 * 1024 * 1024;

// etcd3's default fault handling retries and opens a circuit breaker for 5 s; the watcher does its
// own probing and backoff, so a call goes straight to a server. With several members, a call that
// found its member unreachable goes on to the next (etcd3 walks the hosts across attempts), and that
// member is skipped for a while: one dead member must not make etcd look lost.
type PolicyFn = (ctx: { signal: AbortSignal; attempt: number }) => unknown;
type FaultHandling = NonNullable<IOptions['faultHandling']>;

/**
 * A failure that says the member may be away. A response too large for one message (a snapshot
 * page: `#rangeAll` halves it) says nothing of the member: skipping it for that would leave no
 * member to read the smaller page from.
 */
function memberFailed(err: unknown): boolean {
  return err instanceof Error && isRecoverableError(err) && !(err instanceof GRPCResourceExhastedError);
}

/** Tries a call up to `attempts` more times, each on the next host, when the failure was the connection's. */
function failover(attempts: number): { execute(fn: PolicyFn): Promise<unknown> } {
  return {
    async execute(fn) {
      for (let attempt = 0; ; attempt++) {
        try {
          return await fn({ signal: new AbortController().signal, attempt });
        } catch (err) {
          if (attempt >= attempts || !memberFailed(err)) throw err;
        }
      }
    },
  };
}

/** Per host: after a connection failure the host is skipped (not called) for `skipMs`. */
function skipAfterFailure(skipMs: number): { execute(fn: PolicyFn): Promise<unknown> } {
  let skipUntil = 0;
  return {
    async execute(fn) {
      if (Date.now() < skipUntil) throw new Error('etcd member skipped after a connection failure');
      try {
        return await fn({ signal: new AbortController().signal, attempt: 0 });
      } catch (err) {
        if (memberFailed(err)) skipUntil = Date.now() + skipMs;
        throw err;
      }
    },
  };
}

/**
 * Watches the Kubernetes state and this node's external configuration in etcd and turns them into
 * `DBResync`, `KubeStateChange` and `ExternalConfigChange` events (SPEC D1–D5), mirroring every
 * value into a local lmdb DB to resync from when etcd is away.
 */
export class DbWatcher {
  readonly #engine: DbWatcherEngine;

  constructor(options: DbWatcherOptions) {
    this.#engine = new DbWatcherEngine(resolveDbWatcherOptions(options));
  }

  /** Opens the mirror and connects; resolves after the first remote resync attempt (it may have failed: then probing goes on). */
  start(): Promise<void> {
    return this.#engine.start();
  }

  /** A fresh resync from etcd (REST `POST /controller/resync`); rejects with `RemoteDbUnavailableError` when etcd is away. */
  resync(): Promise<void> {
    return this.#engine.resync();
  }

  /** Stops probing and watching, flushes and closes the mirror. Never rejects; harmless twice. */
  close(): Promise<void> {
    return this.#engine.close();
  }

  get state(): DbWatcherState {
    return this.#engine.state;
  }

  get stats(): DbWatcherStats {
    return this.#engine.stats();
  }

  /** Whether a local mirror is in use (false when not configured or lmdb could not be loaded). */
  get hasLocalMirror(): boolean {
    return this.#engine.hasMirror;
  }

  /** Resolves when every mirror write issued so far is durable (for tests and orderly shutdown). */
  mirrorFlushed(): Promise<void> {
    return this.#engine.mirrorFlushed();
  }

  /** Resolves when every event has been accepted by the loop (none waiting for queue room). */
  pushesDrained(): Promise<void> {
    return this.#engine.pushesDrained();
  }
}

class DbWatcherEngine {
  readonly #o: ResolvedDbWatcherOptions;
  readonly #router: KeyRouter;
  readonly #pusher: EventPusher;
  #state: DbWatcherState = 'connecting';
  #started = false;
  #client: Etcd3 | null = null;
  #watchers: Watcher[] = [];
  /** Rejecters of the watches still connecting (see `connected`). */
  readonly #connecting = new Set<(err: Error) => void>();
  #mirror: LocalMirror | null = null;
  /** Bumped whenever watchers are dropped: callbacks of an older generation are ignored. */
  #generation = 0;
  readonly #revisions = new RevisionTracker();
  /** etcd key -> current Kubernetes value (the `prevValue` of the next change). */
  #kubeValues = new Map<string, Value>();
  /** etcd keys whose current value is invalid (skipped): while there are any, the watcher reports error. */
  readonly #invalidKeys = new Set<string>();
  #probeTimer: NodeJS.Timeout | null = null;
  #localTimer: NodeJS.Timeout | null = null;
  #probeDelay: number;
  #resyncing: Promise<boolean> | null = null;
  #counts = {
    remoteResyncs: 0,
    localResyncs: 0,
    failedResyncs: 0,
    changesPushed: 0,
    duplicatesSkipped: 0,
    invalidValues: 0,
    connectionLosses: 0,
  };

  constructor(options: ResolvedDbWatcherOptions) {
    this.#o = options;
    this.#router = new KeyRouter(options.root, options.nodeLabel, options.resources);
    this.#pusher = new EventPusher(options.eventLoop, options.logger, options.pushRetryDelay);
    this.#probeDelay = options.remoteDBProbingInterval;
  }

  get state(): DbWatcherState {
    return this.#state;
  }

  get hasMirror(): boolean {
    return this.#mirror !== null;
  }

  stats(): DbWatcherStats {
    return {
      ...this.#counts,
      pushRetries: this.#pusher.retries,
      pushBacklog: this.#pusher.backlog,
      snapshotRevision: this.#revisions.snapshotRevision,
      revisionsTracked: this.#revisions.size,
      mirrorWriteErrors: this.#mirror?.writeErrors ?? 0,
    };
  }

  mirrorFlushed(): Promise<void> {
    return this.#mirror ? this.#mirror.flushed() : Promise.resolve();
  }

  pushesDrained(): Promise<void> {
    return this.#pusher.drained();
  }

  async start(): Promise<void> {
    if (this.#state === 'closed') throw new DbWatcherStateError('DB watcher is closed', 'ERR_DBWATCHER_CLOSED');
    if (this.#started) return;
    this.#started = true;
    if (this.#o.localDbPath !== undefined) {
      const mirror = await LocalMirror.open(this.#o.localDbPath, this.#o.logger);
      if (mirror instanceof LocalMirror) {
        // close() came while the mirror was opening: it could not close what it did not see.
        if (this.#isClosed()) await mirror.close();
        else this.#mirror = mirror;
      }
    }
    if (this.#isClosed()) return;
    this.#client = this.#newClient();
    this.#localTimer = setTimeout(() => this.#localResync(), this.#o.delayLocalResync);
    const ok = await this.#remoteResync();
    if (!ok && !this.#isClosed()) this.#report(this.#o.name, 'error', new RemoteDbUnavailableError('not reachable at start'));
    this.#scheduleProbe();
  }

  async resync(): Promise<void> {
    if (this.#state === 'closed') throw new DbWatcherStateError('DB watcher is closed', 'ERR_DBWATCHER_CLOSED');
    if (!this.#started || !this.#client) throw new DbWatcherStateError('DB watcher is not started', 'ERR_DBWATCHER_NOT_STARTED');
    // A resync already running was started before this request: wait for it, then take a fresh one.
    if (this.#resyncing) await this.#resyncing.catch(() => false);
    const ok = await this.#remoteResync();
    if (!ok) {
      if (this.#isClosed()) throw new DbWatcherStateError('DB watcher is closed', 'ERR_DBWATCHER_CLOSED');
      throw new RemoteDbUnavailableError(this.#lastError ?? 'resync failed');
    }
  }

  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#setState('closed');
    this.#generation++;
    if (this.#probeTimer) clearTimeout(this.#probeTimer);
    if (this.#localTimer) clearTimeout(this.#localTimer);
    this.#probeTimer = this.#localTimer = null;
    this.#dropWatchers();
    this.#client?.close();
    this.#client = null;
    this.#pusher.close();
    if (this.#resyncing) await this.#resyncing.catch(() => false);
    try {
      await this.#mirror?.close();
    } catch (err) {
      this.#o.logger.error({ err }, 'closing the local DB mirror failed');
    }
  }

  #report(name: string, state: 'ok' | 'error', err: Error | null): void {
    try {
      this.#o.statusCheck?.reportStateChange(name, state, err);
    } catch (e) {
      this.#o.logger.error({ err: e }, 'status check threw');
    }
  }

  #isClosed(): boolean {
    return this.#state === 'closed';
  }

  #setState(next: DbWatcherState): void {
    const prev = this.#state;
    if (prev === next) return;
    this.#state = next;
    this.#o.logger.info({ state: next, previous: prev }, 'DB watcher state');
    try {
      this.#o.onStateChange?.(next, prev);
    } catch (err) {
      this.#o.logger.error({ err }, 'onStateChange hook threw');
    }
  }

  #newClient(): Etcd3 {
    return new Etcd3({
      hosts: [...this.#o.hosts],
      dialTimeout: this.#o.dialTimeout,
      grpcOptions: { 'grpc.max_receive_message_length': MAX_RECEIVE_BYTES },
      faultHandling: {
        global: failover(this.#o.hosts.length - 1) as unknown as FaultHandling['global'],
        // One member: never skipped (the next probe must reach it as soon as it is back).
        host: () => (this.#o.hosts.length > 1 ? skipAfterFailure(this.#o.remoteDBProbingInterval) : failover(0)) as unknown as ReturnType<NonNullable<FaultHandling['host']>>,
      },
    });
  }

  #deadline(): { deadline: number } {
    return { deadline: Date.now() + this.#o.requestTimeout };
  }

  #dropWatchers(): void {
    // Watches still connecting fail now, not at their timeout (close() waits for the resync making them).
    for (const cancel of [...this.#connecting]) cancel(new Error('watch cancelled'));
    const watchers = this.#watchers;
    this.#watchers = [];
    for (const w of watchers) {
      w.removeAllListeners();
      // Keep an error listener: a late stream error must not become an uncaught 'error' event.
      w.on('error', () => {});
      w.cancel().catch(() => {});
    }
  }

  // ---- probing and reconnect (SPEC D4) ----

  #scheduleProbe(): void {
    if (this.#isClosed() || this.#probeTimer) return;
    const delay = this.#state === 'remote' ? this.#o.remoteDBProbingInterval : this.#probeDelay;
    this.#probeTimer = setTimeout(() => {
      this.#probeTimer = null;
      void this.#probe().finally(() => this.#scheduleProbe());
    }, delay);
  }

  async #probe(): Promise<void> {
    if (this.#isClosed() || !this.#client) return;
    if (this.#state === 'remote') {
      const gen = this.#generation;
      try {
        await this.#client.get(`${this.#o.root}probe`).options(this.#deadline()).exec();
      } catch (err) {
        if (gen === this.#generation) this.#connectionLost(err);
      }
      return;
    }
    const ok = await this.#remoteResync();
    // Back off on failed remote resyncs: double the wait up to maxProbingInterval.
    this.#probeDelay = ok ? this.#o.remoteDBProbingInterval : Math.min(this.#probeDelay * 2, this.#o.maxProbingInterval);
  }

  #connectionLost(err: unknown): void {
    if (this.#isClosed() || this.#state !== 'remote') return;
    const error = new RemoteDbUnavailableError(err);
    this.#counts.connectionLosses++;
    this.#o.logger.warn({ err: error }, 'lost the remote DB; changes are ignored until it resyncs');
    this.#generation++;
    this.#dropWatchers();
    // A fresh client: no half-dead channel or stream state survives into the reconnect.
    this.#client?.close();
    this.#client = this.#newClient();
    this.#probeDelay = this.#o.remoteDBProbingInterval;
    this.#setState('disconnected');
    this.#report(this.#o.name, 'error', error);
    if (this.#probeTimer) {
      clearTimeout(this.#probeTimer);
      this.#probeTimer = null;
    }
    this.#scheduleProbe();
  }

  // ---- remote resync and watch (SPEC D1, D2, D5) ----

  #lastError: unknown = null;

  #remoteResync(): Promise<boolean> {
    if (this.#resyncing) return this.#resyncing;
    const run = this.#doRemoteResync().finally(() => {
      this.#resyncing = null;
    });
    this.#resyncing = run;
    return run;
  }

  async #doRemoteResync(): Promise<boolean> {
    const client = this.#client;
    if (!client || this.#isClosed()) return false;
    // Watchers of the previous snapshot stop here: everything after it comes from the new one.
    const gen = ++this.#generation;
    this.#dropWatchers();
    try {
      // One revision for every prefix: read the current revision, then range each prefix at it.
      const head = await client.get(`${this.#o.root}probe`).options(this.#deadline()).exec();
      const revision = Number(head.header.revision);
      const ranges = await Promise.all(this.#router.prefixes.map((p) => this.#rangeAll(client, p, revision)));
      if (gen !== this.#generation) return false;
      const event = this.#buildSnapshot(revision, ranges.flat());
      this.#pusher.push(event);
      this.#counts.remoteResyncs++;
      if (this.#localTimer) clearTimeout(this.#localTimer);
      this.#localTimer = null;
      await this.#watch(client, gen, revision);
      if (gen !== this.#generation) return false;
      this.#setState('remote');
      // Each invalid value of the snapshot was reported as an error already; it stands until fixed.
      if (this.#invalidKeys.size === 0) this.#report(this.#o.name, 'ok', null);
      this.#o.logger.info({ revision, event: event.toString() }, 'resynced from the remote DB');
      return true;
    } catch (err) {
      this.#lastError = err;
      if (gen === this.#generation) {
        this.#dropWatchers();
        this.#counts.failedResyncs++;
        this.#o.logger.warn({ err }, 'remote DB resync failed');
        if (this.#state === 'remote') this.#connectionLost(err);
        else if (this.#state !== 'closed' && this.#state !== 'local') this.#setState(this.#started && this.#counts.remoteResyncs > 0 ? 'disconnected' : 'connecting');
      }
      return false;
    }
  }

  /**
   * Every key under `prefix` at `revision`, read in pages: one response for a whole resource could
   * exceed what gRPC receives in one message. A page refused as too large is read again at half the
   * size (a single value always fits: etcd stores none over its request limit).
   */
  async #rangeAll(client: Etcd3, prefix: string, revision: number): Promise<IKeyValue[]> {
    const out: IKeyValue[] = [];
    const end = Range.prefix(prefix).end;
    let start = Buffer.from(prefix);
    let page = SNAPSHOT_PAGE_KEYS;
    for (;;) {
      let res: IRangeResponse;
      try {
        res = await client.getAll().inRange(new Range(start, end)).revision(revision).limit(page).options(this.#deadline()).exec();
      } catch (err) {
        if (err instanceof GRPCResourceExhastedError && page > 1) {
          page = Math.max(1, page >> 1);
          continue;
        }
        throw err;
      }
      for (const kv of res.kvs) out.push(kv);
      const last = res.kvs.at(-1);
      if (!res.more || last === undefined) return out;
      // The next page starts right after the last key read (keys are ordered bytes).
      start = Buffer.concat([last.key, ZERO_BYTE]);
    }
  }

  #buildSnapshot(revision: number, kvs: readonly IKeyValue[]): DBResync {
    this.#invalidKeys.clear();
    const kubeState = newKubeStateData(this.#o.resources);
    const externalConfig: KeyValuePairs = new Map();
    const revisions = new Map<string, number>();
    const kubeValues = new Map<string, Value>();
    const mirrored = new Map<string, Value>();
    for (const kv of kvs) {
      const etcdKey = kv.key.toString();
      const route = this.#router.route(etcdKey);
      if (!route) continue;
      revisions.set(etcdKey, Number(kv.mod_revision));
      const value = this.#parse(etcdKey, kv.value);
      if (value === null) continue;
      mirrored.set(etcdKey, value);
      if (route.kind === 'kube') {
        kubeState.get(route.resource)?.set(route.key, value);
        kubeValues.set(etcdKey, value);
      } else {
        externalConfig.set(route.key, value);
      }
    }
    this.#revisions.reset(revision, revisions);
    this.#kubeValues = kubeValues;
    this.#mirror?.replaceAll(mirrored, revisions, revision);
    return new DBResync({ local: false, kubeState, externalConfig });
  }

  #parse(etcdKey: string, bytes: Uint8Array): Value | null {
    try {
      const value = parseDbValue(etcdKey, bytes);
      this.#validAgain(etcdKey);
      return value;
    } catch (err) {
      this.#invalidKeys.add(etcdKey);
      this.#counts.invalidValues++;
      this.#o.logger.warn({ err, key: etcdKey }, 'skipped an invalid value');
      this.#report(this.#o.name, 'error', err as Error);
      return null;
    }
  }

  /** A key that held an invalid value got a valid one or went: the last such key clears the error. */
  #validAgain(etcdKey: string): void {
    if (this.#invalidKeys.delete(etcdKey) && this.#invalidKeys.size === 0 && this.#state === 'remote') this.#report(this.#o.name, 'ok', null);
  }

  async #watch(client: Etcd3, gen: number, revision: number): Promise<void> {
    const start = String(revision + 1);
    // Made and tracked at once, so that close() or a lost connection cancels them even while they
    // connect (a watcher left connecting on a closed client retries for ever).
    const watchers = this.#router.prefixes.map((prefix) => {
      const w = client.watch().prefix(prefix).startRevision(start).watcher();
      // Listening from the start: changes can follow the stream's creation in the same read.
      w.on('data', (res: IWatchResponse) => this.#onWatchData(gen, res));
      w.on('disconnected', (err: Error) => {
        if (gen === this.#generation) this.#connectionLost(err);
      });
      w.on('error', (err: Error) => {
        if (gen === this.#generation) this.#connectionLost(err);
      });
      return w;
    });
    this.#watchers.push(...watchers);
    try {
      await Promise.all(watchers.map((w) => connected(w, this.#o.requestTimeout, this.#connecting)));
    } catch (err) {
      // Listeners go before the cancel, so nothing of this half-made watch reaches the loop.
      if (gen === this.#generation) this.#dropWatchers();
      throw err;
    }
  }

  #onWatchData(gen: number, res: IWatchResponse): void {
    if (gen !== this.#generation || this.#isClosed()) return;
    let config: KeyValueChanges | null = null;
    let configRevision = -1;
    let lastRevision = 0;
    for (const ev of res.events) {
      const etcdKey = ev.kv.key.toString();
      const revision = Number(ev.kv.mod_revision);
      // SPEC D5: a change at or below what the snapshot (or an earlier event) already reflected.
      if (!this.#revisions.accept(etcdKey, revision)) {
        this.#counts.duplicatesSkipped++;
        continue;
      }
      lastRevision = revision;
      const route = this.#router.route(etcdKey);
      if (!route) continue;
      const isDelete = ev.type === 'Delete';
      let value: Value | null = null;
      if (!isDelete) {
        value = this.#parse(etcdKey, ev.kv.value);
        if (value === null) continue;
        this.#mirror?.put(etcdKey, value, revision);
      } else {
        this.#validAgain(etcdKey);
        this.#mirror?.delete(etcdKey, revision);
        this.#revisions.forget(etcdKey);
      }
      if (route.kind === 'config') {
        // Keys written by one etcd transaction share a revision: they travel as one change.
        if (config && configRevision !== revision) this.#pushConfig(config);
        if (!config || configRevision !== revision) config = new Map();
        configRevision = revision;
        config.set(route.key, value);
        continue;
      }
      if (config) {
        this.#pushConfig(config);
        config = null;
      }
      const prevValue = this.#kubeValues.get(etcdKey) ?? null;
      if (value === null) {
        // Deleting what the handlers never saw (absent or invalid) changes nothing for them.
        if (prevValue === null) continue;
        this.#kubeValues.delete(etcdKey);
      } else {
        this.#kubeValues.set(etcdKey, value);
      }
      this.#pusher.push(new KubeStateChange({ key: route.key, resource: route.resource, prevValue, newValue: value }));
      this.#counts.changesPushed++;
    }
    if (config) this.#pushConfig(config);
    if (lastRevision > 0) this.#o.logger.debug({ revision: lastRevision }, 'watch changes');
  }

  #pushConfig(changes: KeyValueChanges): void {
    this.#pusher.push(new ExternalConfigChange(DB_SOURCE, false, changes));
    this.#counts.changesPushed++;
  }

  // ---- local fallback (SPEC D3) ----

  #localResync(): void {
    this.#localTimer = null;
    if (this.#state !== 'connecting') return;
    const mirror = this.#mirror;
    if (!mirror) return;
    const kubeState = newKubeStateData(this.#o.resources);
    const externalConfig: KeyValuePairs = new Map();
    let found = 0;
    for (const { key, value } of mirror.entries()) {
      const route = this.#router.route(key);
      if (!route) continue;
      found++;
      if (route.kind === 'kube') kubeState.get(route.resource)?.set(route.key, value);
      else externalConfig.set(route.key, value);
    }
    // Empty, or holding only another root's or node label's keys (an earlier run's): an empty
    // DBResync from it would wipe the dataplane's configuration.
    if (found === 0) {
      this.#o.logger.info({}, 'remote DB not reachable and the local DB is empty (for this root and node label): waiting for the remote DB');
      return;
    }
    const event = new DBResync({ local: true, kubeState, externalConfig });
    this.#pusher.push(event);
    this.#counts.localResyncs++;
    this.#setState('local');
    this.#report(this.#o.name, 'error', new RemoteDbUnavailableError('resynced from the local DB'));
    this.#o.logger.warn({ revision: mirror.revision(), event: event.toString() }, 'resynced from the local DB');
  }
}

/**
 * Resolves when the watcher's stream is up. Rejects when it fails or drops first, or when it is not
 * up within `timeoutMs`: an etcd that stalls must not hold start(), resync() or close() for ever.
 */
function connected(w: Watcher, timeoutMs: number, pending: Set<(err: Error) => void>): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null): void => {
      pending.delete(done);
      clearTimeout(timer);
      w.off('connected', onConnected);
      w.off('error', done);
      w.off('disconnected', done);
      if (err === null) resolve();
      else reject(err);
    };
    const onConnected = (): void => done(null);
    const timer = setTimeout(() => done(new Error(`watch not established within ${timeoutMs} ms`)), timeoutMs);
    w.once('connected', onConnected);
    w.once('error', done);
    w.once('disconnected', done);
    pending.add(done);
  });
}
