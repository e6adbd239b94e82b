/**
 * The domain model of Overseer. These words are used everywhere, with no synonyms:
 *
 * - **task**: a named kind of work with one handler (`send-sms`). Defined with `defineTask`.
 * - **job**: one request to run a task with a payload. Jobs are durable: once `enqueue`
 *   returns, the job is committed and survives any crash.
 * - **queue**: a named lane jobs wait in (`default` unless told). Workers choose queues;
 *   a paused queue is not claimed from.
 * - **attempt**: one execution of a job by a worker. Every attempt is recorded with its
 *   outcome and error. Attempts released at shutdown, or parked by a durable handler's sleep or
 *   wait, do not count against `maxAttempts`.
 * - **lease**: the right to run a job, held by one worker until an expiry and identified by a
 *   fencing token. Heartbeats extend it; only the holder of the current token may finish the job.
 * - **worker**: a process-level loop that claims jobs and runs their handlers, registered in the
 *   store with heartbeats so that others can tell when it is gone (`lost`).
 * - **event**: an append-only record of something that happened, with a global sequence number.
 * - **schedule**: a named recurring task: a cron pattern in a time zone, and the task and payload
 *   of the job to enqueue each time it fires. Defined in a config file or through the SDK.
 * - **tick**: one instant a schedule's pattern names (epoch ms). Each tick enqueues at most one
 *   job, however many schedulers run.
 * - **scheduler**: a background loop that fires due ticks; any number may run on one database.
 * - **token**: a bearer secret for the HTTP API with one scope; only its SHA-256 hash is stored.
 * - **held job**: a job a worker claimed ahead of a free slot (`prefetch`); leased, but its
 *   attempt starts only when it takes a slot, so a worker that dies holding it costs it nothing.
 * - **step**: a named piece of a durable handler (`ctx.step`, and its sleeps and waits), run once
 *   per job however often the handler runs again; its result is stored the first time.
 * - **approval**: a stored request for a person's decision (approve or deny) that a job waits on,
 *   parked in `awaiting_approval` without holding a worker, until it is settled or times out.
 * - **run**: a supervised loop of a command (an agent CLI), started from a profile in the config.
 * - **turn**: one execution of a run's command, in its own process group; a run is its turns.
 * - **alert**: something that needs a person (a job dead, a worker lost, an approval waiting...),
 *   raised once and escalated through a policy's steps until someone acknowledges or closes it.
 * - **notification**: one message about an alert to one target through one channel; each has its
 *   own id, the same on every retry of it.
 * - **claim**: a named lease with a TTL that any program may take, so that at most one owner works
 *   on a thing at a time; each new holder gets a larger fencing token.
 * - **heartbeat**: a named check-in that must arrive within its interval, or an alert is raised.
 * - **node**: one Overseer process (`overseer start` or `overseer worker`): a worker, and whatever
 *   else its options run (scheduler, run supervisor, HTTP server, alert delivery).
 *
 * Timestamps cross the API as ISO-8601 UTC strings; ids are time-sortable ULIDs.
 */
import type { QueueBreaker } from "./breaker.js";

/** `awaiting_approval`: parked, leaseless, until a person (or the watchdog) settles its approval request. */
export type JobState = "scheduled" | "queued" | "running" | "awaiting_approval" | "succeeded" | "dead" | "cancelled";

export const JOB_STATES: readonly JobState[] = [
  "scheduled",
  "queued",
  "running",
  "awaiting_approval",
  "succeeded",
  "dead",
  "cancelled",
];

/** States a job never leaves on its own: only a person (retry, discard) moves it on. */
export const FINISHED_STATES: readonly JobState[] = ["succeeded", "dead", "cancelled"];

export type BackoffPolicy =
  | { type: "exponential"; baseMs: number; capMs: number; jitter: number }
  | { type: "fixed"; delayMs: number; jitter: number }
  /** The delay after failed attempt n is `delaysMs[n - 1]`; past the list, its last. */
  | { type: "schedule"; delaysMs: number[]; jitter: number };

