/**
 * The SDK: one object to define tasks, enqueue jobs, run workers and operate on jobs.
 *
 *   const overseer = await createOverseer({ database: "./data/app.db" });
 *   overseer.defineTask("send-email", async (payload, ctx) => { ... }, { maxAttempts: 5 });
 *   await overseer.enqueue("send-email", { to: "a@example.com" }, { priority: "high" });
 *   await overseer.worker({ concurrency: 10 }).start();
 *   await overseer.scheduler({ schedules: { nightly: { cron: "0 2 * * *", task: "cleanup" } } }).start();
 */

import { AlertDelivery } from "../alerts/delivery.js";
import { AlertSources } from "../alerts/sources.js";
import { authenticate, type CreatedToken, createToken } from "../auth/tokens.js";
import type { AlertsConfig } from "../config/alerts.js";
import type { ApprovalsConfig } from "../config/approvals.js";
import { resolveAlertChannels } from "../config/channel-secrets.js";
import type { CommandsConfig } from "../config/commands.js";
import type { ScheduleConfig } from "../config/config.js";
import { DEFAULT_APPROVALS, EMPTY_ALERTS } from "../config/defaults.js";
import type { RunBudgetRequest, RunsConfig } from "../config/run-profiles.js";
import type { Alert, AlertNotification, EscalationPolicy } from "../core/alert.js";
import {
  type Approval,
  type ApprovalDetail,
  type Decider,
  type DecisionChannel,
  identitiesOf,
  undefinedGroup,
  undefinedGroupMessage,
} from "../core/approval.js";
import { type Claim, type ClaimHolder, parseClaimTtl, type TakeClaimResult } from "../core/claim.js";
import type { SignalRecord } from "../core/durable.js";
import type { Duration } from "../core/duration.js";
import { jobNotFound, OverseerError, runNotFound } from "../core/errors.js";
import {
  DEFAULT_EXECUTION,
  type ExecutionChange,
  type ExecutionMode,
  type ExecutionState,
  executionState,
} from "../core/execution.js";
import {
  checkGateRequest,
  DEFAULT_GATE_POLICY,
  type GateDecision,
  type GatePolicy,
  type GateRequest,
  shouldGate,
} from "../core/gate-policy.js";
import type { Heartbeat, HeartbeatDefinition } from "../core/heartbeat.js";
import { newId } from "../core/ids.js";
import {
  buildNewJob,
  describe,
  type EnqueueOptions,
  serializePayload,
  type TaskDefaults,
  validateName,
} from "../core/job-options.js";
import { type EnqueueWarning, taskNotRegistered } from "../core/known-tasks.js";
import { type Logger, silentLogger } from "../core/logger.js";
import {
  type OncallOverride,
  type OverrideRequest,
  overrideFrom,
  type RotationStatus,
  rotationStatus,
} from "../core/oncall.js";
import { resolveRetryPolicy } from "../core/retry-policy.js";
import { previewRetry, type RetryPreview } from "../core/retry-preview.js";
import {
  MAX_RUN_MESSAGE_CHARS,
  type NewRun,
  type Run,
  type RunFilter,
  type RunMessage,
  type RunTurn,
} from "../core/run.js";
import { firstTurnRequest } from "../core/run-ask.js";
import { isFinishedRunState, RUN_CONTROL_ACTIONS, type RunControlAction, type RunState } from "../core/run-state.js";
import type { StepKind } from "../core/step-kinds.js";
import { type StepView, stepTimeline } from "../core/step-timeline.js";
import { defineTask, type TaskDefinition, type TaskHandler } from "../core/task.js";
import type {
  Attempt,
  Job,
  JobState,
  OverseerEvent,
  QueueRecord,
  ScheduleDefinition,
  ScheduleRecord,
  TokenRecord,
  TokenScope,
  WorkerCommand,
  WorkerJob,
  WorkerRecord,
} from "../core/types.js";
import { ExecutionReader } from "../engine/execution-reader.js";
import { Lessons, type LessonsOptions } from "../engine/lessons.js";
import { pruneWithArchive } from "../engine/retention.js";
import { RunSupervisor, type RunSupervisorOptions } from "../engine/runs/run-supervisor.js";
import { Scheduler, type SchedulerOptions, scheduledJobOptions } from "../engine/scheduler.js";
import { traceEnqueue } from "../engine/tracing.js";
import { Worker, type WorkerOptions } from "../engine/worker.js";
import { type OpenStoreOptions, openStore } from "../store/open-store.js";
import type {
  AlertEscalation,
  AlertFilter,
  ApprovalFilter,
  CancelResult,
  ClaimHistoryQuery,
  ConcurrencyKeyFilter,
  ConcurrencyKeyUsage,
  ConcurrencyTotals,
  DeadJobSummary,
  EnqueueResult,
  EventQuery,
  FinishedTimes,
  JobFilter,
  JobRollupQuery,
  JobRollupRead,
  NewEvent,
  PausedQueue,
  PgTransactionHandle,
  PingHeartbeatResult,
  PruneResult,
  RaiseAlertResult,
  RetentionPolicy,
  RollUpResult,
  ScheduleRun,
  SqliteTransactionHandle,
  Store,
  SyncHeartbeatsResult,
  SyncSchedulesResult,
  TransactionHandle,
} from "../store/store.js";
import { approvalTask, commandTask } from "./command-task.js";
import { KnownTasks } from "./known-tasks.js";
import { type RequeueDeadInput, type RequeueDeadResult, requeueDead, requeueDeadTask } from "./requeue-dead.js";

/** Events read per page when a job's step timeline is built. */
const STEP_EVENTS_PAGE = 1_000;

