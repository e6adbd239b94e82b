/**
 * The SDK: one object to define tasks, enqueue jobs, run workers and operate on jobs.
 *
 *   const overseer = await createOverseer({ database: "./data/app.db" });
 *   overseer.defineTask("send-email", async (payload, ctx) => { ... }, { maxAttempts: 5 });
 *   await overseer.enqueue("send-email", { to: "a@example.com" }, { priority: "high" });
 *   await overseer.worker({ concurrency: 10 }).start();
 *   await overseer.scheduler({ schedules: { nightly: { cron: "0 2 * * *", task: "cleanup" } } }).start();
 */
import type { ScheduleConfig } from "../config/config.js";
import { OverseerError } from "../core/errors.js";
import { buildNewJob, type EnqueueOptions, type NewJob, type TaskDefaults, validateName } from "../core/job-options.js";
import { type Logger, silentLogger } from "../core/logger.js";
import { defineTask, type TaskDefinition, type TaskHandler } from "../core/task.js";
import type {
  Attempt,
  Job,
  JobState,
  OverseerEvent,
  QueueRecord,
  ScheduleDefinition,
  ScheduleRecord,
  WorkerRecord,
} from "../core/types.js";
import { Scheduler, type SchedulerOptions } from "../engine/scheduler.js";
import { Worker, type WorkerOptions } from "../engine/worker.js";
import { type OpenStoreOptions, openStore } from "../store/open-store.js";
import type {
  CancelResult,
  EnqueueResult,
  EventQuery,
  JobFilter,
  PgTransactionHandle,
  SqliteTransactionHandle,
  Store,
  SyncSchedulesResult,
  TransactionHandle,
} from "../store/store.js";

export interface OverseerOptions extends OpenStoreOptions {
  /** A SQLite file path; `./data/overseer.db` if omitted. */
  database?: string;
  /** Use this store instead of opening one (tests, custom backends). */
  store?: Store;
  tasks?: readonly TaskDefinition[];
  logger?: Logger;
}

export interface EnqueueItem {
  task: string;
  payload?: unknown;
  options?: EnqueueOptions;
}

/** Optimistic concurrency for a write: the `version` the caller read. */
export interface VersionCheck {
  expectedVersion?: number;
}

export interface SchedulerSetup extends Omit<SchedulerOptions, "schedules" | "defaultsFor"> {
  /**
   * Schedules by name, as in a config file's `schedules` (validated the same way), or already
   * validated definitions (from `loadConfig`). Omit to fire only what the database already holds.
   */
  schedules?: Record<string, ScheduleConfig> | readonly ScheduleDefinition[];
}

export class Overseer {
  private readonly tasks = new Map<string, TaskDefinition>();
  private readonly workers = new Set<Worker>();
  private readonly schedulers = new Set<Scheduler>();
  private closed = false;

  constructor(
    readonly store: Store,
    readonly logger: Logger = silentLogger,
  ) {}

  /** Defines a task in this process and returns it. */
  defineTask<P = any, R = unknown>(
    name: string,
    handler: TaskHandler<P, R>,
    defaults?: TaskDefaults,
  ): TaskDefinition<P, R> {
    const task = defineTask(name, handler, defaults);
    this.register(task);
    return task;
  }

  register(...tasks: TaskDefinition[]): this {
    for (const t of tasks) {
      if (this.tasks.has(t.name) && this.tasks.get(t.name) !== t) {
        throw new OverseerError("INVALID_ARGUMENT", `task "${t.name}" is already defined`, { task: t.name });
      }
      this.tasks.set(t.name, t);
    }
    return this;
  }

  get taskNames(): string[] {
    return [...this.tasks.keys()];
  }

  /** Commits the job and returns it. With an idempotency key that is still held, returns the existing job. */
  async enqueue(task: string, payload?: unknown, options?: EnqueueOptions): Promise<Job> {
    return (await this.enqueueWithResult(task, payload, options)).job;
  }

  /** Like `enqueue`, and says whether a new job was created. */
  async enqueueWithResult(task: string, payload?: unknown, options?: EnqueueOptions): Promise<EnqueueResult> {
    return this.store.enqueue(this.newJob(task, payload, options));
  }

