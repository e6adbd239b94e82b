/**
 * The one storage interface. The engine, SDK and CLI talk to the datastore only through these
 * domain verbs; no driver, connection or transaction type crosses this boundary, so a new
 * backend implements this file and passes the conformance suite without changes above it.
 * The one door the other way is `enqueueWithin`, which takes the user's own connection, typed
 * structurally below so that no driver's types are imported here either.
 *
 * Invariants every backend keeps:
 * - a method that returns has committed; nothing is half-written when it throws;
 * - every job state change goes through a transition in `core/job-state.ts` and appends its
 *   events in the same transaction, except the time-driven promotion of a due `scheduled` job to
 *   `queued` (its `job.started` follows, and the event that scheduled it gave the time);
 * - a lease is only ever extended or finished by its holder (job id + fencing token);
 * - times come from the store's clock (the database's, where it has one), never the caller's;
 * - a write given an `expectedVersion` checks it in its own transaction, and on a mismatch
 *   throws VERSION_CONFLICT having changed nothing.
 */

import type {
  Alert,
  AlertNotification,
  AlertSource,
  AlertStatus,
  NewAlert,
  NotificationReceipt,
  StepNotice,
} from "../core/alert.js";
import type { Approval, ApprovalState, Decider, DecisionChannel, NewApproval } from "../core/approval.js";
import type { BreakerState, BreakerTrip } from "../core/breaker.js";
import type { Claim, ClaimHolder, TakeClaimResult } from "../core/claim.js";
import type { NewSignal, SignalRecord, StepKind, StepRecord } from "../core/durable.js";
import type { ExecutionChange, ExecutionMode, ExecutionSwitch } from "../core/execution.js";
import type { Heartbeat, HeartbeatDefinition } from "../core/heartbeat.js";
import type { NewJob, TaskDefaults } from "../core/job-options.js";
import type { JobRollupRow, RollupCounts } from "../core/job-rollup.js";
import type { TaskRecord } from "../core/known-tasks.js";
import type { Lesson, LessonFilter, NewLesson, ParsedSimilarQuery, SimilarLesson } from "../core/lesson.js";
import type { NewOncallOverride, OncallOverride } from "../core/oncall.js";
import type { PayloadMatch } from "../core/payload-filter.js";
import type { DeadReason } from "../core/retry-policy.js";
import type {
  ClaimedRun,
  NewRun,
  Run,
  RunControlRequest,
  RunFilter,
  RunLease,
  RunMessage,
  RunTurn,
  RunUpdate,
} from "../core/run.js";
import type { RunState, RunTransitionName } from "../core/run-state.js";
import type {
  Attempt,
  ClaimedJob,
  Job,
  JobError,
  JobState,
  Lease,
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

export interface EnqueueResult {
  job: Job;
  /** False when an idempotency key matched an existing job, which is returned instead. */
  created: boolean;
}

/**
 * A user's own SQLite connection to the store's file, inside their write transaction: a
 * better-sqlite3 `Database` fits. Used synchronously, as better-sqlite3 transactions are.
 */
export interface SqliteTransactionHandle {
  readonly inTransaction: boolean;
  prepare(text: string): {
    run(...args: unknown[]): unknown;
    get(...args: unknown[]): unknown;
    all(...args: unknown[]): unknown[];
    raw(raw: boolean): unknown;
  };
}

/** A user's own PostgreSQL client on which they ran `BEGIN`: a `pg` `Client` or `PoolClient` fits. */
export interface PgTransactionHandle {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

export type TransactionHandle = SqliteTransactionHandle | PgTransactionHandle;

export interface ClaimRequest {
  workerId: string;
  /** Claim at most this many jobs. */
  limit: number;
  /** Only jobs of these tasks (the handlers this worker has). */
  tasks: readonly string[];
  /** Only these queues; null for every queue. */
  queues: readonly string[] | null;
  leaseMs: number;
  /**
   * How many of the claimed jobs, in claim order, start at once. The rest are held (claimed ahead
   * of a free slot, see the worker's `prefetch`) until `startHeld` records their start; if their
   * lease expires first, they go back to the queue without losing an attempt (like a release at
   * shutdown: `job.started`, from the claim, then `job.released`). Default: all of them.
   */
  start?: number;
}

export type AttemptResult =
  /** `followUp`: the task's `onSuccess` job, inserted with the outcome if the lease held. */
  | { lease: Lease; outcome: "succeeded"; resultJson: string; followUp?: NewJob }
  | { lease: Lease; outcome: "retry"; error: JobError; delayMs: number }
  /** `followUp`: the task's `onDead` job, inserted with the outcome if the lease held. */
  | { lease: Lease; outcome: "dead"; error: JobError; reason: DeadReason; followUp?: NewJob }
  | { lease: Lease; outcome: "cancelled"; error: JobError | null }
  /**
   * The worker hands the job back; the attempt does not count. `reason` (in `job.released`):
   * "shutdown" (the default), or "prefetch_reduced" for a held job its worker no longer means to
   * run soon (see engine/prefetch.ts).
   */
  | { lease: Lease; outcome: "released"; reason?: "shutdown" | "prefetch_reduced" | "quiet" };

export interface HeartbeatResult {
  /** Leases extended, with their new expiry. */
  extended: Lease[];
  /** Jobs whose lease this worker no longer holds: their handlers must stop. */
  lost: string[];
  /** Jobs a person asked to cancel: abort their handlers. */
  cancelRequested: string[];
  /** The command an operator left for this worker (see `commandWorker`), or null for none. */
  command: "quiet" | "stop" | null;
}

/** What a worker counted since it started (see `WorkerRecord`), written with its heartbeats. */
export interface WorkerCounts {
  processed: number;
  failed: number;
}

/** When a finished job became due, started its last attempt and finished, in epoch ms. */
export interface FinishedTimes {
  state: Extract<JobState, "succeeded" | "dead" | "cancelled">;
  runAt: number;
  startedAt: number | null;
  finishedAt: number;
}

/** What a rollup pass did. */
export interface RollUpResult {
  /** Minutes the watermark moved over. */
  minutes: number;
  /** Rows written. */
  rows: number;
  /** Finished jobs counted. */
  jobs: number;
  /** Rows deleted for being older than 7 days. */
  deleted: number;
  /** Everything finished before this (epoch ms, a whole minute) is rolled up; 0 before the first pass. */
  through: number;
}

export interface JobRollupQuery {
  /** Start (epoch ms, a whole minute), included. */
  from: number;
  /** End (epoch ms), excluded. */
  to: number;
  /** A bucket's length in ms, a whole number of minutes. */
  bucketMs: number;
  queue?: string;
  task?: string;
  /** How many queues and tasks the breakdowns keep, the most finished jobs first. */
  top: number;
}

export interface JobRollupRead {
  /** Bucket i covers [from + i × bucketMs, from + (i + 1) × bucketMs); always every bucket of the range. */
  buckets: RollupCounts[];
  total: RollupCounts;
  byQueue: Array<{ queue: string; counts: RollupCounts }>;
  byTask: Array<{ task: string; counts: RollupCounts }>;
  /** The watermark: minutes before it came from rollups, the rest from the jobs table. */
  rolledUpThrough: number;
  /** True when more jobs finished after the watermark than a read takes: the counts are then lower bounds. */
  truncated: boolean;
}

/** The dead jobs at a glance: what the attention summary shows (see `summarizeDeadJobs`). */
export interface DeadJobSummary {
  /** The dead jobs kept, counted up to the cap asked for. */
  total: number;
  /** More dead jobs than the cap are kept: `total` is the cap. */
  capped: boolean;
  /** How many of the newest dead jobs `groups` describes: all of them when `sampled === total`. */
  sampled: number;
  /** Those jobs by task and queue, most first, each with its newest finish time. */
  groups: Array<{ task: string; queue: string; count: number; newestAt: string }>;
}

/** A paused queue and when it was paused. */
export interface PausedQueue {
  name: string;
  pausedAt: string;
}

/** One fired tick of a schedule and the job it enqueued (`state` null: the job was discarded since). */
export interface ScheduleRun {
  tick: string;
  jobId: string;
  state: JobState | null;
}

export interface JobFilter {
  states?: readonly JobState[];
  queue?: string;
  task?: string;
  /** Jobs whose id or idempotency key contains this text. */
  search?: string;
  /**
   * Jobs whose payload holds each of these values at its path (see core/payload-filter.ts): a
   * string equal to it, or a number written as it.
   */
  payload?: readonly PayloadMatch[];
  /** Creation and finish time ranges, epoch ms: `after` inclusive, `before` exclusive. */
  createdAfter?: number;
  createdBefore?: number;
  finishedAfter?: number;
  finishedBefore?: number;
  /** Newest first; pass the last id of a page to get the next. */
  beforeId?: string;
  /** Oldest first instead: `afterId` (not `beforeId`) then pages on. */
  oldestFirst?: boolean;
  /** With `oldestFirst`: pass the last id of a page to get the next. */
  afterId?: string;
  limit?: number;
}

export interface ApprovalFilter {
  states?: readonly ApprovalState[];
  jobId?: string;
  runId?: string;
  /** A yes or no (`approval`) or a `question`. */
  kind?: "approval" | "question";
  /** Creation time range, epoch ms: `after` inclusive, `before` exclusive. */
  createdAfter?: number;
  createdBefore?: number;
  /** Paging: requests listed after this id in the order above. */
  afterId?: string;
  limit?: number;
}

export interface AlertFilter {
  statuses?: readonly AlertStatus[];
  source?: AlertSource;
  /** Creation time range, epoch ms: `after` inclusive, `before` exclusive. */
  createdAfter?: number;
  createdBefore?: number;
  /** Paging: alerts listed after this id in the order of `listAlerts`. */
  afterId?: string;
  limit?: number;
}

export interface RaiseAlertResult {
  alert: Alert;
  /** False when an open alert had the dedup key: it was bumped (count + 1) and nobody is paged. */
  created: boolean;
  /** The first step's notifications when it is due at once (delay 0), recorded as planned; else empty. */
  notifications: AlertNotification[];
}

/** A step an escalation applied: who to notify now, recorded as planned notifications. */
export interface AlertEscalation {
  alert: Alert;
  /** The step notified (null: nothing to notify, e.g. a re-trigger whose first step has a delay). */
  notice: StepNotice | null;
  notifications: AlertNotification[];
  /** True when this was an acknowledged alert's ack timeout (`alert.retriggered`). */
  retriggered: boolean;
}

export interface SyncHeartbeatsResult {
  /** Names new to the store (their first ping is owed an interval from now). */
  added: string[];
  /** Names whose interval or policy changed. */
  updated: string[];
  /** Names the definitions no longer include: deleted, and a late one's open alert closed. */
  removed: string[];
}

export interface PingHeartbeatResult {
  heartbeat: Heartbeat;
  /** The alert this ping closed (the heartbeat was late), or null. */
  closedAlert: Alert | null;
}

/** A heartbeat `checkHeartbeats` found late, and the alert raised (or bumped) for it. */
export interface LateHeartbeat {
  heartbeat: Heartbeat;
  raised: RaiseAlertResult;
}

export interface NewToken {
  id: string;
  name: string;
  scope: TokenScope;
  /** SHA-256 of the secret, hex: the secret itself never reaches the store. */
  hash: string;
}

export interface CancelResult {
  job: Job;
  /** `cancelled` at once, or `requested` for a running job (its handler is aborted). */
  effect: "cancelled" | "requested";
}

export interface NewEvent {
  kind: string;
  jobId?: string | null;
  runId?: string | null;
  workerId?: string | null;
  data?: Record<string, unknown>;
}

export interface EventQuery {
  /** Events with a sequence number greater than this. */
  afterSeq?: number;
  jobId?: string;
  runId?: string;
  /** With `jobId` (and no `runId`): only the job's events whose kind starts with this (`step.`). */
  kindPrefix?: string;
  limit?: number;
}

export interface ClaimHistoryQuery {
  /** One key's history; absent: every key's. */
  key?: string;
  /** Only events older than this sequence number (the next page); absent: from the newest. */
  beforeSeq?: number;
  /** At most this many events; 100 unless given. */
  limit?: number;
}

/** A concurrency key as an operator watches it (see concurrency/operations.ts). */
export interface ConcurrencyKeyUsage {
  key: string;
  /** Its jobs running now (claimed ones included): what its limit is weighed against. */
  running: number;
  /** Its queued jobs: due, waiting for a claim (and for a free slot of the key, when it is full). */
  waiting: number;
  /** The largest limit its unfinished jobs carry (jobs of one key normally share one). */
  limit: number;
}

export interface ConcurrencyKeyFilter {
  /** Keys by name after this one (the next page). */
  afterKey?: string;
  /** At most this many keys. */
  limit: number;
  /** The busiest keys instead (running, then waiting, then name); `afterKey` is ignored. */
  busiestFirst?: boolean;
}

export interface ConcurrencyTotals {
  /** Keys that have unfinished jobs. */
  keys: number;
  /** Queued jobs whose key has as many jobs running as the job's limit: held back by it now. */
  limitedJobs: number;
}

export interface WorkerRegistration {
  id: string;
  name: string;
  host: string;
  pid: number;
  queues: readonly string[] | null;
  tasks: readonly string[];
  concurrency: number;
  /**
   * Each task's defaults as this worker defines them (JSON, by task name), kept in the task
   * registry for follow-ups decided where a task is not defined; absent: none recorded.
   */
  defaults?: Readonly<Record<string, string>>;
}

export interface RetentionRule {
  /** Delete what finished longer ago than this: jobs and runs by finish time, alerts by close time, events by time. */
  maxAgeMs?: number;
  /** Keep at most this many, newest first. */
  maxCount?: number;
}

/** A rule left out deletes nothing of its kind. Unfinished jobs and runs and open alerts are never deleted. */
export interface RetentionPolicy {
  jobs: Partial<Record<"succeeded" | "dead" | "cancelled", RetentionRule>>;
  events?: RetentionRule;
  /** Finished runs (completed, failed, cancelled) as one set, with their turns and stored output. */
  runs?: RetentionRule;
  /** Closed alerts, with their notifications; triggered and acknowledged ones are kept. */
  alerts?: RetentionRule;
  /** Lessons, by the time they were recorded (they outlive the jobs they came from). */
  lessons?: RetentionRule;
}

/** One batch about to be deleted; each call fills one kind and leaves the others empty. */
export interface PruneBatch {
  jobs: Array<{ job: Job; attempts: Attempt[] }>;
  events: OverseerEvent[];
  /** Runs with their turns; the turns' stored output is deleted without being handed over. */
  runs: Array<{ run: Run; turns: RunTurn[] }>;
  alerts: Array<{ alert: Alert; notifications: AlertNotification[] }>;
  lessons: Lesson[];
}

export interface PruneResult {
  jobs: Record<"succeeded" | "dead" | "cancelled", number>;
  events: number;
  runs: number;
  alerts: number;
  lessons: number;
}

export interface PruneOptions {
  dryRun?: boolean;
  /** Called with each batch before it is deleted; if it throws, the batch is kept. */
  archive?: (batch: PruneBatch) => void | Promise<void>;
}

export interface SyncSchedulesResult {
  /** Names new to the store, or back after having been removed. */
  added: string[];
  /** Names whose definition (or configured enabled flag) changed. */
  updated: string[];
  /** Names the definitions no longer include: marked removed, kept for their history. */
  removed: string[];
}

/** What a breaker pass left: the breaker's state, and how many due jobs it diverted. */
export interface BreakerPass {
  state: BreakerState;
  diverted: number;
}

export interface FireTickResult {
  /** True when this call enqueued the tick's job; false if it was already fired or is not owed. */
  fired: boolean;
  job: Job | null;
}

export interface Store {
  /**
   * Whether each claim and each write cross a network (PostgreSQL), so that a worker records
   * outcomes and claims in transactions of their own, at once on two connections, or are local
   * transactions (SQLite), where one transaction for both is faster (see the worker's
   * `recordAndRefill`).
   */
  readonly remote: boolean;
  /** Brings the schema up to date. Safe to call from several processes at once. */
  migrate(): Promise<{ applied: string[] }>;
  /** The store's clock, in epoch milliseconds. */
  now(): Promise<number>;
  close(): Promise<void>;
  /**
   * Calls `listener` soon after jobs may have become ready (an enqueue, a retry, a resume),
   * by this process or any other on the same database. Returns an unsubscribe.
   */
  onChange(listener: () => void): () => void;

  // Producing
  enqueue(job: NewJob): Promise<EnqueueResult>;
  /** All or nothing, in one transaction. */
  enqueueMany(jobs: readonly NewJob[]): Promise<EnqueueResult[]>;
  /**
   * Inserts the job (and its `job.enqueued` event) with the caller's own connection, inside the
   * transaction they have open, so the job exists if and only if that transaction commits.
   * Same rules as `enqueue`; nothing is committed here. A backend accepts one kind of handle
   * and answers INVALID_ARGUMENT for another kind, or when no transaction is open. SQLite
   * returns synchronously, as its transactions are; PostgreSQL returns a promise. Optional:
   * a backend without it cannot enqueue in a user's transaction.
   */
  enqueueWithin?(handle: TransactionHandle, job: NewJob): EnqueueResult | Promise<EnqueueResult>;

  // Working
  /** Due jobs by priority, then run time, then id; respects paused queues, concurrency keys and rate limits. */
  claim(request: ClaimRequest): Promise<ClaimedJob[]>;
  /**
   * Extends the leases and records that the worker is alive, with its counts when given; the
   * answer carries the command an operator left for it.
   */
  heartbeat(
    workerId: string,
    leases: readonly Lease[],
    leaseMs: number,
    counts?: WorkerCounts,
  ): Promise<HeartbeatResult>;
  /** Records attempt outcomes in one transaction; returns, per result, whether its lease was still held. */
  finish(results: readonly AttemptResult[]): Promise<boolean[]>;
  /**
   * A worker's steady-state step: `finish(results)` then `claim(request)` in one transaction,
   * so a busy worker commits once per batch instead of twice.
   */
  finishAndClaim(
    results: readonly AttemptResult[],
    request: ClaimRequest,
  ): Promise<{ applied: boolean[]; claimed: ClaimedJob[] }>;
  /**
   * Records that held jobs' handlers have started, or start now, all in one write: from here on an
   * expired lease counts as a lost attempt. Returns the ids of the jobs whose lease still held
   * and that were held (see `startMode` in the engine's start-batcher.ts for when a worker waits
   * for this record before it runs a job, and when it records the start after).
   */
  startHeld(leases: readonly Lease[]): Promise<string[]>;
  /** Stores a running job's progress and appends `job.progress`. False if the lease is lost. */
  recordProgress(lease: Lease, progressJson: string): Promise<boolean>;
  /** Earliest run time (epoch ms) of a scheduled job, or null. Lets idle workers sleep until then. */
  nextScheduledAt(): Promise<number | null>;
  /**
   * Jobs whose lease expired go back to run again (or die if out of attempts); the attempt is
   * recorded as lost. A held job (claimed but never started) goes back to the queue uncounted.
   */
  recoverExpiredLeases(limit?: number): Promise<Job[]>;

  // Workers
  registerWorker(worker: WorkerRegistration): Promise<void>;
  /**
   * What a worker says it does now: `quiet` (appends `worker.quieted` with `released`, the jobs it
   * handed back unstarted) and `active` (after a resume, `worker.resumed`) answer an operator's
   * command; `stopped` appends `worker.stopped`. A stopped worker's status changes no more.
   */
  setWorkerStatus(
    workerId: string,
    status: "active" | "quiet" | "stopping" | "stopped",
    released?: number,
  ): Promise<void>;
  /**
   * Leaves a command for the worker to read at its next heartbeat (`quiet`, `stop`, or `resume`
   * to take a quiet back), appending `worker.<command>_requested` with `by`; returns the worker.
   * WORKER_NOT_FOUND; WORKER_INVALID_TRANSITION for a worker stopped or lost, for `quiet` or
   * `resume` after a stop, and for a worker with no tasks (a run supervisor). Asking for what is
   * pending already changes nothing.
   */
  commandWorker(workerId: string, command: WorkerCommand, by: string): Promise<WorkerRecord>;
  getWorker(workerId: string): Promise<WorkerRecord | null>;
  /**
   * The running jobs workers hold leases on (held ones too), with their tasks, oldest start first:
   * one worker's, or every worker's with null. Read through the running-jobs index.
   */
  listWorkerJobs(workerId: string | null): Promise<WorkerJob[]>;
  /** Marks workers that have not heartbeated within `staleMs` as lost; returns their ids. */
  markLostWorkers(staleMs: number): Promise<string[]>;
  listWorkers(): Promise<WorkerRecord[]>;
  /**
   * Each worker's busy slots by worker id: the jobs it runs now (a job claimed ahead of a free
   * slot and not started takes none). A worker running nothing is absent.
   */
  busySlots(): Promise<Record<string, number>>;
  /**
   * Every task name a worker has ever registered here (`registerWorker` records its tasks in the
   * same transaction, first and last time seen), by name. Kept when worker rows are pruned.
   */
  listTasks(): Promise<TaskRecord[]>;
  /** Each task's defaults as its latest registering worker recorded them (`registerWorker`'s `defaults`), by name. */
  taskDefaults(): Promise<Map<string, TaskDefaults>>;

  // Operating
  getJob(id: string): Promise<Job | null>;
  listJobs(filter?: JobFilter): Promise<Job[]>;
  /**
   * How many jobs the filter matches (its paging fields and limit ignored), counting no further
   * than `cap`: a result equal to `cap` means "at least cap". Reads at most `cap` index entries.
   */
  countMatchingJobs(filter: JobFilter, cap: number): Promise<number>;
  listAttempts(jobId: string): Promise<Attempt[]>;
  countJobs(): Promise<Record<JobState, number>>;
  /**
   * The times of the jobs that finished at `since` or later, the latest first, at most `limit`:
   * what throughput and latency over a window need, without reading whole jobs.
   */
  listFinishedTimes(since: number, limit: number): Promise<FinishedTimes[]>;
  /** The dead jobs counted (up to `cap`), and the newest `sample` of them by task and queue: index reads only. */
  summarizeDeadJobs(sample: number, cap: number): Promise<DeadJobSummary>;
  /**
   * Rolls the jobs finished since the last pass up into per-minute rows (see core/job-rollup.ts),
   * whole minutes at least `graceMs` old (default two minutes), and deletes rollups older than 7
   * days. Safe to run on several nodes at once: each minute is counted once.
   */
  rollUpJobs(graceMs?: number): Promise<RollUpResult>;
  /** Adds rows to the stored rollups (summed with any of the same minute, queue and task): for imports and seeding. */
  writeJobRollups(rows: readonly JobRollupRow[]): Promise<void>;
  /** Finished jobs over a range, in buckets, with totals per queue and task: rolled-up minutes and the live rest. */
  readJobRollups(query: JobRollupQuery): Promise<JobRollupRead>;
  /** The first minute that has a rollup (epoch ms), or null. */
  oldestJobRollup(): Promise<number | null>;
  /**
   * The verbs below that take `expectedVersion` refuse with VERSION_CONFLICT, changing nothing,
   * when the record's `version` is not that number (the check runs in the write's transaction).
   */
  cancelJob(id: string, expectedVersion?: number): Promise<CancelResult>;
  retryJob(id: string, expectedVersion?: number): Promise<Job>;
  /** Retries dead jobs matching the filter (state is implied); returns how many. */
  retryDeadJobs(filter: { queue?: string; task?: string; limit?: number }): Promise<number>;
  discardJob(id: string, expectedVersion?: number): Promise<void>;
  /** A queue nobody paused or resumed yet has version 0. */
  setQueuePaused(name: string, paused: boolean, expectedVersion?: number): Promise<QueueRecord>;
  listQueues(): Promise<QueueRecord[]>;
  /** The paused queues by name: the queues table alone, no job counted. */
  listPausedQueues(): Promise<PausedQueue[]>;
  /** Concurrency keys that have unfinished jobs, with their usage and limit: by name, or the busiest. */
  listConcurrencyKeys(filter: ConcurrencyKeyFilter): Promise<ConcurrencyKeyUsage[]>;
  /** Over every concurrency key: how many there are, and how many queued jobs they hold back now. */
  concurrencyTotals(): Promise<ConcurrencyTotals>;
  /**
   * Opens the queue's circuit breaker if it is closed, until `cooldownMs` from now (see
   * core/breaker.ts); appends `queue.breaker_opened`. True if this call opened it.
   */
  tripBreaker(queue: string, trip: BreakerTrip, cooldownMs: number): Promise<boolean>;
  /**
   * Moves the queue's breaker on (probe time reached, probe's verdict) and, given `divert`,
   * diverts up to `limit` of its due jobs (all but the probe) while it is not closed. Reads
   * first: a closed breaker costs no write transaction.
   */
  breakerPass(
    queue: string,
    cooldownMs: number,
    divert: ((job: Job) => NewJob) | null,
    limit?: number,
  ): Promise<BreakerPass>;
  /** A person closes the breaker; BREAKER_NOT_OPEN if it is closed. */
  resetBreaker(queue: string, by: string): Promise<QueueRecord>;

  // Tokens (HTTP API authentication)
  /** TOKEN_NAME_TAKEN when an active token has the name. */
  createToken(token: NewToken): Promise<TokenRecord>;
  /** The active (not revoked) token with this hash, or null. */
  findTokenByHash(hash: string): Promise<TokenRecord | null>;
  /**
   * Makes the token the active one of its name in one transaction: returns the active token
   * with its secret if there is one, else revokes any other active token of the name and
   * inserts it. Safe with several processes seeding the same secret at once.
   */
  seedToken(token: NewToken): Promise<TokenRecord>;
  /** Every token, revoked ones included, oldest first. */
  listTokens(): Promise<TokenRecord[]>;
  /** Revokes the active token of this name and returns it; TOKEN_NOT_FOUND if there is none. */
  revokeToken(name: string): Promise<TokenRecord>;

  // Events
  appendEvents(events: readonly NewEvent[]): Promise<number[]>;
  readEvents(query?: EventQuery): Promise<OverseerEvent[]>;
  lastEventSeq(): Promise<number>;
  /** The position saved under `name` (a reader of the event log that outlives its process), or null. */
  getCursor(name: string): Promise<number | null>;
  /** Saves `seq` as the position of `name`, replacing what was saved. */
  saveCursor(name: string, seq: number): Promise<void>;

  // Schedules
  /**
   * Makes the stored schedules match `defs` (a config file's): new names are added (active from
   * now, so no earlier tick is owed), changed ones updated, and names missing from `defs` are
   * marked removed: they stop firing but keep their row, so their last tick and enabled flag
   * survive a restart with an older config; re-adding one starts it afresh from now.
   * Each schedule's enabled flag and last tick are kept; the config's `enabled` is applied only
   * when a schedule is added or when that value in the config changes, so `disable` from the
   * CLI survives restarts. Idempotent: several processes may sync the same config at once.
   */
  syncSchedules(defs: readonly ScheduleDefinition[]): Promise<SyncSchedulesResult>;
  /** Every stored schedule by name, removed ones included, with `lastTickAt` and `nextRunAt` (store's now). */
  listSchedules(): Promise<ScheduleRecord[]>;
  /** Each named schedule's latest fired ticks (kept a day) and their jobs, newest first, at most `limit` each. */
  recentScheduleRuns(names: readonly string[], limit: number): Promise<Map<string, ScheduleRun[]>>;
  /**
   * Enables or disables a schedule; SCHEDULE_NOT_FOUND for an unknown name. Enabling makes it
   * active from now: ticks missed while it was disabled are not owed, whatever its catchUp.
   */
  setScheduleEnabled(name: string, enabled: boolean): Promise<ScheduleRecord>;
  /**
   * Enqueues `job` for the schedule's tick `tickMs`, exactly once across all processes: the
   * tick is recorded in the same transaction as the job, and a tick already recorded (or not
   * after the last tick fired, or before the schedule became active, or of a disabled or
   * removed schedule) enqueues nothing and returns `fired: false`. SCHEDULE_NOT_FOUND for an
   * unknown name. Appends `schedule.fired`.
   */
  fireScheduleTick(name: string, tickMs: number, job: NewJob): Promise<FireTickResult>;
  /** Enqueues `job` for the schedule now, outside its tick sequence (`schedules run`); appends `schedule.triggered`. */
  runScheduleNow(name: string, job: NewJob): Promise<Job>;

  // Approvals (see core/approval.ts): a job asks a person and waits in `awaiting_approval`
  /**
   * `ctx.requestApproval` as step `request.step` of the job this lease runs. If the step is
   * stored (the request was settled), returns it. Else, if this step's request exists and is
   * pending, the job parks again; else the request is stored and the job parks: all in one
   * transaction, the request first, then the job to `awaiting_approval` (transition
   * `awaitApproval`), the lease released, the attempt recorded as `parked` and given back
   * (max attempts + 1). Appends `approval.requested`. Null when the lease is no longer held.
   */
  requestApproval(
    lease: Lease,
    request: NewApproval,
  ): Promise<{ kind: "settled"; step: StepRecord } | { kind: "parked"; approval: Approval } | null>;
  /**
   * One person's decision, applied with `decide` (core/approval.ts) inside the transaction:
   * APPROVAL_NOT_FOUND; APPROVAL_SETTLED / APPROVAL_ALREADY_DECIDED (409) and
   * APPROVAL_FORBIDDEN (403) with `details.state`; VERSION_CONFLICT on an `expectedVersion`
   * mismatch. Appends `approval.decided`; when it settles the request, the outcome is stored as
   * the job's step, the job goes `awaiting_approval → queued` (`approvalSettled`) and
   * `approval.settled` is appended, in the same transaction; listeners are woken.
   */
  decideApproval(
    id: string,
    decision: { decision: "approve" | "deny"; reason: string | null; channel: DecisionChannel },
    decider: Decider,
    expectedVersion?: number,
  ): Promise<Approval>;
  /**
   * The watchdog: settles pending requests whose time is up with `timeOut` (core/approval.ts),
   * each exactly once however many processes call this at the same moment, as `decideApproval`
   * settles them. Returns the requests it settled.
   */
  expireApprovals(limit?: number): Promise<Approval[]>;
  /** Epoch ms of the earliest pending request's expiry, or null: lets the watchdog sleep until then. */
  nextApprovalExpiry(): Promise<number | null>;
  getApproval(id: string): Promise<Approval | null>;
  /** How many requests are pending. */
  countPendingApprovals(): Promise<number>;
  /** How many requests the filter matches (its paging fields ignored). */
  countApprovals(filter?: ApprovalFilter): Promise<number>;
  /**
   * Pending first (oldest first), then settled ones newest first, each by (created at, id);
   * filters by state and job; `limit` defaults to 50. Paging is by keyset: pass the last id of a
   * page as `afterId` and the next page starts after that request's current place. An unknown
   * `afterId` gives an empty page; a request settled between two pages moves from the pending
   * part to the settled part, so a listing across that moment may repeat or skip it.
   */
  listApprovals(filter?: ApprovalFilter): Promise<Approval[]>;

  // Alerts (see core/alert.ts): raised once per open dedup key, escalated up their policy's steps
  /**
   * Raises an alert: if an open alert (triggered or acknowledged) has `alert.dedupKey`, it is
   * bumped instead (count + 1, the new details, `alert.bumped`) and nobody is paged; else the
   * alert is stored triggered (`alert.raised`) with its policy as given, and if the first step
   * is due at once its notifications are recorded as planned (`alert.escalated`). However many
   * processes raise one key at the same moment, one alert is created and the rest bump it.
   * INVALID_ARGUMENT for a bad source, summary, key or details.
   */
  raiseAlert(alert: NewAlert): Promise<RaiseAlertResult>;
  getAlert(id: string): Promise<Alert | null>;
  /** Open alerts by status. */
  countOpenAlerts(): Promise<Record<"triggered" | "acknowledged", number>>;
  /**
   * Open alerts first, then closed ones, each newest first by (created at, id); filters by status
   * and source; `limit` defaults to 50. Keyset paging by `afterId`, as `listApprovals` (an alert
   * closed between two pages moves to the closed part).
   */
  listAlerts(filter?: AlertFilter): Promise<Alert[]>;
  /** How many alerts the filter matches (its paging fields ignored). */
  countAlerts(filter?: AlertFilter): Promise<number>;
  /** The alert's events (raised, bumped, notified, acknowledged, escalated, closed...), oldest first, at most `limit`. */
  alertEvents(id: string, limit: number): Promise<OverseerEvent[]>;
  /**
   * Stops escalation; with the policy's ack timeout the alert re-triggers if not closed by then.
   * ALERT_NOT_FOUND; ALERT_INVALID_TRANSITION (details.status) unless triggered; VERSION_CONFLICT
   * on an `expectedVersion` mismatch. Appends `alert.acknowledged` (with `note`, if given).
   */
  acknowledgeAlert(id: string, by: string, expectedVersion?: number, note?: string | null): Promise<Alert>;
  /** Final. ALERT_NOT_FOUND; ALERT_INVALID_TRANSITION when closed already; VERSION_CONFLICT. Appends `alert.closed`. */
  closeAlert(id: string, by: string, reason?: string | null, expectedVersion?: number): Promise<Alert>;
  /**
   * Notifies the next step now, whatever its delay (the last step again when none is left), and
   * triggers an acknowledged alert again. ALERT_NOT_FOUND; ALERT_INVALID_TRANSITION when closed.
   * Appends `alert.escalated` with `by`. VERSION_CONFLICT on an `expectedVersion` mismatch.
   */
  escalateAlertNow(id: string, by: string, expectedVersion?: number): Promise<AlertEscalation>;
  /**
   * The escalation watchdog: applies what is due at the store's now on up to `limit` open
   * alerts (default 100), soonest first: a triggered alert's next step, or an acknowledged
   * alert's ack timeout (re-triggered, escalating from the first step). Each due step is applied
   * exactly once however many processes call this at the same moment, and its notifications are
   * recorded as planned in the same transaction.
   */
  claimDueEscalations(limit?: number): Promise<AlertEscalation[]>;
  /**
   * A planned notification's outcome; a sent one may carry the sent message's `receipt` (a
   * Telegram message with buttons), kept so its copies can be updated once the alert is settled.
   * ALERT_NOT_FOUND (details.notificationId) for an unknown id.
   */
  recordNotification(
    id: number,
    status: "sent" | "failed",
    error?: string | null,
    receipt?: NotificationReceipt | null,
  ): Promise<AlertNotification>;
  /**
   * Notification `id`'s send failed for good, and its channel names a fallback: plans the same
   * step and round for `target` at once (`fallbackFor` = `id`) and appends `alert.fallback`. Once
   * per failed notification: a second call returns the first's. Null when the alert is no longer
   * open. ALERT_NOT_FOUND for an unknown id.
   */
  planFallback(id: number, target: string): Promise<AlertNotification | null>;
  /** Epoch ms when the earliest open alert's next step or ack timeout is due, or null: the watchdog's sleep. */
  nextEscalationAt(): Promise<number | null>;
  /** The alert's escalation timeline, oldest first. */
  listAlertNotifications(alertId: string): Promise<AlertNotification[]>;
  /** Up to `limit` planned (not yet sent or failed) notifications of open alerts, oldest first. */
  listPlannedNotifications(limit: number): Promise<AlertNotification[]>;

  // Heartbeats (see core/heartbeat.ts): outside jobs ping by name; one quiet past its interval raises an alert
  /**
   * Makes the stored heartbeats match `defs` (a config file's, policies resolved): new names are
   * added, owed their first ping an interval from now; a changed interval or policy is updated
   * (the due time recomputed from the last ping, or the first sync); names missing from `defs`
   * are deleted, closing a late one's open alert. INVALID_ARGUMENT for a bad name or interval.
   * Idempotent: several processes may sync the same config at once.
   */
  syncHeartbeats(defs: readonly HeartbeatDefinition[]): Promise<SyncHeartbeatsResult>;
  /**
   * A ping: the heartbeat is ok and owed its next ping an interval from now. A late one's alert
   * is closed (by "heartbeat", as `closeAlert`; one a person closed already is left as it is) in
   * the same transaction. HEARTBEAT_NOT_FOUND for an unknown name.
   */
  pingHeartbeat(name: string): Promise<PingHeartbeatResult>;
  /**
   * The heartbeat watchdog: each ok heartbeat whose due time has come (at the store's now, exactly
   * at it) turns late and raises an alert (source `heartbeat`, dedup key `heartbeat:<name>`, its
   * policy), exactly once however many processes call this at the same moment. Up to `limit`
   * (default 100), soonest due first.
   */
  checkHeartbeats(limit?: number): Promise<LateHeartbeat[]>;
  /** Epoch ms when the earliest ok heartbeat turns late, or null: a read, so the watchdog writes only when due. */
  nextHeartbeatDue(): Promise<number | null>;
  /** Every heartbeat, by name. */
  listHeartbeats(): Promise<Heartbeat[]>;

  // Durable handlers (see core/durable.ts): steps, sleeps and signal waits of a running job
  /** The job's stored steps, oldest first. */
  listJobSteps(jobId: string): Promise<StepRecord[]>;
  /**
   * Stores a step's result for the job this lease runs. The first write of a name wins: a
   * second one returns the stored record unchanged. Null when the lease is no longer held.
   */
  recordStep(lease: Lease, step: { name: string; kind: StepKind; resultJson: string }): Promise<StepRecord | null>;
  /**
   * A sleep: stores step `step` with its end time (`until`, or now + `delayMs` on the store's
   * clock) unless it is stored already, then parks the job until then if that is still ahead:
   * state `scheduled` at `until`, the lease released, the attempt recorded as `parked` and
   * given back (max attempts + 1), `job.parked` appended. `parked: false` when the time has come.
   * Null when the lease is no longer held.
   */
  sleepJob(
    lease: Lease,
    sleep: { step: string; delayMs?: number; until?: number },
  ): Promise<{ parked: boolean; until: string } | null>;
  /**
   * A wait for a signal, as step `step`. In order: a wait of this step whose deadline passed
   * stores the step as null (timed out); one still ahead parks the job again until its deadline;
   * else the oldest unconsumed signal named `name` (for this job or for any) whose payload
   * matches `match` is consumed and stored as the step; else the wait is stored and the job
   * parks until now + `timeoutMs` (as `sleepJob` parks). Null when the lease is no longer held.
   */
  waitForSignal(
    lease: Lease,
    wait: { step: string; name: string; match: Record<string, unknown> | null; timeoutMs: number },
  ): Promise<{ kind: "done"; step: StepRecord } | { kind: "parked"; until: string } | null>;
  /**
   * Stores a signal and, in the same transaction, delivers it to the oldest parked job waiting
   * for it (its name, its `jobId` if given, and the wait's `match`): the wait's step gets the
   * payload and the job is queued at once (`job.signalled`). A signal nobody waits for is kept
   * unconsumed and matched by the first wait that asks for it. Appends `signal.received`.
   */
  postSignal(signal: NewSignal): Promise<{ signal: SignalRecord; deliveredTo: string | null }>;

  // Runs (see core/run.ts and core/run-state.ts)
  /** Stores a queued run and appends `run.queued`. */
  createRun(run: NewRun): Promise<Run>;
  getRun(id: string): Promise<Run | null>;
  /** Newest first. */
  listRuns(filter?: RunFilter): Promise<Run[]>;
  /** How many runs the filter matches (paging fields ignored), counting no further than `cap`. */
  countMatchingRuns(filter: RunFilter, cap: number): Promise<number>;
  countRuns(): Promise<Record<RunState, number>>;
  /**
   * A person's pause, resume or cancel, decided by `controlAction` on the state read inside the
   * transaction. RUN_NOT_FOUND; RUN_INVALID_TRANSITION (details.state) when the state does not
   * allow it; VERSION_CONFLICT on an `expectedVersion` mismatch. Appends the transition's event
   * with `by`, and wakes `onChange` listeners (the run's supervisor acts on it).
   */
  controlRun(id: string, request: RunControlRequest): Promise<{ run: Run; transition: RunTransitionName }>;
  /**
   * Takes the lease of one run for `workerId`, oldest first: a queued run (transition `start`),
   * or an unfinished started run whose lease expired or was released (a takeover: its turn
   * still `running`, if any, is closed as `lost` with `run.turn_lost`, and `run.taken_over` is
   * appended). Null when there is none.
   */
  claimRun(workerId: string, leaseMs: number): Promise<ClaimedRun | null>;
  /** Extends the lease; returns the run as it is now, or null if the lease is no longer held. */
  heartbeatRun(lease: RunLease, leaseMs: number): Promise<Run | null>;
  /**
   * Applies a supervisor's write in one transaction (see RunUpdate). Null, having written
   * nothing, when the lease is no longer held. RUN_INVALID_TRANSITION, having written nothing,
   * when `transition` is not legal from the run's current state (a person's control came first).
   */
  updateRun(lease: RunLease, update: RunUpdate): Promise<Run | null>;
  /** Gives the lease up (shutdown): the run keeps its state and any node may claim it at once. Appends `run.released`. */
  releaseRun(lease: RunLease): Promise<void>;
  /**
   * Stores a person's message for the run's next turn (RUN_NOT_FOUND, RUN_FINISHED,
   * RUN_TAKES_NO_MESSAGES); `run.message_sent` in the same transaction.
   */
  sendRunMessage(message: { id: string; runId: string; body: string; sentBy: string | null }): Promise<RunMessage>;
  /** A run's last 500 messages, oldest first; `turn` is null for those still waiting for a turn. */
  listRunMessages(runId: string): Promise<RunMessage[]>;
  /** The messages waiting for the run's next turn (at most 50), oldest first. */
  waitingRunMessages(runId: string): Promise<RunMessage[]>;
  /** The ids of the runs started again from this one (`NewRun.rerunOf`), oldest first. */
  listReruns(runId: string): Promise<string[]>;
  listRunTurns(runId: string): Promise<RunTurn[]>;
  /**
   * Bytes [start, end) of a turn's stored output (end clamped to its size) and its size.
   * Null when the run has no such turn.
   */
  readRunOutput(
    runId: string,
    turn: number,
    start: number,
    end?: number,
  ): Promise<{ data: Buffer; size: number } | null>;

  // Claims (see core/claim.ts): named leases with a TTL, at most one holder per key at any moment
  /**
   * Takes the claim on `key` for `owner` for `ttlMs` (1 s to 24 h): a free key (never taken,
   * released, or expired: a takeover) gets a new holder and a larger fencing token, appending
   * `claim.taken`; the holder's own retake refreshes it (`acquired: false`, no event).
   * CLAIM_HELD (details key, owner, expiresAt) when another owner holds it; INVALID_ARGUMENT for a
   * bad key, owner, TTL or holder field. `holder`: the role, agent and fingerprint the claim records,
   * as this take gives them (those left out are null, on a retake too).
   */
  takeClaim(key: string, owner: string, ttlMs: number, holder?: ClaimHolder): Promise<TakeClaimResult>;
  /** Extends the holder's claim to now + `ttlMs`, same token, no event. CLAIM_NOT_HELD (details: the holder, if any) otherwise. */
  refreshClaim(key: string, owner: string, ttlMs: number): Promise<Claim>;
  /** Frees the key at once and appends `claim.released`; returns the claim as it was. CLAIM_NOT_HELD unless `owner` holds it. */
  releaseClaim(key: string, owner: string): Promise<Claim>;
  /** The claim on `key` if someone holds it now; null if it is free. */
  getClaim(key: string): Promise<Claim | null>;
  /** The claims held now, by key. */
  listClaims(): Promise<Claim[]>;
  /**
   * Who held claims and when: the `claim.taken` and `claim.released` events, newest first, of
   * every key or of `query.key` only, read from an index of those events alone (however many
   * other events the log holds). Retention deletes them with the rest of the log.
   */
  claimHistory(query?: ClaimHistoryQuery): Promise<OverseerEvent[]>;

  // The execution switch (see core/execution.ts)
  /** The node's switch, or null while it was never set (then `dry-run` applies). */
  getExecution(): Promise<ExecutionSwitch | null>;
  /**
   * Sets the switch and appends `execution.changed` (from, to, by, reason) in one transaction; a
   * change to the mode it has already writes nothing. VERSION_CONFLICT when `expectedVersion`
   * is given and differs. `unsetMode`: the mode in force while the switch was never set (the
   * node's config's; default dry-run), the audit's `from` for a first change.
   */
  setExecution(change: ExecutionChange, unsetMode?: ExecutionMode): Promise<ExecutionSwitch>;

  // On-call overrides (see core/oncall.ts): who stands in for a rotation's own person
  /**
   * Stores an override and appends `oncall.override_created`. INVALID_ARGUMENT unless it ends
   * after it starts, after now, and within 366 days. Whether the rotation and the person exist
   * is the config's to say (the SDK checks before calling this).
   */
  createOncallOverride(input: NewOncallOverride): Promise<OncallOverride>;
  /** Cancels one that has not ended (OVERRIDE_NOT_FOUND, OVERRIDE_ENDED) and appends `oncall.override_cancelled`. */
  cancelOncallOverride(id: number, by: string): Promise<OncallOverride>;
  /** The overrides of these rotations in force now or later, not cancelled, soonest first. */
  currentOncallOverrides(rotations: readonly string[]): Promise<OncallOverride[]>;
  /** Every override, cancelled and ended ones too, newest first (`beforeId`: the next page). */
  listOncallOverrides(filter: { rotation?: string; beforeId?: number; limit: number }): Promise<OncallOverride[]>;

  // Lessons (see core/lesson.ts): what finished sessions taught, found again by full-text search
  /** Stores a validated lesson with its tags, or returns the lesson already stored under its `key`. */
  recordLesson(lesson: NewLesson): Promise<Lesson>;
  getLesson(id: string): Promise<Lesson | null>;
  /** The lesson recorded under an idempotency key, if any. */
  getLessonByKey(key: string): Promise<Lesson | null>;
  /** Newest first. */
  listLessons(filter: LessonFilter): Promise<Lesson[]>;
  /** False when no lesson has the id. */
  deleteLesson(id: string): Promise<boolean>;
  /**
   * Lessons ranked by full-text similarity to the query's words, with the words each matched.
   * INVALID_ARGUMENT when a tag filtered on is one no lesson carries.
   */
  similarLessons(query: ParsedSimilarQuery): Promise<SimilarLesson[]>;
  /** Ranks the newest `candidates` lessons that have a vector by cosine similarity to `vector`. */
  lessonsByEmbedding(
    query: ParsedSimilarQuery,
    vector: readonly number[],
    candidates: number,
  ): Promise<SimilarLesson[]>;
  /** How many numbers the stored lesson vectors have; null when none has one. */
  lessonEmbeddingDimensions(): Promise<number | null>;

  // Retention
  prune(policy: RetentionPolicy, options?: PruneOptions): Promise<PruneResult>;
}
