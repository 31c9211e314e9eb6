/**
 * Fails in-flight operations when the scheduler closes. Unlike `Promise.race` with a long-lived
 * "closed" promise — which adds a reaction to that promise for every race and so keeps every
 * raced result (whole dumps) alive until close — a guard forgets an operation once it settles.
 */
export class CloseGuard {
  #error: Error | null = null;
  readonly #pending = new Set<(err: Error) => void>();

  get closed(): boolean {
    return this.#error !== null;
  }

  /** Operations guarded and not settled yet. */
  get inFlight(): number {
    return this.#pending.size;
  }

  /** Rejects every guarded operation still in flight, and every later one, with `err`. */
  close(err: Error): void {
    if (this.#error) return;
    this.#error = err;
    for (const reject of this.#pending) reject(err);
    this.#pending.clear();
  }

  /** `p`, or a rejection with the close error if the guard closes first. */
  guard<T>(p: Promise<T>): Promise<T> {
    if (this.#error) {
      p.catch(() => {}); // already closed: its own later failure (connector closed) is not unhandled
      return Promise.reject(this.#error);
    }
    return new Promise<T>((resolve, reject) => {
      this.#pending.add(reject);
      p.then(
        (v) => {
          this.#pending.delete(reject);
          resolve(v);
        },
        (err: unknown) => {
          this.#pending.delete(reject);
          reject(err);
        },
      );
    });
  }
}