  /**
   * Enqueues inside your own database transaction, so the job exists if and only if it commits.
   * SQLite: pass your better-sqlite3 `Database` on the same file, inside `db.transaction(...)`;
   * this returns the job at once. PostgreSQL: pass the `pg` client on which you ran `BEGIN`
   * and await it; call it last before `COMMIT`, as it holds Overseer's event lock until then.
   * Same options and rules as `enqueue`; INVALID_ARGUMENT outside a transaction.
   */
  enqueueWithin(db: SqliteTransactionHandle, task: string, payload?: unknown, options?: EnqueueOptions): Job;
  enqueueWithin(client: PgTransactionHandle, task: string, payload?: unknown, options?: EnqueueOptions): Promise<Job>;
  enqueueWithin(
    handle: TransactionHandle,
    task: string,
    payload?: unknown,
    options?: EnqueueOptions,
  ): Job | Promise<Job> {
    // A client with query() is awaited: report its errors as a rejection, never a throw.
    const async = typeof (handle as Partial<PgTransactionHandle> | null)?.query === "function";
    try {
      if (!this.store.enqueueWithin) {
        throw new OverseerError("INVALID_ARGUMENT", "this store cannot enqueue within your transaction");
      }
      const result = this.store.enqueueWithin(handle, this.newJob(task, payload, options));
      return result instanceof Promise ? result.then((r) => r.job) : result.job;
    } catch (err) {
      if (async) return Promise.reject(err);
      throw err;
    }
  }

  /** Validates every item first, then commits all of them in one transaction (or none). */
  async enqueueMany(items: readonly EnqueueItem[]): Promise<Job[]> {
    return (await this.enqueueManyWithResults(items)).map((r) => r.job);
  }

  /** Like `enqueueMany`, and says for each item whether a new job was created. */
  async enqueueManyWithResults(items: readonly EnqueueItem[]): Promise<EnqueueResult[]> {
    if (!Array.isArray(items)) {
      throw new OverseerError("INVALID_ARGUMENT", "enqueueMany takes an array of { task, payload, options }");
    }
    const jobs = items.map((item, i) => {
      if (item === null || typeof item !== "object") {
        throw new OverseerError("INVALID_ARGUMENT", `item ${i} must be an object with a task`, { index: i });
      }
      try {
        return this.newJob(item.task, item.payload, item.options);
      } catch (err) {
        if (err instanceof OverseerError) {
          throw new OverseerError(err.code, `item ${i}: ${err.message}`, { ...err.details, index: i });
        }
        throw err;
      }
    });
    return this.store.enqueueMany(jobs);
  }

  /** A validated job, with the defaults of its task if this process defined it. */
  private newJob(task: string, payload: unknown, options: EnqueueOptions | undefined): NewJob {
    return buildNewJob(task, payload, options, this.tasks.get(task)?.defaults);
  }

  /** A worker for the tasks defined so far. Call `start()` on it; `stop()` drains it. */
  worker(options: WorkerOptions & { tasks?: readonly TaskDefinition[] } = {}): Worker {
    const tasks = options.tasks ?? [...this.tasks.values()];
    if (tasks.length === 0) {
      throw new OverseerError("TASK_NOT_FOUND", "a worker needs at least one task; define tasks first");
    }
    const worker = new Worker(this.store, tasks, options, this.logger);
    this.workers.add(worker);
    return worker;
  }

  /**
   * A scheduler: `start()` registers the schedules in the store (see `Store.syncSchedules`) and
   * fires their ticks; `stop()` stops it. Run one in as many processes as you like: each tick
   * enqueues exactly one job. `start()` rejects with INVALID_CONFIG for an invalid schedule.
   */
  scheduler(setup: SchedulerSetup = {}): Scheduler {
    const { schedules } = setup;
    const scheduler = new Scheduler(this.store, this.logger, {
      ...setup,
      schedules: schedules === undefined ? undefined : () => toDefinitions(schedules),
      defaultsFor: (task) => this.tasks.get(task)?.defaults,
    });
    this.schedulers.add(scheduler);
    return scheduler;
  }

