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

import type { NewJob } from "../core/job-options.js";
import type { DeadReason } from "../core/retry-policy.js";
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
  WorkerRecord,
} from "../core/types.js";

/** What a backend can do, so callers choose strategies by capability, never by backend name. */
export interface StoreCapabilities {
  /** One writer at a time (SQLite): batch writes rather than parallelise them. Default false. */
  singleWriter: boolean;
  /** `onChange` reports writes made by other processes too (WAL watch, LISTEN/NOTIFY). Default false: poll. */
  crossProcessWakeups: boolean;
  /** Claims can skip rows locked by other claimers (`FOR UPDATE SKIP LOCKED`). Default false. */
  skipLocked: boolean;
}

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
}

export type AttemptResult =
  | { lease: Lease; outcome: "succeeded"; resultJson: string }
  | { lease: Lease; outcome: "retry"; error: JobError; delayMs: number }
  | { lease: Lease; outcome: "dead"; error: JobError; reason: DeadReason }
  | { lease: Lease; outcome: "cancelled"; error: JobError | null }
  /** Shutdown hands the job back; the attempt does not count. */
  | { lease: Lease; outcome: "released" };

export interface HeartbeatResult {
  /** Leases extended, with their new expiry. */
  extended: Lease[];
  /** Jobs whose lease this worker no longer holds: their handlers must stop. */
  lost: string[];
  /** Jobs a person asked to cancel: abort their handlers. */
  cancelRequested: string[];
}

export interface JobFilter {
  states?: readonly JobState[];
  queue?: string;
  task?: string;
  /** Jobs whose id or idempotency key contains this text. */
  search?: string;
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
  workerId?: string | null;
  data?: Record<string, unknown>;
}

export interface EventQuery {
  /** Events with a sequence number greater than this. */
  afterSeq?: number;
  jobId?: string;
  limit?: number;
}

export interface WorkerRegistration {
  id: string;
  name: string;
  host: string;
  pid: number;
  queues: readonly string[] | null;
  tasks: readonly string[];
  concurrency: number;
}

export interface RetentionRule {
  /** Delete finished jobs older than this (by finish time). */
  maxAgeMs?: number;
  /** Keep at most this many, newest first. */
  maxCount?: number;
}

export interface RetentionPolicy {
  jobs: Partial<Record<"succeeded" | "dead" | "cancelled", RetentionRule>>;
  events?: RetentionRule;
}

export interface PruneBatch {
  jobs: Array<{ job: Job; attempts: Attempt[] }>;
  events: OverseerEvent[];
}

export interface PruneResult {
  jobs: Record<"succeeded" | "dead" | "cancelled", number>;
  events: number;
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

export interface FireTickResult {
  /** True when this call enqueued the tick's job; false if it was already fired or is not owed. */
  fired: boolean;
  job: Job | null;
}

export interface Store {
  readonly capabilities: StoreCapabilities;

  /** Brings the schema up to date. Safe to call from several processes at once. */
  migrate(): Promise<{ applied: string[] }>;
  /** The store's clock, in epoch milliseconds. */
  now(): Promise<number>;
  close(): Promise<void>;
  /**
   * Calls `listener` soon after jobs may have become ready (an enqueue, a retry, a resume).
   * With `crossProcessWakeups` this includes other processes' writes. Returns an unsubscribe.
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
  heartbeat(workerId: string, leases: readonly Lease[], leaseMs: number): Promise<HeartbeatResult>;
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
  /** Stores a running job's progress and appends `job.progress`. False if the lease is lost. */
  recordProgress(lease: Lease, progressJson: string): Promise<boolean>;
  /** Earliest run time (epoch ms) of a scheduled job, or null. Lets idle workers sleep until then. */
  nextScheduledAt(): Promise<number | null>;
  /** Jobs whose lease expired go back to run again (or die if out of attempts); the attempt is recorded as lost. */
  recoverExpiredLeases(limit?: number): Promise<Job[]>;

  // Workers
  registerWorker(worker: WorkerRegistration): Promise<void>;
  setWorkerStatus(workerId: string, status: "stopping" | "stopped"): Promise<void>;
  /** Marks workers that have not heartbeated within `staleMs` as lost; returns their ids. */
  markLostWorkers(staleMs: number): Promise<string[]>;
  listWorkers(): Promise<WorkerRecord[]>;

  // Operating
  getJob(id: string): Promise<Job | null>;
  listJobs(filter?: JobFilter): Promise<Job[]>;
  listAttempts(jobId: string): Promise<Attempt[]>;
  countJobs(): Promise<Record<JobState, number>>;
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

  // Tokens (HTTP API authentication)
  /** TOKEN_NAME_TAKEN when an active token has the name. */
  createToken(token: NewToken): Promise<TokenRecord>;
  /** The active (not revoked) token with this hash, or null. */
  findTokenByHash(hash: string): Promise<TokenRecord | null>;
  /** Every token, revoked ones included, oldest first. */
  listTokens(): Promise<TokenRecord[]>;
  /** Revokes the active token of this name and returns it; TOKEN_NOT_FOUND if there is none. */
  revokeToken(name: string): Promise<TokenRecord>;

  // Events
  appendEvents(events: readonly NewEvent[]): Promise<number[]>;
  readEvents(query?: EventQuery): Promise<OverseerEvent[]>;
  lastEventSeq(): Promise<number>;

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

  // Retention
  prune(policy: RetentionPolicy, options?: PruneOptions): Promise<PruneResult>;
}