/** The error kept for every failed attempt. `retryable: false` sends the job straight to `dead`. */
export interface JobError {
  code: string;
  message: string;
  retryable: boolean;
  /** The thrown error's class name (`TimeoutError`), when it differs from `code`. Retry policies match on it. */
  type?: string;
  /** How sure the failed attempt was (0-1), from the thrown error's `confidence`; see `minConfidence`. */
  confidence?: number;
  stack?: string;
}

export interface ConcurrencyRule {
  /** Jobs sharing a key share the limit, e.g. `business:42`. */
  key: string;
  /** At most this many jobs with the key run at once. */
  limit: number;
  /** `wait` (default): the rest wait their turn. `reject`: enqueue fails once the key is full. */
  onLimit: "wait" | "reject";
}

export interface RateLimitRule {
  /** Jobs sharing a key share the window; defaults to the task name. */
  key: string;
  /** At most this many jobs start per window... */
  limit: number;
  /** ...of this many milliseconds (fixed windows aligned to the epoch). */
  periodMs: number;
}

export interface Job {
  id: string;
  task: string;
  queue: string;
  state: JobState;
  payload: unknown;
  result: unknown;
  priority: number;
  /** When the job becomes (or became) eligible to run. */
  runAt: string;
  /** Counted attempts since the job was enqueued or last retried by hand. */
  attempts: number;
  maxAttempts: number;
  backoff: BackoffPolicy;
  idempotencyKey: string | null;
  concurrency: ConcurrencyRule | null;
  rateLimit: RateLimitRule | null;
  /** Who enqueued it (an API token's name), if anyone said; they may not approve its requests. */
  enqueuedBy: string | null;
  /** How long one attempt may run, in ms, if the enqueue said; else the task's default applies (see TaskDefaults.timeout). */
  timeoutMs: number | null;
  /**
   * The W3C trace context of the span it was enqueued under (see engine/tracing.ts): each
   * attempt's span is its child. Null when it was enqueued outside a trace, or with no
   * OpenTelemetry SDK installed.
   */
  traceContext: TraceContext | null;
  progress: unknown;
  lastError: JobError | null;
  leaseOwner: string | null;
  leaseExpiresAt: string | null;
  cancelRequested: boolean;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** Bumped on every write; later issues use it for optimistic concurrency. */
  version: number;
  /**
   * Not stored: whether a worker has ever registered this task on this database (or the process
   * that answered defines it). The SDK's enqueue sets it to false on a job nothing can run yet
   * and leaves it out otherwise; the HTTP API's job records always carry it.
   */
  taskRegistered?: boolean;
}

/** A span's W3C trace context, as the `traceparent` and `tracestate` headers carry it. */
export interface TraceContext {
  /** `00-<trace id>-<parent span id>-<flags>`. */
  traceparent: string;
  /** Vendors' entries, or null when the span had none. */
  tracestate: string | null;
}

/** `parked`: a durable handler's sleep or wait ended the execution; like `released`, it does not count. */
export type AttemptOutcome = "running" | "succeeded" | "failed" | "lost" | "released" | "cancelled" | "parked";

export interface Attempt {
  jobId: string;
  /** 1, 2, 3... over the whole life of the job (released attempts included). */
  number: number;
  workerId: string;
  startedAt: string;
  finishedAt: string | null;
  outcome: AttemptOutcome;
  error: JobError | null;
}

/** A job handed to a worker: the job plus the lease that lets it finish the job. */
export interface ClaimedJob {
  job: Job;
  lease: Lease;
}

export interface Lease {
  jobId: string;
  workerId: string;
  /** Fencing token: grows with every claim of the job; a stale token cannot finish the job. */
  token: number;
  expiresAt: string;
}

/**
 * `quiet`: it claims nothing more and finishes the jobs it runs (an operator asked, see
 * `WorkerCommand`); `stopping`: it is finishing them to stop.
 */
export type WorkerStatus = "active" | "quiet" | "stopping" | "stopped" | "lost";

