// How long to spin for the other thread (importable from any thread): learnt from recent waits.

/** Waits remembered; a power of two. */
const WINDOW = 32;
/** Spin outcomes remembered. */
const SPINS = 8;
const SPIN_MASK = (1 << SPINS) - 1;
/** While recent waits do not fit the budget, spin on one chance in this many (to re-learn them). */
const PROBE_EVERY = 16;

function popcount(bits: number): number {
  let n = 0;
  for (let b = bits; b !== 0; b &= b - 1) n++;
  return n;
}

/**
 * The last WINDOW observed waits (a reply after a send, or the next request after a reply), in
 * µs, and the spin that would have covered most of them. Waits are bimodal (within a commit the
 * next wave follows quickly, between events the producer does more work), so the spin covers
 * the longest wait that fits the cap, provided most waits fit: a mean would cut the spin short of
 * the longer mode and wake the other side every time.
 */
export class RecentWaits {
  readonly #waits = new Float64Array(WINDOW);
  #count = 0;
  #next = 0;
  /** Outcomes of the last SPINS spins, one bit each (1 = missed), newest in bit 0. */
  #missBits = 0;
  #spins = 0;
  /** Chances to spin since the last spin, so a skipped spin is re-tried now and then. */
  #sinceSpin = 0;

  /** Records one observed wait in µs. */
  add(micros: number): void {
    this.#waits[this.#next] = micros;
    this.#next = (this.#next + 1) & (WINDOW - 1);
    if (this.#count < WINDOW) this.#count++;
  }

  get samples(): number {
    return this.#count;
  }

  /**
   * Records whether a spin found what it waited for. Misses matter beyond the waits themselves: on
   * a machine with more runnable threads than cores the spinning thread can hold the very core the
   * other side needs, so waits stretch to the spin's length and the spin keeps missing.
   */
  spun(hit: boolean): void {
    this.#missBits = ((this.#missBits << 1) | (hit ? 0 : 1)) & SPIN_MASK;
    if (this.#spins < SPINS) this.#spins++;
  }

  /**
   * The spin (µs, ≤ capMicros) that covers the recent waits that fit in capMicros, with a margin;
   * 0 when fewer than half of them fit or most recent spins missed (spinning would mostly be
   * wasted), or nothing was seen yet.
   */
  cover(capMicros: number, marginMicros: number): number {
    if (this.#spins >= 4 && 2 * popcount(this.#missBits) > this.#spins) return 0;
    let fit = 0;
    let longest = 0;
    for (let i = 0; i < this.#count; i++) {
      const w = this.#waits[i] as number;
      if (w > capMicros) continue;
      fit++;
      if (w > longest) longest = w;
    }
    if (fit === 0 || fit * 2 < this.#count) return 0;
    const c = longest * 1.125 + marginMicros;
    return c < capMicros ? c : capMicros;
  }

  /**
   * The spin (µs) to do at this chance: the cap until enough waits were seen, then `cover`; when
   * cover says none, 0 except on one chance in PROBE_EVERY, which spins the whole cap to re-learn.
   */
  budget(capMicros: number, marginMicros: number): number {
    let budget = capMicros;
    if (this.#count >= 4) {
      const cover = this.cover(capMicros, marginMicros);
      if (cover === 0) {
        if (++this.#sinceSpin < PROBE_EVERY) return 0;
      } else {
        budget = cover;
      }
    }
    this.#sinceSpin = 0;
    return budget;
  }
}
