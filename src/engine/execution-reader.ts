/**
 * The execution switch as a worker reads it. A job's start never waits for it: `current` gives
 * the mode last read and, if that is older than `maxAgeMs`, starts a read in the background (a
 * wait there cost a PostgreSQL drain about 9% of its rate). A worker reads it before its first
 * job and at every maintenance pass (each second by default), so a switch made on any node
 * reaches every worker within about a second, idle or busy; a change made through this
 * process's SDK is seen at once. The built-in command task reads it again just before it runs a
 * command.
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

  /** The mode last read, at once; a stale one is read again in the background for the next caller. */
  current(): ExecutionMode {
    if (this.clock() - this.#readAt >= this.maxAgeMs) void this.read();
    return this.#mode;
  }

  /**
   * Reads the switch from the store (one read shared by every caller meanwhile). A read that
   * fails leaves `dry-run` in force until one succeeds: side effects wait until the switch is known.
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
        (): ExecutionMode => {
          if (generation === this.#generation) this.#mode = "dry-run";
          return "dry-run";
        },
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
