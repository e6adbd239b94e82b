/**
 * Which task names are known (see core/known-tasks.ts), answered from memory on the hot path.
 * A name once known stays known (the store never forgets one), so the names read are kept for the
 * life of the process and a known name costs no read; only a name not known yet re-reads the
 * store's small registry, once per check however many names are missing. Never writes.
 */
import type { TaskRecord } from "../core/known-tasks.js";
import type { Store } from "../store/store.js";

export class KnownTasks {
  private readonly registered = new Set<string>();
  /** Registry reads made so far: a test's proof that steady-state checks cost none. */
  reads = 0;

  constructor(
    private readonly store: Pick<Store, "listTasks">,
    /** Names this process has defined, which count as known. */
    private readonly defined: (name: string) => boolean,
  ) {}

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