export interface OverseerOptions extends OpenStoreOptions {
  /** A SQLite file path; `./data/overseer.db` if omitted. */
  database?: string;
  /** Use this store instead of opening one (tests, custom backends). */
  store?: Store;
  tasks?: readonly TaskDefinition[];
  logger?: Logger;
  /** Run profiles and supervisor settings (a config file's `runs`, from `loadConfig`). */
  runs?: RunsConfig;
  /** The gate policy (a config file's `gates`, from `loadConfig`); the built-in default if omitted. */
  gates?: GatePolicy;
  /** Approval groups and the default timeout (a config file's `approvals`); none if omitted. */
  approvals?: ApprovalsConfig;
  /** Channels, escalation policies, heartbeats and alert rules (a config file's `alerts`); none if omitted. */
  alerts?: AlertsConfig;
  /** An optional embedder to rank similar lessons by (see docs/lessons.md); full-text search without one. */
  lessons?: LessonsOptions;
  /** The mode this node follows until an admin sets the execution switch (a config file's `execution`); default dry-run. */
  execution?: ExecutionMode;
  /** The built-in `overseer.command` task's settings (a config file's `commands`); the task is off without them. */
  commands?: CommandsConfig | null;
}

/** What to run: a profile from the config with its params, or (if allowed) a command of its own. */
export type StartRunRequest =
  | {
      profile: string;
      params?: Record<string, unknown>;
      /** Lowers the profile's budget for this run: its limits, never above the profile's. */
      budget?: RunBudgetRequest;
    }
  | ({ profile?: undefined; command: string } & Record<string, unknown>);

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

/** What enqueue returns: the store's result, and anything worth telling the caller. */
export interface EnqueueOutcome extends EnqueueResult {
  warnings: EnqueueWarning[];
}

export class Overseer {
  private readonly tasks = new Map<string, TaskDefinition>();
  private readonly workers = new Set<Worker>();
  private readonly schedulers = new Set<Scheduler>();
  private readonly supervisors = new Set<RunSupervisor>();
  private closed = false;
  /** Task names known to this database or defined here: enqueue warns about the rest. */
  readonly knownTasks: KnownTasks;
  private delivery: AlertDelivery | null = null;
  /** The switch as this process's workers read it: changes made here are seen at once. */
  private readonly executionReader: ExecutionReader;
  private sources: AlertSources | null = null;

  constructor(
    readonly store: Store,
    readonly logger: Logger = silentLogger,
    /** What `startRun` may start; none until a config's `runs` is given. */
    readonly runs: RunsConfig | null = null,
    /** When risky work needs a person: see `checkGate` and docs/policies.md. */
    readonly gates: GatePolicy = DEFAULT_GATE_POLICY,
    /** Who belongs to which approval group, and the default request timeout: see docs/approvals.md. */
    readonly approvals: ApprovalsConfig = DEFAULT_APPROVALS,
    /** Channels, escalation policies, heartbeats and alert rules: see docs/alerts.md. */
    readonly alerts: AlertsConfig = EMPTY_ALERTS,
    /** What finished sessions taught, and the search for similar ones: see docs/lessons.md. */
    readonly lessons: Lessons = new Lessons(store, {}, logger),
    /** The execution mode until an admin sets the switch, and the built-in command task: see docs/execution.md. */
    readonly settings: { execution: ExecutionMode; commands: CommandsConfig | null } = {
      execution: DEFAULT_EXECUTION,
      commands: null,
    },
  ) {
    this.knownTasks = new KnownTasks(store, (name) => this.tasks.has(name));
    this.executionReader = new ExecutionReader(store, settings.execution);
  }

  /** The execution switch as it applies to this node (see core/execution.ts). */
  async execution(): Promise<ExecutionState> {
    const state = executionState(await this.store.getExecution(), this.settings.execution);
    this.executionReader.remember(state.mode);
    return state;
  }

  /**
   * Sets the execution switch, audited as `execution.changed` (from, to, by, reason). Who may:
   * the caller decides (the HTTP API lets only an admin turn it on). VERSION_CONFLICT when
   * `expectedVersion` is given and the switch moved since.
   */
  async setExecution(change: ExecutionChange): Promise<ExecutionState> {
    const stored = await this.store.setExecution(change, this.settings.execution);
    this.executionReader.remember(stored.mode);
    return executionState(stored, this.settings.execution);
  }

  /** Group name → members, from the config's `approvals.groups`. */
  get approvalGroups(): Record<string, string[]> {
    return this.approvals.groups;
  }

  /**
   * What the gate policy says for this action: `auto`, `notify` or `approve`, and the rule that
   * said it. INVALID_ARGUMENT for an undeclared environment or a confidence outside 0-1.
   */
  checkGate(request: GateRequest): GateDecision {
    checkGateRequest(this.gates, request);
    return shouldGate(this.gates, request);
  }

  /**
   * What the retry policy says about a job now: the decision for its last failure and what a
   * manual retry would do. Uses the task's retry policy if this process defines the task, else
   * the default one (and says which). JOB_NOT_FOUND if there is no such job.
   */
  async retryPreview(id: string): Promise<RetryPreview> {
    const job = await this.store.getJob(id);
    if (!job) throw jobNotFound(id);
    const task = this.tasks.get(job.task);
    return previewRetry(job, resolveRetryPolicy(job, task?.defaults.retry), task ? "task" : "default");
  }

  /**
   * A durable job's steps as a timeline: name, status, attempt, timing and result size (see
   * core/step-timeline.ts), from its step events and stored steps. JOB_NOT_FOUND if there is no such job.
   */
  async jobSteps(id: string): Promise<StepView[]> {
    const job = await this.store.getJob(id);
    if (!job) throw jobNotFound(id);
    const events: OverseerEvent[] = [];
    for (let afterSeq = 0; ; ) {
      const page = await this.store.readEvents({ jobId: id, kindPrefix: "step.", afterSeq, limit: STEP_EVENTS_PAGE });
      events.push(...page);
      if (page.length < STEP_EVENTS_PAGE) break;
      afterSeq = page[page.length - 1]?.seq ?? afterSeq;
    }
    const context = { jobState: job.state, jobAttempts: job.attempts, now: Date.now() };
    return stepTimeline(events, await this.store.listJobSteps(id), context);
  }