/**
 * What an operator asks of a worker, which it reads at its next heartbeat: `quiet` (claim
 * nothing more, finish what it runs), `stop` (quiet, then stop gracefully) or `resume` (a quiet
 * worker claims again). Stored as the worker's pending command, `resume` clearing it.
 */
export type WorkerCommand = "quiet" | "stop" | "resume";

/** A job a worker holds a lease on now (see `Store.listWorkerJobs`). */
export interface WorkerJob {
  id: string;
  task: string;
  queue: string;
  workerId: string;
  /** When its attempt started; null while it is held (claimed ahead of a free slot, not started). */
  startedAt: string | null;
  held: boolean;
}

export interface WorkerRecord {
  id: string;
  name: string;
  host: string;
  pid: number;
  queues: string[] | null;
  tasks: string[];
  concurrency: number;
  status: WorkerStatus;
  startedAt: string;
  heartbeatAt: string;
  stoppedAt: string | null;
  /** The command it has been asked to follow and not taken back (`resume` clears it), and when. */
  command: "quiet" | "stop" | null;
  commandAt: string | null;
  /** Attempts it ran to an outcome (succeeded or failed), and of those the failed ones, as of its last heartbeat. */
  processed: number;
  failed: number;
}

export interface QueueRecord {
  name: string;
  paused: boolean;
  counts: Record<JobState, number>;
  /** Bumped by every pause or resume; 0 for a queue that was never paused or resumed. */
  version: number;
  /** Its circuit breaker when open or half-open (see core/breaker.ts); null when closed. */
  breaker: QueueBreaker | null;
}

/**
 * What a token may do. `viewer` reads, `operator` also steers work (enqueue, retry, cancel,
 * pause, resume), `admin` may do everything, `metrics` only reads `/metrics`.
 */
export type TokenScope = "admin" | "operator" | "viewer" | "metrics";

export const TOKEN_SCOPES: readonly TokenScope[] = ["admin", "operator", "viewer", "metrics"];

/** A stored token: never the secret itself, only its hash. */
export interface TokenRecord {
  id: string;
  name: string;
  scope: TokenScope;
  /** SHA-256 of the secret, hex. */
  hash: string;
  createdAt: string;
  revokedAt: string | null;
}

export interface OverseerEvent {
  seq: number;
  at: string;
  kind: string;
  jobId: string | null;
  runId: string | null;
  workerId: string | null;
  data: Record<string, unknown>;
}

/** A schedule as a config file defines it, validated; what `syncSchedules` stores. */
export interface ScheduleDefinition {
  name: string;
  /** Five fields, or six with a leading seconds field. */
  cron: string;
  /** IANA time zone the pattern is read in. */
  timezone: string;
  task: string;
  payloadJson: string;
  /** Null: the task's default queue. */
  queue: string | null;
  /** Null: the task's default priority. */
  priority: number | null;
  /** Missed ticks to fire besides the latest one after a pause; 0 skips them. */
  catchUp: number;
  /** The flag a new schedule starts with, and the one applied when this value changes in the config. */
  enabled: boolean;
  /** The fired jobs' attempts; null or absent: the task's default. */
  maxAttempts?: number | null;
  /** The fired jobs' backoff as configured (JSON of a BackoffOption); null or absent: the task's default. */
  backoffJson?: string | null;
}

export interface ScheduleRecord {
  name: string;
  cron: string;
  timezone: string;
  task: string;
  payload: unknown;
  queue: string | null;
  priority: number | null;
  catchUp: number;
  /** The fired jobs' attempts, or null for the task's default. */
  maxAttempts: number | null;
  /** The fired jobs' backoff as configured (a list of delays or a backoff object), or null for the task's default. */
  backoff: unknown;
  enabled: boolean;
  /** The last sync did not include it: it no longer fires, and comes back afresh if re-added. */
  removed: boolean;
  /** The last tick fired (ISO), or null. */
  lastTickAt: string | null;
  /** The next tick it would fire, or null when disabled, removed, or the pattern never fires again. */
  nextRunAt: string | null;
  /** Ticks before this (registration, re-adding or re-enabling) are never fired. */
  activeSince: string;
  createdAt: string;
  updatedAt: string;
}
