// How long to spin for the other thread (importable from any thread): learnt from recent waits.

/**
 * A smoothed estimate of how long the other side takes to answer (reply after a send, or the next
 * request after a reply), in the manner of TCP's round-trip estimator: mean + 2 × mean deviation
 * covers most waits without spinning much longer than they last.
 */
export class WaitEstimate {
  #mean = 0;
  #dev = 0;
  #samples = 0;
  /** Samples above this (µs) count as this much: one idle pause must not poison the estimate. */
  readonly #clampMicros: number;

  constructor(clampMicros: number) {
    this.#clampMicros = clampMicros;
  }

  /** Records one observed wait in µs. */
  add(micros: number): void {
    const g = micros < this.#clampMicros ? micros : this.#clampMicros;
    if (this.#samples === 0) {
      this.#mean = g;
      this.#dev = g / 2;
    } else {
      this.#dev += ((g > this.#mean ? g - this.#mean : this.#mean - g) - this.#dev) / 4;
      this.#mean += (g - this.#mean) / 8;
    }
    if (this.#samples < 1 << 30) this.#samples++;
  }

  get samples(): number {
    return this.#samples;
  }

  /** The spin that would cover a typical wait (µs); 0 before the first sample. */
  get cover(): number {
    return this.#mean + 2 * this.#dev;
  }
}