  /** Registers schedules without running a scheduler (what `schedules` commands do with `--config`). */
  async syncSchedules(
    schedules: Record<string, ScheduleConfig> | readonly ScheduleDefinition[],
  ): Promise<SyncSchedulesResult> {
    return this.store.syncSchedules(await toDefinitions(schedules));
  }

  listSchedules(): Promise<ScheduleRecord[]> {
    return this.store.listSchedules();
  }

  enableSchedule(name: string): Promise<ScheduleRecord> {
    return this.store.setScheduleEnabled(name, true);
  }

  disableSchedule(name: string): Promise<ScheduleRecord> {
    return this.store.setScheduleEnabled(name, false);
  }

  /** Enqueues one job for the schedule now, outside its ticks (disabled schedules too). */
  async runSchedule(name: string): Promise<Job> {
    const s = (await this.store.listSchedules()).find((x) => x.name === name);
    if (!s) throw new OverseerError("SCHEDULE_NOT_FOUND", `no schedule named "${name}"`, { name });
    const options = {
      ...(s.queue === null ? {} : { queue: s.queue }),
      ...(s.priority === null ? {} : { priority: s.priority }),
    };
    return this.store.runScheduleNow(name, this.newJob(s.task, s.payload, options));
  }

  getJob(id: string): Promise<Job | null> {
    return this.store.getJob(id);
  }

  listJobs(filter?: JobFilter): Promise<Job[]> {
    return this.store.listJobs(filter);
  }

  listAttempts(jobId: string): Promise<Attempt[]> {
    return this.store.listAttempts(jobId);
  }

  countJobs(): Promise<Record<JobState, number>> {
    return this.store.countJobs();
  }

  /**
   * Cancels a waiting job at once; a running one is aborted through its handler's signal.
   * With `expectedVersion`, this and the other operating verbs below fail with VERSION_CONFLICT,
   * changing nothing, if the job (or queue) is no longer at that version.
   */
  async cancel(id: string, options: VersionCheck = {}): Promise<CancelResult> {
    const result = await this.store.cancelJob(id, options.expectedVersion);
    if (result.effect === "requested") for (const w of this.workers) w.abortJob(id, "cancelled");
    return result;
  }

  retry(id: string, options: VersionCheck = {}): Promise<Job> {
    return this.store.retryJob(id, options.expectedVersion);
  }

  retryDead(filter: { queue?: string; task?: string; limit?: number } = {}): Promise<number> {
    return this.store.retryDeadJobs(filter);
  }

  discard(id: string, options: VersionCheck = {}): Promise<void> {
    return this.store.discardJob(id, options.expectedVersion);
  }

  pauseQueue(name: string, options: VersionCheck = {}): Promise<QueueRecord> {
    return this.store.setQueuePaused(validateName(name, "queue"), true, options.expectedVersion);
  }

  resumeQueue(name: string, options: VersionCheck = {}): Promise<QueueRecord> {
    return this.store.setQueuePaused(validateName(name, "queue"), false, options.expectedVersion);
  }

  listQueues(): Promise<QueueRecord[]> {
    return this.store.listQueues();
  }

  listWorkers(): Promise<WorkerRecord[]> {
    return this.store.listWorkers();
  }

  readEvents(query?: EventQuery): Promise<OverseerEvent[]> {
    return this.store.readEvents(query);
  }

  /** Stops this process's workers gracefully, then closes the store. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.schedulers].map((s) => s.stop()));
    await Promise.all([...this.workers].map((w) => w.stop()));
    await this.store.close();
  }
}

export async function createOverseer(options: OverseerOptions = {}): Promise<Overseer> {
  const store = options.store ?? (await openStore(options.database, options));
  const overseer = new Overseer(store, options.logger);
  if (options.tasks) overseer.register(...options.tasks);
  return overseer;
}

/** Validates schedules written as config. The validator (zod) is loaded only when someone needs it. */
async function toDefinitions(
  schedules: Record<string, ScheduleConfig> | readonly ScheduleDefinition[],
): Promise<readonly ScheduleDefinition[]> {
  if (Array.isArray(schedules)) return schedules;
  const { parseSchedules } = await import("../config/config.js");
  return parseSchedules(schedules as Record<string, ScheduleConfig>);
}
