/**
 * The execution switch as a worker reads it: from the store, at most once per `maxAgeMs` (one
 * small read a second however many jobs run), so that a switch made on any node reaches every
 * worker within that time. A change made through this process's SDK is seen at once.
 */
import { DEFAULT_EXECUTION, type ExecutionMode } from "../core/execution.js";
import type { Store } from "../store/store.js";

export const EXECUTION_MAX_AGE_MS = 1_000;

export class ExecutionReader {
  #mode: ExecutionMode;
  #readAt = Number.NEGATIVE_INFINITY;
  #reading: Promise<ExecutionMode> | null = null;
  /** Bumped by `remember`: a read begun before it must not overwrite what this process wrote. */
  #generation = 0;

  constructor(
    private readonly store: Pick<Store, "getExecution">,
    /** The mode while the switch was never set: the node's config's. */
    private readonly configured: ExecutionMode = DEFAULT_EXECUTION,
    private readonly maxAgeMs = EXECUTION_MAX_AGE_MS,
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.#mode = configured;
  }

  /** The mode if it was read less than `maxAgeMs` ago, else null (then `read`). */
  fresh(): ExecutionMode | null {
    return this.clock() - this.#readAt < this.maxAgeMs ? this.#mode : null;
  }

  /**
   * Reads the switch from the store (one read shared by every caller meanwhile). A read that
   * fails gives `dry-run`, remembered for no time: side effects wait until the switch is known.
   */
  read(): Promise<ExecutionMode> {
    const generation = this.#generation;
    this.#reading ??= this.store
      .getExecution()
      .then(
        (current) => {
          if (generation === this.#generation) this.remember(current?.mode ?? this.configured);
          return this.#mode;
        },
        (): ExecutionMode => "dry-run",
      )
      .finally(() => {
        this.#reading = null;
      });
    return this.#reading;
  }

  /** What this process just wrote. */
  remember(mode: ExecutionMode): void {
    this.#generation++;
    this.#mode = mode;
    this.#readAt = this.clock();
  }
}
