// A small in-memory rate limiter with fixed windows aligned to the epoch (like Overseer's rate
// limits): at most `limit` takes per key per window. It holds only the current window's keys (a
// new window forgets the old one at once), and at most `maxKeys` of them: past that, a key it
// does not know yet is refused until the window ends, so a flood of addresses costs memory it
// bounds rather than SMS. One per process: several nodes each allow `limit`.

export class FixedWindowLimiter {
  #limit;
  #windowMs;
  #maxKeys;
  /** The window the counts are for (its start over `windowMs`). */
  #window = Number.NEGATIVE_INFINITY;
  /** @type {Map<string, number>} key → takes in the current window */
  #counts = new Map();

  /**
   * @param {{ limit: number, windowMs: number, maxKeys?: number }} options
   */
  constructor({ limit, windowMs, maxKeys = 100_000 }) {
    this.#limit = limit;
    this.#windowMs = windowMs;
    this.#maxKeys = maxKeys;
  }

  /**
   * Takes one of `key`'s places in the window `now` falls in, if one is left; otherwise says how
   * long until the next window.
   * @param {string} key
   * @param {number} now epoch ms, on the app's clock
   * @returns {{ allowed: true } | { allowed: false, retryAfterMs: number }}
   */
  take(key, now) {
    const window = Math.floor(now / this.#windowMs);
    if (window !== this.#window) {
      this.#window = window;
      this.#counts.clear();
    }
    const count = this.#counts.get(key);
    const full = count === undefined ? this.#counts.size >= this.#maxKeys : count >= this.#limit;
    if (full) return { allowed: false, retryAfterMs: (window + 1) * this.#windowMs - now };
    this.#counts.set(key, (count ?? 0) + 1);
    return { allowed: true };
  }
}
