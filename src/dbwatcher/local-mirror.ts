import type { Value } from '../api/values.js';
import { LocalDbUnavailableError } from './errors.js';
import type { DbWatcherLogger } from './options.js';

/** The subset of lmdb the mirror uses (so a failed load can be reported, not crash the watcher). */
interface LmdbDatabase {
  put(key: string, value: unknown): Promise<boolean>;
  remove(key: string): Promise<boolean>;
  get(key: string): unknown;
  getRange(): Iterable<{ key: unknown; value: unknown }>;
  getCount(): number;
  clearSync(): void;
  putSync(key: string, value: unknown): void;
}
interface LmdbRoot {
  openDB(options: { name: string }): LmdbDatabase;
  transaction<T>(fn: () => T): Promise<T>;
  close(): Promise<void>;
}
export type LmdbModule = { open(options: { path: string; maxDbs?: number }): LmdbRoot };

/** One mirrored value: the parsed value and the etcd revision that wrote it. */
interface StoredEntry {
  readonly v: Value;
  readonly r: number;
}

const REVISION = 'revision';

/**
 * The local mirror of the remote DB (SPEC D2): etcd key -> { value, revision }, plus the revision
 * of the newest change mirrored. Writes are lmdb's async batched writes, in call order.
 */
export class LocalMirror {
  readonly #root: LmdbRoot;
  readonly #kv: LmdbDatabase;
  readonly #meta: LmdbDatabase;
  readonly #logger: DbWatcherLogger;
  #last: Promise<unknown> = Promise.resolve();
  /**
   * Set while a `replaceAll` transaction is queued or running: writes asked for meanwhile are issued
   * after it commits. lmdb applies async writes queued before a transaction's callback runs first,
   * and the callback's clear would then erase them.
   */
  #gate: Promise<unknown> | null = null;
  #closed = false;
  /** Highest revision mirrored: watchers of different prefixes may deliver out of revision order. */
  #revision: number;
  /** Writes that failed (reported to the logger); the next remote resync rewrites everything. */
  writeErrors = 0;

  private constructor(root: LmdbRoot, logger: DbWatcherLogger) {
    this.#root = root;
    this.#kv = root.openDB({ name: 'kv' });
    this.#meta = root.openDB({ name: 'meta' });
    this.#logger = logger;
    const r = this.#meta.get(REVISION);
    this.#revision = typeof r === 'number' ? r : 0;
  }

  /**
   * Opens the mirror at `path`; when lmdb cannot be loaded or opened, logs a warning and returns a
   * `LocalDbUnavailableError` instead (the watcher then runs without a mirror).
   */
  static async open(
    path: string,
    logger: DbWatcherLogger,
    load: () => Promise<LmdbModule> = async () => (await import('lmdb')) as unknown as LmdbModule,
  ): Promise<LocalMirror | LocalDbUnavailableError> {
    try {
      const lmdb = await load();
      return new LocalMirror(lmdb.open({ path, maxDbs: 4 }), logger);
    } catch (err) {
      const error = new LocalDbUnavailableError(err);
      logger.warn({ err: error, path }, 'local DB mirror disabled');
      return error;
    }
  }

  #failed(err: unknown): void {
    this.writeErrors++;
    this.#logger.error({ err }, 'local DB mirror write failed');
  }

  #track(p: Promise<unknown>): void {
    this.#last = p.catch((err: unknown) => this.#failed(err));
  }

  /** Issues one async write now, or after the pending `replaceAll` commits (in call order either way). */
  #write(issue: () => Promise<unknown>): void {
    const run = (): void => {
      try {
        this.#track(issue());
      } catch (err) {
        // lmdb throws synchronously for what it cannot store (a key over its size limit, a value its
        // encoder cannot walk): a counted write error, never an exception in the watcher's callback.
        this.#failed(err);
      }
    };
    if (this.#gate === null) {
      run();
      return;
    }
    this.#setGate(this.#gate.then(run));
  }

  #setGate(gate: Promise<unknown>): void {
    this.#gate = gate;
    void gate.then(() => {
      if (this.#gate === gate) this.#gate = null;
    });
  }

  /**
   * Replaces the whole mirror with a snapshot taken at `revision`, in one lmdb transaction. An entry
   * lmdb cannot store is skipped and counted (the rest of the snapshot is still written).
   */
  replaceAll(entries: ReadonlyMap<string, Value>, revisions: ReadonlyMap<string, number>, revision: number): void {
    if (this.#closed) return;
    let skipped = 0;
    let firstErr: unknown = null;
    const fill = (): void => {
      this.#kv.clearSync();
      for (const [key, v] of entries) {
        try {
          this.#kv.putSync(key, { v, r: revisions.get(key) ?? revision } satisfies StoredEntry);
        } catch (err) {
          skipped++;
          firstErr ??= err;
        }
      }
      this.#meta.putSync(REVISION, revision);
    };
    const committed = (this.#gate ?? Promise.resolve()).then(() => this.#root.transaction(fill));
    this.#track(
      committed.then(() => {
        if (skipped === 0) return;
        this.writeErrors += skipped;
        this.#logger.error({ err: firstErr, skipped }, `local DB mirror: ${skipped} entr${skipped === 1 ? 'y' : 'ies'} of the snapshot could not be stored`);
      }),
    );
    this.#setGate(committed.catch(() => undefined));
    this.#revision = revision;
  }

  put(key: string, value: Value, revision: number): void {
    if (this.#closed) return;
    this.#write(() => this.#kv.put(key, { v: value, r: revision } satisfies StoredEntry));
    this.#advance(revision);
  }

  delete(key: string, revision: number): void {
    if (this.#closed) return;
    this.#write(() => this.#kv.remove(key));
    this.#advance(revision);
  }

  #advance(revision: number): void {
    if (revision <= this.#revision) return;
    this.#revision = revision;
    this.#write(() => this.#meta.put(REVISION, revision));
  }

  /** The revision of the newest change mirrored; 0 when empty. */
  revision(): number {
    return this.#revision;
  }

  /** Every mirrored entry, in key order. */
  *entries(): IterableIterator<{ key: string; value: Value; revision: number }> {
    for (const { key, value } of this.#kv.getRange()) {
      const e = value as StoredEntry | undefined;
      if (typeof key === 'string' && e && typeof e === 'object' && typeof e.v === 'object' && e.v !== null) {
        yield { key, value: e.v, revision: typeof e.r === 'number' ? e.r : 0 };
      }
    }
  }

  /** Resolves when every write issued so far is on disk (or failed and was reported). */
  async flushed(): Promise<void> {
    for (;;) {
      const gate = this.#gate;
      const last = this.#last;
      await gate;
      await last;
      if (gate === this.#gate && last === this.#last) return;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.flushed();
    await this.#root.close();
  }
}
