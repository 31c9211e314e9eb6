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

  /** True (and remembered) when the change is newer than everything seen for that key. */
  accept(key: string, revision: number): boolean {
    if (revision <= this.#snapshot || revision <= (this.#perKey.get(key) ?? 0)) return false;
    this.#perKey.set(key, revision);
    return true;
  }
}