  /** One stored step's result. JOB_NOT_FOUND, or STEP_NOT_FOUND while the step has stored none. */
  async jobStepResult(id: string, name: string): Promise<{ name: string; kind: StepKind; result: unknown }> {
    const job = await this.store.getJob(id);
    if (!job) throw jobNotFound(id);
    const record = (await this.store.listJobSteps(id)).find((s) => s.name === name);
    if (!record) {
      throw new OverseerError("STEP_NOT_FOUND", `job ${id} has no stored result for step ${JSON.stringify(name)}`, {
        jobId: id,
        step: name,
      });
    }
    return { name, kind: record.kind, result: JSON.parse(record.resultJson) as unknown };
  }

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

  /**
   * Like `enqueue`, and says whether a new job was created, and warns (TASK_NOT_REGISTERED) when
   * no worker has ever registered the task on this database and this process has not defined it:
   * the job waits until such a worker starts. The job is then marked `taskRegistered: false`.
   */
  async enqueueWithResult(task: string, payload?: unknown, options?: EnqueueOptions): Promise<EnqueueOutcome> {
    const job = buildNewJob(task, payload, options, await this.defaultsFor(task));
    const [result] = await this.warned([await traceEnqueue([job], () => this.store.enqueue(job))]);
    return result as EnqueueOutcome;
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
      // Synchronous on SQLite: a task defined elsewhere gets its registered defaults as last read.
      const defaults = this.tasks.get(task)?.defaults ?? this.knownTasks.cachedDefaultsOf(task);
      const job = buildNewJob(task, payload, options, defaults);
      const within = this.store.enqueueWithin.bind(this.store);
      const result = traceEnqueue([job], () => within(handle, job));
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

  /** Like `enqueueMany`, and says for each item whether a new job was created, with warnings as `enqueueWithResult`. */
  async enqueueManyWithResults(items: readonly EnqueueItem[]): Promise<EnqueueOutcome[]> {
    if (!Array.isArray(items)) {
      throw new OverseerError("INVALID_ARGUMENT", "enqueueMany takes an array of { task, payload, options }");
    }
    const defaults = new Map<string, TaskDefaults | undefined>();
    for (const item of items) {
      const task = (item as EnqueueItem | null)?.task;
      if (typeof task === "string" && !defaults.has(task)) defaults.set(task, await this.defaultsFor(task));
    }
    const jobs = items.map((item, i) => {
      if (item === null || typeof item !== "object") {
        throw new OverseerError("INVALID_ARGUMENT", `item ${i} must be an object with a task`, { index: i });
      }
      try {
        return buildNewJob(item.task, item.payload, item.options, defaults.get(item.task));
      } catch (err) {
        if (err instanceof OverseerError) {
          throw new OverseerError(err.code, `item ${i}: ${err.message}`, { ...err.details, index: i });
        }
        throw err;
      }
    });
    return this.warned(await traceEnqueue(jobs, () => this.store.enqueueMany(jobs)));
  }

  /**
   * Which of these tasks no worker has ever registered on this database (and this process has
   * not defined). Answered from memory for known names; reads the store only for the others.
   */
  unregisteredTasks(tasks: Iterable<string>): Promise<string[]> {
    return this.knownTasks.unknown(tasks);
  }

  /**
   * The results with a warning, and the job marked, where the task is not known. The jobs are
   * committed already, so this is advice only: if the registry cannot be read, the caller still
   * gets its jobs, without warnings, and the failure is logged.
   */
  private async warned(results: readonly EnqueueResult[]): Promise<EnqueueOutcome[]> {
    let unknown: Set<string>;
    try {
      unknown = new Set(await this.unregisteredTasks(results.map((r) => r.job.task)));
    } catch (err) {
      this.logger.warn({ err }, "reading the task registry failed; the jobs are enqueued, unchecked");
      return results.map((r) => ({ ...r, warnings: [] }));
    }
    const known = unknown.size === 0 ? [] : this.knownTasks.names(this.tasks.keys());
    return results.map((r) =>
      unknown.has(r.job.task)
        ? { ...r, job: { ...r.job, taskRegistered: false }, warnings: [taskNotRegistered(r.job.task, known)] }
        : { ...r, warnings: [] },
    );
  }

  /**
   * The defaults a job of `task` gets: this process's definition's, or else those its workers
   * registered (see KnownTasks), so that a job enqueued where the task is not defined (an API
   * server, the CLI) gets the same queue, attempts and backoff as one enqueued by its workers.
   */
  private async defaultsFor(task: string): Promise<TaskDefaults | undefined> {
    const own = this.tasks.get(task);
    if (own !== undefined || typeof task !== "string") return own?.defaults;
    try {
      return await this.knownTasks.registeredDefaultsOf(task);
    } catch (err) {
      this.logger.warn({ err, task }, "reading the task registry failed; the job gets no registered defaults");
      return undefined;
    }
  }

  /** A worker for the tasks defined so far. Call `start()` on it; `stop()` drains it. */
  worker(options: WorkerOptions & { tasks?: readonly TaskDefinition[] } = {}): Worker {
    const delivery = this.alertDelivery();
    const sources = this.alertSources();
    // With channels configured, every worker sends notifications and runs the escalation dispatcher;
    // with rules, every worker applies them (see alerts/sources.ts).
    const own = [...(options.tasks ?? this.tasks.values())];
    if (own.length === 0 && !delivery && !sources && !this.settings.commands) {
      throw new OverseerError("TASK_NOT_FOUND", "a worker needs at least one task; define tasks first");
    }
    // Built-in tasks every worker also runs: the re-queue policy (so a config `schedules` entry
    // can run it on a cron), an agent's approval request, with a config's `commands` the
    // approval-gated commands, and with channels configured the notification sends.
    const { commands } = this.settings;
    const tasks = [
      ...own,
      requeueDeadTask(this.store),
      approvalTask(),
      ...(commands ? [commandTask(this.store, commands, () => this.executionReader.read())] : []),
      ...(delivery ? [delivery.task] : []),
    ];
    const worker = new Worker(
      this.store,
      tasks,
      {
        gates: this.gates,
        approvalTimeoutMs: this.approvals.defaultTimeoutMs,
        // Checked only against a config that defines groups: a worker started without them (its
        // server has them) must not refuse every group.
        approvalGroups: groupsOrNull(this.approvals.groups),
        lessons: this.lessons,
        execution: this.executionReader,
        ...(delivery || sources
          ? {
              onMaintenance: async () => {
                await delivery?.dispatch();
                await sources?.pass();
              },
            }
          : {}),
        ...options,
      },
      this.logger,
    );
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
      defaultsFor: (task) => this.defaultsFor(task),
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

  /** Each named schedule's latest fired ticks and their jobs, newest first. */
  recentScheduleRuns(names: readonly string[], limit: number): Promise<Map<string, ScheduleRun[]>> {
    return this.store.recentScheduleRuns(names, limit);
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
    const defaults = await this.defaultsFor(s.task);
    return this.store.runScheduleNow(name, buildNewJob(s.task, s.payload, scheduledJobOptions(s), defaults));
  }

  getJob(id: string): Promise<Job | null> {
    return this.store.getJob(id);
  }

  listJobs(filter?: JobFilter): Promise<Job[]> {
    return this.store.listJobs(filter);
  }

  /** How many jobs the filter matches, counting no further than `cap` (see `Store.countMatchingJobs`). */
  countMatchingJobs(filter: JobFilter, cap: number): Promise<number> {
    return this.store.countMatchingJobs(filter, cap);
  }

  listAttempts(jobId: string): Promise<Attempt[]> {
    return this.store.listAttempts(jobId);
  }

  countJobs(): Promise<Record<JobState, number>> {
    return this.store.countJobs();
  }

  /** The times of the jobs that finished at `since` (epoch ms) or later, the latest first, at most `limit`. */
  listFinishedTimes(since: number, limit: number): Promise<FinishedTimes[]> {
    return this.store.listFinishedTimes(since, limit);
  }

  /**
   * Finished jobs over a range in buckets, from the per-minute rollups and, for the minutes not
   * rolled up yet, the jobs themselves (see docs/operations.md, "Metrics over time").
   */
  readJobRollups(query: JobRollupQuery): Promise<JobRollupRead> {
    return this.store.readJobRollups(query);
  }

  /** Rolls up the jobs finished since the last pass (what `overseer start` does every minute). */
  rollUpJobs(): Promise<RollUpResult> {
    return this.store.rollUpJobs();
  }

  /** The first minute that has a rollup (epoch ms), or null. */
  oldestJobRollup(): Promise<number | null> {
    return this.store.oldestJobRollup();
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

  /**
   * The re-queue policy (docs/alerts.md): dead jobs that died within `maxAge` and were re-queued
   * fewer than `maxRequeues` times are queued again, at most `max`, each with a `job.requeued`
   * event giving the reason. `dryRun` decides and reports, changing nothing.
   */
  requeueDead(options: RequeueDeadInput = {}): Promise<RequeueDeadResult> {
    return requeueDead(this.store, options);
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

  /**
   * Closes the queue's circuit breaker by hand (see docs/policies.md#circuit-breakers): its jobs
   * run again at once, without waiting for a probe. BREAKER_NOT_OPEN if it is closed.
   */
  resetBreaker(name: string, by = "sdk"): Promise<QueueRecord> {
    return this.store.resetBreaker(validateName(name, "queue"), by);
  }

  listQueues(): Promise<QueueRecord[]> {
    return this.store.listQueues();
  }

  /** The paused queues, without counting their jobs. */
  listPausedQueues(): Promise<PausedQueue[]> {
    return this.store.listPausedQueues();
  }

  /** Dead jobs counted up to `cap`, and the newest `sample` by task and queue. */
  summarizeDeadJobs(sample: number, cap: number): Promise<DeadJobSummary> {
    return this.store.summarizeDeadJobs(sample, cap);
  }

  listWorkers(): Promise<WorkerRecord[]> {
    return this.store.listWorkers();
  }

  getWorker(id: string): Promise<WorkerRecord | null> {
    return this.store.getWorker(id);
  }

  /** The running jobs workers hold leases on, with their tasks: one worker's, or every worker's with null. */
  listWorkerJobs(workerId: string | null = null): Promise<WorkerJob[]> {
    return this.store.listWorkerJobs(workerId);
  }

  /**
   * Asks a worker to go quiet (claim nothing more and finish what it runs), to stop (quiet, then
   * stop gracefully), or to resume claiming after a quiet; see `Store.commandWorker` for what is
   * refused. A worker reads it at its next heartbeat (every 5 s by default); one in this process
   * reads it at once.
   */
  async commandWorker(id: string, command: WorkerCommand, by = "sdk"): Promise<WorkerRecord> {
    const worker = await this.store.commandWorker(id, command, by);
    for (const w of this.workers) if (w.id === id) w.checkCommands();
    return worker;
  }

  /** Each worker's busy slots (the jobs it runs now), by worker id; a worker running none is absent. */
  busySlots(): Promise<Record<string, number>> {
    return this.store.busySlots();
  }

  /**
   * Concurrency keys that have unfinished jobs, each with its running and waiting (queued) jobs
   * and its limit: by name after `afterKey`, or the `limit` busiest.
   */
  listConcurrencyKeys(filter: ConcurrencyKeyFilter): Promise<ConcurrencyKeyUsage[]> {
    return this.store.listConcurrencyKeys(filter);
  }

  /** How many concurrency keys have unfinished jobs, and how many queued jobs their keys hold back now. */
  concurrencyTotals(): Promise<ConcurrencyTotals> {
    return this.store.concurrencyTotals();
  }

  readEvents(query?: EventQuery): Promise<OverseerEvent[]> {
    return this.store.readEvents(query);
  }

  /**
   * Appends events to the log in one transaction and returns their sequence numbers. A kind must
   * be built in or defined with `defineEventKind`; INVALID_ARGUMENT otherwise, and nothing is written.
   */
  appendEvents(events: readonly NewEvent[]): Promise<number[]> {
    return this.store.appendEvents(events);
  }

  /** The sequence number of the newest event (0 for an empty log): where following the log from now starts. */
  lastEventSeq(): Promise<number> {
    return this.store.lastEventSeq();
  }

  /**
   * Calls `listener` after a commit that made work ready or appended events: at once for this
   * process's writes, soon after for other processes' (a watch on SQLite's WAL, PostgreSQL's
   * NOTIFY); poll as well, since a wakeup can be missed. Returns the unsubscribe.
   */
  onChange(listener: () => void): () => void {
    return this.store.onChange(listener);
  }

  /** The store's clock, in epoch ms (the database's on PostgreSQL): compare stored times with it, not Date.now(). */
  now(): Promise<number> {
    return this.store.now();
  }

  // Maintenance (see docs/operations.md)

  /** Creates or upgrades the schema (opening does it too); says which migrations it applied. */
  migrate(): Promise<{ applied: string[] }> {
    return this.store.migrate();
  }

  /**
   * Deletes finished jobs, finished runs, closed alerts and events the policy no longer keeps
   * (`DEFAULT_RETENTION` is what `overseer start` applies hourly), appending them first to the
   * NDJSON file `archivePath` if given; `dryRun` only counts them.
   */
  prune(policy: RetentionPolicy, options: { archivePath?: string; dryRun?: boolean } = {}): Promise<PruneResult> {
    return pruneWithArchive(this.store, policy, options);
  }

  // API tokens (see auth/tokens.ts and docs/http-api.md)

  /**
   * Makes a token with a fresh secret, returned only here (only its hash is stored).
   * INVALID_ARGUMENT for a bad name or a scope not in TOKEN_SCOPES; TOKEN_NAME_TAKEN.
   */
  createToken(name: string, scope: string): Promise<CreatedToken> {
    return createToken(this.store, name, scope);
  }

  listTokens(): Promise<TokenRecord[]> {
    return this.store.listTokens();
  }

  /** The active token of this name stops working at once. TOKEN_NOT_FOUND. */
  revokeToken(name: string): Promise<TokenRecord> {
    return this.store.revokeToken(name);
  }

  /** The active token whose secret this is, or null. */
  authenticate(secret: string): Promise<TokenRecord | null> {
    return authenticate(this.store, secret);
  }

  // Signals (see docs/concepts.md, "Durable handlers")

  /**
   * Sends a signal to jobs waiting in `ctx.waitForEvent(name)`: the oldest whose `match` fits
   * the payload (and, with `jobId`, only that job) wakes at once; if none waits yet, the
   * signal is kept for the first wait that matches it.
   */
  async signal(
    name: string,
    payload: unknown = null,
    options: { jobId?: string } = {},
  ): Promise<{ signal: SignalRecord; deliveredTo: string | null }> {
    if (typeof name !== "string" || name.length < 1 || name.length > 200) {
      throw new OverseerError("INVALID_ARGUMENT", "a signal's name must be 1-200 characters", { field: "name" });
    }
    return this.store.postSignal({
      id: newId(),
      name,
      payloadJson: serializePayload(payload),
      jobId: options.jobId ?? null,
    });
  }

  // Claims (see core/claim.ts and docs/claims.md)

  /**
   * Takes the claim on `key` for `owner` for `ttl` (`"30s"`, `"5m"` or ms; 1 s to 24 h), or
   * refreshes it if `owner` holds it already. CLAIM_HELD (details: the holder) if someone else does.
   */
  takeClaim(key: string, owner: string, ttl: Duration, holder?: ClaimHolder): Promise<TakeClaimResult> {
    return this.store.takeClaim(key, owner, parseClaimTtl(ttl), holder);
  }

  /** Extends the holder's claim to now + `ttl`; CLAIM_NOT_HELD if `owner` does not hold it now. */
  refreshClaim(key: string, owner: string, ttl: Duration): Promise<Claim> {
    return this.store.refreshClaim(key, owner, parseClaimTtl(ttl));
  }

  /** Frees the key at once; CLAIM_NOT_HELD if `owner` does not hold it now. */
  releaseClaim(key: string, owner: string): Promise<Claim> {
    return this.store.releaseClaim(key, owner);
  }

  getClaim(key: string): Promise<Claim | null> {
    return this.store.getClaim(key);
  }

  /** The claims held now, by key. */
  listClaims(): Promise<Claim[]> {
    return this.store.listClaims();
  }

  /** Who held claims and when: `claim.taken` and `claim.released`, newest first, of every key or of `query.key`. */
  claimHistory(query?: ClaimHistoryQuery): Promise<OverseerEvent[]> {
    return this.store.claimHistory(query);
  }

  // Approvals (see core/approval.ts and docs/approvals.md)

  /**
   * Who a token (or a local user) is when deciding: its name, the `group:<g>` of every
   * configured group that lists the name, and whether it may operate at all (an operator or
   * admin token; the CLI's local user).
   */
  deciderFor(name: string, mayOperate: boolean): Decider {
    return { name, identities: identitiesOf(name, this.approvalGroups), mayOperate };
  }

  /**
   * One person's decision on a pending request, as a token (`{name, scope}`: see `deciderFor`)
   * or an explicit Decider; the store decides whether they may (see `Store.decideApproval`):
   * APPROVAL_NOT_FOUND, APPROVAL_FORBIDDEN, APPROVAL_SETTLED, APPROVAL_ALREADY_DECIDED,
   * VERSION_CONFLICT with `expectedVersion`.
   */
  decideApproval(
    id: string,
    decision: { decision: "approve" | "deny"; reason?: string | null; channel?: DecisionChannel },
    who: Decider | { name: string; scope: TokenScope },
    options: VersionCheck = {},
  ): Promise<Approval> {
    const decider = "scope" in who ? this.deciderFor(who.name, who.scope === "operator" || who.scope === "admin") : who;
    return this.store.decideApproval(
      id,
      { decision: decision.decision, reason: decision.reason ?? null, channel: decision.channel ?? "api" },
      decider,
      options.expectedVersion,
    );
  }

  getApproval(id: string): Promise<Approval | null> {
    return this.store.getApproval(id);
  }

  /**
   * A request with the job or the run that asked (each null where the other asked, or where it
   * is gone since). APPROVAL_NOT_FOUND.
   */
  async getApprovalDetail(id: string): Promise<ApprovalDetail> {
    const approval = await this.store.getApproval(id);
    if (!approval) throw new OverseerError("APPROVAL_NOT_FOUND", `no approval request with id "${id}"`, { id });
    const job = approval.jobId === null ? null : await this.store.getJob(approval.jobId);
    const run = approval.runId === null ? null : await this.store.getRun(approval.runId);
    return {
      approval,
      job: job && { id: job.id, state: job.state, task: job.task },
      run: run && { id: run.id, state: run.state, profile: run.profile },
    };
  }

  /** Pending first (oldest first), then settled ones newest first. */
  countPendingApprovals(): Promise<number> {
    return this.store.countPendingApprovals();
  }

  /** How many requests the filter matches. */
  countApprovals(filter?: ApprovalFilter): Promise<number> {
    return this.store.countApprovals(filter);
  }

  listApprovals(filter?: ApprovalFilter): Promise<Approval[]> {
    return this.store.listApprovals(filter);
  }

  // Alerts and heartbeats (see core/alert.ts, core/heartbeat.ts and docs/alerts.md)

  /** Open alerts first, then closed ones, each newest first. */
  countOpenAlerts(): Promise<Record<"triggered" | "acknowledged", number>> {
    return this.store.countOpenAlerts();
  }

  listAlerts(filter?: AlertFilter): Promise<Alert[]> {
    return this.store.listAlerts(filter);
  }

  /** The alert's events, oldest first: its lifecycle. */
  alertEvents(id: string, limit: number): Promise<OverseerEvent[]> {
    return this.store.alertEvents(id, limit);
  }

  /** How many alerts the filter matches. */
  countAlerts(filter?: AlertFilter): Promise<number> {
    return this.store.countAlerts(filter);
  }

  getAlert(id: string): Promise<Alert | null> {
    return this.store.getAlert(id);
  }

  /** The alert's escalation timeline: who was notified when, through which channel. */
  listAlertNotifications(id: string): Promise<AlertNotification[]> {
    return this.store.listAlertNotifications(id);
  }

  /**
   * Raises a `manual` alert (a person or a script saying "look at this"). A second raise with the
   * dedup key of an open alert bumps it. `policy` is a policy or the name of one in the config's
   * `alerts.policies` (INVALID_ARGUMENT for an unknown name); omitted, nobody is paged: the alert
   * is shown and can be acknowledged and closed.
   */
  async raiseAlert(input: {
    summary: string;
    details?: unknown;
    dedupKey?: string | null;
    policy?: EscalationPolicy | string | null;
  }): Promise<RaiseAlertResult> {
    const policy = typeof input.policy === "string" ? this.alertPolicy(input.policy) : (input.policy ?? null);
    const raised = await this.store.raiseAlert({
      id: newId(),
      source: "manual",
      summary: input.summary,
      details: input.details ?? null,
      dedupKey: input.dedupKey ?? null,
      policy,
    });
    // The first step's sends at once; should this fail, a worker's sweep enqueues them.
    await this.alertDelivery()?.enqueue(raised.alert, raised.notifications);
    return raised;
  }

  // On call (see core/oncall.ts and docs/alerts.md)

  /** Each rotation of the config's `alerts.rotations`: who is on call now, who is next and when, and the overrides ahead. */
  async oncall(): Promise<RotationStatus[]> {
    const rotations = Object.values(this.alerts.rotations);
    if (rotations.length === 0) return [];
    const [overrides, now] = await Promise.all([
      this.store.currentOncallOverrides(rotations.map((r) => r.name)),
      this.store.now(),
    ]);
    return rotations.map((r) => rotationStatus(r, overrides, now));
  }

  /**
   * Puts `person` (anyone in `alerts.people`) on call in `rotation`'s place, from `from` (default
   * now) until `until` or for `for`; appends `oncall.override_created`. The newest override wins
   * where two overlap. ROTATION_NOT_FOUND, or INVALID_ARGUMENT naming the field.
   */
  async overrideOncall(request: OverrideRequest): Promise<OncallOverride> {
    const { rotations, people, policies } = this.alerts;
    const input = overrideFrom(request, await this.store.now(), rotations, people, policies);
    return this.store.createOncallOverride(input);
  }

  /** Cancels an override that has not ended (OVERRIDE_NOT_FOUND, OVERRIDE_ENDED); it stays in the history. */
  cancelOncallOverride(id: number, by: string): Promise<OncallOverride> {
    return this.store.cancelOncallOverride(id, by);
  }

  /** The override history, newest first: cancelled and ended ones too. */
  listOncallOverrides(
    filter: { rotation?: string; beforeId?: number; limit?: number } = {},
  ): Promise<OncallOverride[]> {
    return this.store.listOncallOverrides({ ...filter, limit: filter.limit ?? 50 });
  }

  /**
   * Sending alerts (see alerts/delivery.ts): built on first use when the config has channels, its
   * secrets read from the environment then (INVALID_CONFIG naming a missing variable); null without channels.
   */
  alertDelivery(): AlertDelivery | null {
    if (this.delivery === null && this.alerts.channels.length > 0) {
      this.delivery = new AlertDelivery({
        store: this.store,
        logger: this.logger,
        channels: resolveAlertChannels(this.alerts.channels),
        people: this.alerts.people,
        dashboardUrl: this.alerts.dashboardUrl,
      });
    }
    return this.delivery;
  }

  /** The config's alert rules, applied in the workers' maintenance passes; null with no rules and no channels. */
  alertSources(): AlertSources | null {
    if (this.sources === null && (this.alerts.rules.length > 0 || this.alerts.channels.length > 0)) {
      this.sources = new AlertSources({
        store: this.store,
        rules: this.alerts.rules,
        delivery: this.alertDelivery(),
        logger: this.logger,
        lessons: this.lessons,
      });
    }
    return this.sources;
  }

  /** A policy of the config's `alerts.policies` by name; INVALID_ARGUMENT naming the known ones. */
  alertPolicy(name: string): EscalationPolicy {
    const policy = Object.hasOwn(this.alerts.policies, name) ? this.alerts.policies[name] : undefined;
    if (policy === undefined) {
      const known = Object.keys(this.alerts.policies).sort();
      throw new OverseerError(
        "INVALID_ARGUMENT",
        `no escalation policy "${name}" (${known.length === 0 ? "the config has no alerts.policies" : `configured: ${known.join(", ")}`})`,
        { field: "policy" },
      );
    }
    return policy;
  }

  /** Stops escalation; `note` is kept on the alert.acknowledged event. ALERT_NOT_FOUND, ALERT_INVALID_TRANSITION, VERSION_CONFLICT. */
  acknowledgeAlert(id: string, by: string, options: VersionCheck & { note?: string | null } = {}): Promise<Alert> {
    return this.store.acknowledgeAlert(id, by, options.expectedVersion, options.note ?? null);
  }

  /** Notifies the next step now. ALERT_NOT_FOUND, ALERT_INVALID_TRANSITION (closed), VERSION_CONFLICT. */
  escalateAlert(id: string, by: string, options: VersionCheck = {}): Promise<AlertEscalation> {
    return this.store.escalateAlertNow(id, by, options.expectedVersion);
  }

  /** Final. ALERT_NOT_FOUND, ALERT_INVALID_TRANSITION (closed already), VERSION_CONFLICT. */
  closeAlert(id: string, by: string, options: VersionCheck & { reason?: string | null } = {}): Promise<Alert> {
    return this.store.closeAlert(id, by, options.reason ?? null, options.expectedVersion);
  }

  /** Makes the stored heartbeat monitors match a config's (policies resolved by the caller). */
  syncHeartbeats(defs: readonly HeartbeatDefinition[]): Promise<SyncHeartbeatsResult> {
    return this.store.syncHeartbeats(defs);
  }

  /** A ping: the heartbeat is ok again, and a late one's alert is closed. HEARTBEAT_NOT_FOUND. */
  pingHeartbeat(name: string): Promise<PingHeartbeatResult> {
    return this.store.pingHeartbeat(name);
  }

  listHeartbeats(): Promise<Heartbeat[]> {
    return this.store.listHeartbeats();
  }

  // Runs

  /**
   * Validates the request against the config's run profiles and commits a queued run; a
   * supervisor (`runSupervisor()`, or `overseer start`) picks it up. RUN_PROFILE_NOT_FOUND,
   * INVALID_RUN_PARAMS, AD_HOC_RUNS_DISABLED; nothing is stored when it throws.
   */
  async startRun(request: StartRunRequest, options: { createdBy?: string | null } = {}): Promise<Run> {
    const { resolveRunRequest } = await import("../config/run-profiles.js");
    const id = newId();
    const { profile, params, spec } = resolveRunRequest(this.runs, request, id);
    // A profile's groups were checked as the config loaded; an ad-hoc command's are checked here,
    // as strictly: a group nobody defines could never answer.
    const groups = Object.keys(this.approvals.groups);
    const unknown = undefinedGroup(spec.approvals?.approvers ?? [], groups);
    if (unknown !== undefined) {
      throw new OverseerError("INVALID_ARGUMENT", `approvals.approvers: ${undefinedGroupMessage(unknown, groups)}`, {
        field: "approvals.approvers",
      });
    }
    return this.createRun({ id, profile, params, spec, createdBy: options.createdBy ?? null });
  }

  /** Stores a new run, `waiting` on the approval its spec asks before the first turn, if any. */
  private createRun(run: Omit<NewRun, "approval">): Promise<Run> {
    const approval = firstTurnRequest(run.spec.approvals, { ...run, id: newId() });
    return this.store.createRun(approval === null ? run : { ...run, approval });
  }

  getRun(id: string): Promise<Run | null> {
    return this.store.getRun(id);
  }

  /**
   * Starts a finished run again, linked to it (`rerunOf`; the source lists it in `listReruns`).
   * Without params the new run executes the same spec: same command, same working folder, so an
   * agent picks up where its logs left off. With params, its profile (as the config has it now)
   * is resolved again with the old params and the new ones over them. RUN_NOT_FOUND,
   * RUN_NOT_FINISHED, and the refusals of `startRun`.
   */
  async rerunRun(
    id: string,
    request: { params?: Record<string, unknown> } = {},
    options: { createdBy?: string | null } = {},
  ): Promise<Run> {
    const source = await this.store.getRun(id);
    if (source === null) throw runNotFound(id);
    if (!isFinishedRunState(source.state)) {
      throw new OverseerError("RUN_NOT_FINISHED", `run ${id} is ${source.state}: only a finished run can be rerun`, {
        id,
        state: source.state,
      });
    }
    const createdBy = options.createdBy ?? null;
    const newRunId = newId();
    if (request.params === undefined) {
      const { profile, params, spec } = source;
      return this.createRun({ id: newRunId, profile, params, spec, createdBy, rerunOf: id });
    }
    if (source.profile === null) {
      throw new OverseerError("INVALID_ARGUMENT", "params: an ad-hoc run is rerun as it was, without params", {
        field: "params",
      });
    }
    const { resolveRunRequest } = await import("../config/run-profiles.js");
    const resolved = resolveRunRequest(
      this.runs,
      { profile: source.profile, params: { ...source.params, ...request.params } },
      newRunId,
    );
    return this.createRun({ id: newRunId, ...resolved, createdBy, rerunOf: id });
  }

  /** The ids of the runs started again from this one, oldest first. */
  listReruns(id: string): Promise<string[]> {
    return this.store.listReruns(id);
  }

  listRuns(filter?: RunFilter): Promise<Run[]> {
    return this.store.listRuns(filter);
  }

  listRunTurns(runId: string): Promise<RunTurn[]> {
    return this.store.listRunTurns(runId);
  }

  /**
   * A person's message for the run: the first turn that starts after it gets it in its input
   * (`{{messages}}`); a turn running now does not. INVALID_ARGUMENT for an empty or too long body,
   * RUN_NOT_FOUND, RUN_FINISHED, RUN_TAKES_NO_MESSAGES.
   */
  async sendRunMessage(runId: string, body: unknown, options: { sentBy?: string | null } = {}): Promise<RunMessage> {
    if (typeof body !== "string" || body.trim() === "") {
      throw new OverseerError("INVALID_ARGUMENT", `a message must be a non-empty string; got ${describe(body)}`, {
        field: "body",
      });
    }
    if (body.length > MAX_RUN_MESSAGE_CHARS) {
      throw new OverseerError(
        "INVALID_ARGUMENT",
        `a message is at most ${MAX_RUN_MESSAGE_CHARS} characters; this one has ${body.length}`,
        { field: "body" },
      );
    }
    return this.store.sendRunMessage({ id: newId(), runId, body, sentBy: options.sentBy ?? null });
  }

  /** The run's last 500 messages, oldest first, each with the turn that got it (null while it waits). RUN_NOT_FOUND. */
  async listRunMessages(runId: string): Promise<RunMessage[]> {
    if ((await this.store.getRun(runId)) === null) throw runNotFound(runId);
    return this.store.listRunMessages(runId);
  }

  /** Runs by state. */
  /** How many runs the filter matches, counting no further than `cap`. */
  countMatchingRuns(filter: RunFilter, cap: number): Promise<number> {
    return this.store.countMatchingRuns(filter, cap);
  }

  countRuns(): Promise<Record<RunState, number>> {
    return this.store.countRuns();
  }

  /** Bytes [start, end) of a turn's stored output (end clamped to its size) and its size; null without such a turn. */
  readRunOutput(
    runId: string,
    turn: number,
    start: number,
    end?: number,
  ): Promise<{ data: Buffer; size: number } | null> {
    return this.store.readRunOutput(runId, turn, start, end);
  }

  /** Pause (at the end of the turn, or `immediate`), resume or cancel; RUN_INVALID_TRANSITION with the state when refused. */
  async controlRun(
    id: string,
    action: RunControlAction,
    options: { immediate?: boolean; by?: string | null } & VersionCheck = {},
  ): Promise<Run> {
    if (!(RUN_CONTROL_ACTIONS as readonly unknown[]).includes(action)) {
      throw new OverseerError(
        "INVALID_ARGUMENT",
        `action must be one of ${RUN_CONTROL_ACTIONS.join(", ")}; got ${describe(action)}`,
        { field: "action" },
      );
    }
    const { run } = await this.store.controlRun(id, { action, ...options });
    return run;
  }

  /** Whether the config lets this process start runs: it has run profiles, or allows ad-hoc commands. */
  get runsConfigured(): boolean {
    return this.runs !== null && (this.runs.allowAdHoc || Object.keys(this.runs.profiles).length > 0);
  }

  /** A supervisor for the runs in the store: `start()` it; `stop()` interrupts its turns and hands the runs back. */
  runSupervisor(options: Omit<RunSupervisorOptions, "store" | "logger"> = {}): RunSupervisor {
    const supervisor = new RunSupervisor({
      store: this.store,
      logger: this.logger,
      concurrency: this.runs?.concurrency,
      leaseMs: this.runs?.leaseMs,
      // Listed among the workers from the start where runs are configured; elsewhere once it drives one.
      listed: this.runsConfigured,
      ...options,
    });
    this.supervisors.add(supervisor);
    return supervisor;
  }

  /** Stops this process's workers gracefully, then closes the store. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.schedulers].map((s) => s.stop()));
    await Promise.all([...this.supervisors].map((s) => s.stop()));
    await Promise.all([...this.workers].map((w) => w.stop()));
    await this.sources?.release();
    await this.delivery?.close();
    await this.store.close();
  }
}

export async function createOverseer(options: OverseerOptions = {}): Promise<Overseer> {
  const store = options.store ?? (await openStore(options.database, options));
  const overseer = new Overseer(
    store,
    options.logger,
    options.runs ?? null,
    options.gates,
    options.approvals,
    options.alerts,
    new Lessons(store, options.lessons, options.logger),
    { execution: options.execution ?? DEFAULT_EXECUTION, commands: options.commands ?? null },
  );
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

/** The config's group names, or null when it defines none (then requests are not checked against them). */
function groupsOrNull(groups: Record<string, string[]>): string[] | null {
  const names = Object.keys(groups);
  return names.length === 0 ? null : names;
}
