/** Row shapes shared by both backends (same tables and columns) and their mapping to domain records. */
import type {
  Attempt,
  AttemptOutcome,
  BackoffPolicy,
  Job,
  JobError,
  JobState,
  OverseerEvent,
  TraceContext,
  WorkerRecord,
  WorkerStatus,
} from "../core/types.js";

export interface JobRow {
  id: string;
  task: string;
  queue: string;
  state: JobState;
  payload: string;
  result: string | null;
  priority: number;
  run_at: number;
  attempts: number;
  max_attempts: number;
  backoff: string;
  idempotency_key: string | null;
  idempotency_ttl_ms: number;
  idempotency_expires_at: number | null;
  concurrency_key: string | null;
  concurrency_limit: number | null;
  concurrency_on_limit: string | null;
  rate_key: string | null;
  rate_limit: number | null;
  rate_period_ms: number | null;
  enqueued_by: string | null;
  /** The enqueue's own attempt timeout (migration 018). */
  timeout_ms: number | null;
  /** The W3C trace context it was enqueued under, as JSON (migration 030; see new-job.ts). */
  trace_context: string | null;
  progress: string | null;
  last_error: string | null;
  lease_owner: string | null;
  lease_token: number;
  lease_expires_at: number | null;
  cancel_requested: number;
  /** 1 while a worker holds the job claimed ahead of a free slot, its handler not started (migration 015). */
  held?: number;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  version: number;
}

/** The jobs table's columns, in the order raw (array) reads of hot queries return them. */
export const JOB_COLUMNS = [
  "id",
  "task",
  "queue",
  "state",
  "payload",
  "result",
  "priority",
  "run_at",
  "attempts",
  "max_attempts",
  "backoff",
  "idempotency_key",
  "idempotency_ttl_ms",
  "idempotency_expires_at",
  "concurrency_key",
  "concurrency_limit",
  "concurrency_on_limit",
  "rate_key",
  "rate_limit",
  "rate_period_ms",
  "progress",
  "last_error",
  "lease_owner",
  "lease_token",
  "lease_expires_at",
  "cancel_requested",
  "created_at",
  "started_at",
  "finished_at",
  "version",
  "enqueued_by",
  "timeout_ms",
  "trace_context",
] as const satisfies ReadonlyArray<keyof JobRow>;

/**
 * A row read as an array (in JOB_COLUMNS order) as a JobRow. Building the object here, with one
 * fixed shape, costs about half of what the driver's per-row objects cost on the claim path.
 */
export function jobRowFromArray(v: readonly unknown[]): JobRow {
  return {
    id: v[0] as string,
    task: v[1] as string,
    queue: v[2] as string,
    state: v[3] as JobState,
    payload: v[4] as string,
    result: v[5] as string | null,
    priority: v[6] as number,
    run_at: v[7] as number,
    attempts: v[8] as number,
    max_attempts: v[9] as number,
    backoff: v[10] as string,
    idempotency_key: v[11] as string | null,
    idempotency_ttl_ms: v[12] as number,
    idempotency_expires_at: v[13] as number | null,
    concurrency_key: v[14] as string | null,
    concurrency_limit: v[15] as number | null,
    concurrency_on_limit: v[16] as string | null,
    rate_key: v[17] as string | null,
    rate_limit: v[18] as number | null,
    rate_period_ms: v[19] as number | null,
    progress: v[20] as string | null,
    last_error: v[21] as string | null,
    lease_owner: v[22] as string | null,
    lease_token: v[23] as number,
    lease_expires_at: v[24] as number | null,
    cancel_requested: v[25] as number,
    created_at: v[26] as number,
    started_at: v[27] as number | null,
    finished_at: v[28] as number | null,
    version: v[29] as number,
    enqueued_by: v[30] as string | null,
    timeout_ms: v[31] as number | null,
    trace_context: v[32] as string | null,
  };
}

export interface AttemptRow {
  job_id: string;
  number: number;
  worker_id: string;
  started_at: number;
  finished_at: number | null;
  outcome: AttemptOutcome;
  error: string | null;
}

export interface EventRow {
  seq: number;
  at: number;
  kind: string;
  job_id: string | null;
  /** Set on events about a run (migration 005). */
  run_id: string | null;
  worker_id: string | null;
  data: string;
}

