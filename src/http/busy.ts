/**
 * Busy guard: at most one control action (retry, cancel, discard, run control, an approval
 * decision) is applied to the same job, run or approval by this server at a time. A second one
 * that arrives while the first is still being applied is refused with 429 BUSY and
 * `Retry-After`, changing nothing, instead of being queued behind it: it was decided on what the
 * caller saw before the first landed, so the caller should look again before acting.
 *
 * In-process only. Across servers the store's transactions and record versions keep writes from
 * interleaving (a write based on an old version gets 409); this guard turns the common case of
 * a double click or two people clicking at once on one node into a clear answer.
 */
import { BUSY_RETRY_AFTER_SECONDS, OverseerError } from "../core/errors.js";

/** What a guarded action holds: `job:<id>`, `run:<id>`, `approval:<id>`, `alert:<id>`. */
export type BusyKey = `${"job" | "run" | "approval" | "alert"}:${string}`;

export class BusyGuard {
  /** Key → when it was taken (epoch ms), for the refusal's message. */
  private readonly held = new Map<BusyKey, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * Runs `action` holding every key, all or none: BUSY (429, `details.retryAfter` in seconds)
   * if any of them is held now. The keys are released when `action` settles, however it ends.
   */
  async run<T>(keys: readonly BusyKey[], action: () => Promise<T>): Promise<T> {
    const taken = keys.find((k) => this.held.has(k));
    if (taken !== undefined) throw busyError(taken, this.now() - (this.held.get(taken) ?? this.now()));
    const at = this.now();
    const mine = [...new Set(keys)];
    for (const k of mine) this.held.set(k, at);
    try {
      return await action();
    } finally {
      for (const k of mine) this.held.delete(k);
    }
  }

  /** Whether a key is held now (for tests and metrics). */
  isHeld(key: BusyKey): boolean {
    return this.held.has(key);
  }

  get size(): number {
    return this.held.size;
  }
}

function busyError(key: BusyKey, heldForMs: number): OverseerError {
  const [kind, ...rest] = key.split(":");
  const id = rest.join(":");
  return new OverseerError(
    "BUSY",
    `another action on ${kind} ${id} is being applied right now (for ${Math.max(0, heldForMs)} ms); ` +
      `read it again and retry after ${BUSY_RETRY_AFTER_SECONDS} s if it still applies`,
    { [kind as string]: id, retryAfter: BUSY_RETRY_AFTER_SECONDS },
  );
}
