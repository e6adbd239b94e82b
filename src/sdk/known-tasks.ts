/**
 * Which task names are known (see core/known-tasks.ts), answered from memory on the hot path.
 * A name once known stays known (the store never forgets one), so the names read are kept for the
 * life of the process and a known name costs no read; only a name not known yet re-reads the
 * store's small registry, once per check however many names are missing. Never writes.
 *
 * Also the defaults of tasks this process does not define, as their workers registered them, so
 * that a job enqueued here (an API server's, the CLI's) gets its task's queue, attempts and
 * backoff: read at most every DEFAULTS_REFRESH_MS, and only when such a task is enqueued.
 */
import type { TaskDefaults } from "../core/job-options.js";
import type { TaskRecord } from "../core/known-tasks.js";
import type { Store } from "../store/store.js";

/** How stale the registered defaults may be: a worker's changed defaults reach other processes' enqueues within this. */
export const DEFAULTS_REFRESH_MS = 10_000;

export class KnownTasks {
  private readonly registered = new Set<string>();
  private registeredDefaults = new Map<string, TaskDefaults>();
  /** When the defaults were read, on the monotonic clock; never yet at first. */
  private defaultsReadAt = Number.NEGATIVE_INFINITY;
  /** Registry reads made so far: a test's proof that steady-state checks cost none. */
  reads = 0;
  /** Reads of the registered defaults made so far. */
  defaultsReads = 0;

  constructor(
    private readonly store: Pick<Store, "listTasks" | "taskDefaults">,
    /** Names this process has defined, which count as known. */
    private readonly defined: (name: string) => boolean,
    private readonly monotonicNow: () => number = () => performance.now(),
  ) {}

  /** The defaults the task's workers registered (the latest registration's), read again when stale. */
  async registeredDefaultsOf(task: string): Promise<TaskDefaults | undefined> {
    if (this.monotonicNow() - this.defaultsReadAt >= DEFAULTS_REFRESH_MS) {
      this.defaultsReads++;
      this.registeredDefaults = await this.store.taskDefaults();
      this.defaultsReadAt = this.monotonicNow();
    }
    return this.registeredDefaults.get(task);
  }

  /** The registered defaults as last read, without reading: for callers that cannot wait. */
  cachedDefaultsOf(task: string): TaskDefaults | undefined {
    return this.registeredDefaults.get(task);
  }

  /** Those of `names` that are not known, each once; reads the registry only if some name is not known yet. */
  async unknown(names: Iterable<string>): Promise<string[]> {
    const wanted = [...new Set(names)];
    const missing = () => wanted.filter((n) => !this.defined(n) && !this.registered.has(n));
    if (missing().length === 0) return [];
    await this.list();
    return missing();
  }

  /** Every task a worker has registered, from the store now; refreshes the cache on the way. */
  async list(): Promise<TaskRecord[]> {
    this.reads++;
    const tasks = await this.store.listTasks();
    for (const t of tasks) this.registered.add(t.name);
    return tasks;
  }

  /** The names known as of the last read, and those defined here: what a warning lists. */
  names(definedHere: Iterable<string>): string[] {
    return [...new Set([...this.registered, ...definedHere])];
  }
}