export interface WorkerRow {
  id: string;
  name: string;
  host: string;
  pid: number;
  queues: string | null;
  tasks: string;
  concurrency: number;
  status: WorkerStatus;
  started_at: number;
  heartbeat_at: number;
  stopped_at: number | null;
  command: "quiet" | "stop" | null;
  command_at: number | null;
  processed: number;
  failed: number;
}

/**
 * Times written lately: the rows of a batch share a handful of them (their enqueue's, their
 * claim's), and on a worker's hot path `toISOString` took 5 % of the time.
 */
const recentIso = new Map<number, string>();
const RECENT_ISO = 64;

export function iso(ms: number): string {
  let text = recentIso.get(ms);
  if (text === undefined) {
    text = new Date(ms).toISOString();
    if (recentIso.size >= RECENT_ISO) recentIso.clear();
    recentIso.set(ms, text);
  }
  return text;
}

/** Most jobs share a handful of backoff policies: parse each distinct one once. */
const backoffs = new Map<string, BackoffPolicy>();
function parseBackoff(text: string): BackoffPolicy {
  let policy = backoffs.get(text);
  if (!policy) {
    policy = Object.freeze(JSON.parse(text)) as BackoffPolicy;
    if (backoffs.size < 1_000) backoffs.set(text, policy);
  }
  return policy;
}
/** A stored `trace_context` (see `traceContextJson` in new-job.ts). */
export function toTraceContext(text: string | null | undefined): TraceContext | null {
  if (text == null) return null;
  const stored = JSON.parse(text) as { traceparent: string; tracestate?: string };
  return { traceparent: stored.traceparent, tracestate: stored.tracestate ?? null };
}
export const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));
const jsonOrNull = (text: string | null): unknown => (text === null ? null : JSON.parse(text));

export function toJob(r: JobRow): Job {
  return {
    id: r.id,
    task: r.task,
    queue: r.queue,
    state: r.state,
    payload: JSON.parse(r.payload),
    result: jsonOrNull(r.result),
    priority: r.priority,
    runAt: iso(r.run_at),
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    backoff: parseBackoff(r.backoff),
    idempotencyKey: r.idempotency_key,
    concurrency:
      r.concurrency_key === null
        ? null
        : {
            key: r.concurrency_key,
            limit: r.concurrency_limit ?? 1,
            onLimit: r.concurrency_on_limit === "reject" ? "reject" : "wait",
          },
    rateLimit:
      r.rate_key === null ? null : { key: r.rate_key, limit: r.rate_limit ?? 1, periodMs: r.rate_period_ms ?? 1 },
    enqueuedBy: r.enqueued_by,
    timeoutMs: r.timeout_ms ?? null,
    traceContext: toTraceContext(r.trace_context),
    progress: jsonOrNull(r.progress),
    lastError: jsonOrNull(r.last_error) as JobError | null,
    leaseOwner: r.lease_owner,
    leaseExpiresAt: isoOrNull(r.lease_expires_at),
    cancelRequested: r.cancel_requested === 1,
    createdAt: iso(r.created_at),
    startedAt: isoOrNull(r.started_at),
    finishedAt: isoOrNull(r.finished_at),
    version: r.version,
  };
}

export function toAttempt(r: AttemptRow): Attempt {
  return {
    jobId: r.job_id,
    number: r.number,
    workerId: r.worker_id,
    startedAt: iso(r.started_at),
    finishedAt: isoOrNull(r.finished_at),
    outcome: r.outcome,
    error: jsonOrNull(r.error) as JobError | null,
  };
}

export function toEvent(r: EventRow): OverseerEvent {
  return {
    seq: r.seq,
    at: iso(r.at),
    kind: r.kind,
    jobId: r.job_id,
    runId: r.run_id,
    workerId: r.worker_id,
    data: JSON.parse(r.data) as Record<string, unknown>,
  };
}

export function toWorker(r: WorkerRow): WorkerRecord {
  return {
    id: r.id,
    name: r.name,
    host: r.host,
    pid: r.pid,
    queues: r.queues === null ? null : (JSON.parse(r.queues) as string[]),
    tasks: JSON.parse(r.tasks) as string[],
    concurrency: r.concurrency,
    status: r.status,
    startedAt: iso(r.started_at),
    heartbeatAt: iso(r.heartbeat_at),
    stoppedAt: isoOrNull(r.stopped_at),
    command: r.command,
    commandAt: isoOrNull(r.command_at),
    processed: Number(r.processed),
    failed: Number(r.failed),
  };
}
