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

  #track(p: Promise<unknown>): void {
    this.#last = p.catch((err: unknown) => {
      this.writeErrors++;
      this.#logger.error({ err }, 'local DB mirror write failed');
    });
  }

  /** Replaces the whole mirror with a snapshot taken at `revision`, in one lmdb transaction. */
  replaceAll(entries: ReadonlyMap<string, Value>, revisions: ReadonlyMap<string, number>, revision: number): void {
    if (this.#closed) return;
    this.#track(
      this.#root.transaction(() => {
        this.#kv.clearSync();
        for (const [key, v] of entries) this.#kv.putSync(key, { v, r: revisions.get(key) ?? revision } satisfies StoredEntry);
        this.#meta.putSync(REVISION, revision);
      }),
    );
    this.#revision = revision;
  }

  put(key: string, value: Value, revision: number): void {
    if (this.#closed) return;
    this.#track(this.#kv.put(key, { v: value, r: revision } satisfies StoredEntry));
    this.#advance(revision);
  }

  delete(key: string, revision: number): void {
    if (this.#closed) return;
    this.#track(this.#kv.remove(key));
    this.#advance(revision);
  }

  #advance(revision: number): void {
    if (revision <= this.#revision) return;
    this.#revision = revision;
    this.#track(this.#meta.put(REVISION, revision));
  }

  /** The revision of the newest change mirrored; 0 when empty. */
  revision(): number {
    return this.#revision;
  }

  isEmpty(): boolean {
    return this.#kv.getCount() === 0;
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
    let last: Promise<unknown>;
    do {
      last = this.#last;
      await last;
    } while (last !== this.#last);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.flushed();
    await this.#root.close();
  }
}
