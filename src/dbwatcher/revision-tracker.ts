/**
 * SPEC D5: remembers the snapshot revision and, per etcd key, the revision of the last change
 * seen, so that a change already reflected (replayed by a watch or overlapping a snapshot) is
 * recognised and not pushed twice.
 */
export class RevisionTracker {
  #snapshot = 0;
  #perKey = new Map<string, number>();

  /** The revision of the last snapshot. */
  get snapshotRevision(): number {
    return this.#snapshot;
  }

  /** Starts over from a snapshot taken at `revision` with the given per-key mod revisions. */
  reset(revision: number, perKey: Map<string, number>): void {
    this.#snapshot = revision;
    this.#perKey = perKey;
  }

  /** Keys whose last revision is remembered. */
  get size(): number {
    return this.#perKey.size;
  }

  /**
   * Forgets a deleted key: a write after the delete has a higher revision anyway, and a watch never
   * replays what it delivered (a new watch follows a new snapshot). Without it every key ever
   * deleted (pod names carry random suffixes) would stay until the next snapshot.
   */
  forget(key: string): void {
    this.#perKey.delete(key);
  }

  /** True (and remembered) when the change is newer than everything seen for that key. */
  accept(key: string, revision: number): boolean {
    if (revision <= this.#snapshot || revision <= (this.#perKey.get(key) ?? 0)) return false;
    this.#perKey.set(key, revision);
    return true;
  }
}
