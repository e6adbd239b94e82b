/**
 * What inserting a new job means, apart from the SQL that does it: its first state and run time,
 * the insert's values (in the same column order in both backends), its `job.enqueued`
 * event, the `Job` the caller gets back, and the refusal when a rejecting concurrency key is full.
 * Each backend's insert-job.ts runs its own statements around these.
 */
import { OverseerError } from "../core/errors.js";
import type { NewJob } from "../core/job-options.js";
import type { ConcurrencyRule, Job, JobState, TraceContext } from "../core/types.js";
import { iso, type JobRow } from "./rows.js";

export interface Placement {
  state: JobState;
  runAt: number;
}

/** Queued now, or scheduled for later: the store's `now` decides. */
export function placeNewJob(job: NewJob, now: number): Placement {
  const runAt = job.runAtMs ?? now + job.delayMs;
  return { runAt, state: runAt > now ? "scheduled" : "queued" };
}

/** The refusal of `onLimit: "reject"` when `unfinished` jobs already hold the key. */
export function concurrencyLimitReached(job: NewJob, rule: ConcurrencyRule, unfinished: number): OverseerError {
  return new OverseerError(
    "CONCURRENCY_LIMIT_REACHED",
    `concurrency key "${rule.key}" already has ${unfinished} unfinished job(s), its limit is ${rule.limit}; task "${job.task}" rejects jobs over the limit`,
    { key: rule.key, limit: rule.limit, task: job.task },
  );
}

/** The columns of a new job, in the order of `insertJobParams`, in both backends. */
export const NEW_JOB_COLUMNS = [
  "id",
  "task",
  "queue",
  "state",
  "payload",
  "priority",
  "run_at",
  "max_attempts",
  "backoff",
  "idempotency_key",
  "idempotency_ttl_ms",
  "concurrency_key",
  "concurrency_limit",
  "concurrency_on_limit",
  "rate_key",
  "rate_limit",
  "rate_period_ms",
  "enqueued_by",
  "timeout_ms",
  "created_at",
  "trace_context",
] as const;

/**
 * NEW_JOB_COLUMNS without `trace_context`, last of them: an insert of jobs none of which is
 * traced (all of them, unless an OpenTelemetry SDK is installed) leaves it to its default, null,
 * and sends what it sent before jobs had one.
 */
export const UNTRACED_JOB_COLUMNS = NEW_JOB_COLUMNS.slice(0, -1) as readonly (typeof NEW_JOB_COLUMNS)[number][];

/**
 * A new job's column values, in NEW_JOB_COLUMNS order; with `traced` false, in
 * UNTRACED_JOB_COLUMNS order (the job's trace context left out, to be null).
 */
export function insertJobParams<Time = number>(
  job: NewJob,
  { state, runAt }: { state: JobState; runAt: Time },
  now: Time,
  traced = true,
): Array<string | number | null | Time> {
  const c = job.concurrency;
  const params: Array<string | number | null | Time> = [
    job.id,
    job.task,
    job.queue,
    state,
    job.payloadJson,
    job.priority,
    runAt,
    job.maxAttempts,
    backoffJson(job.backoff),
    job.idempotencyKey,
    job.idempotencyTtlMs,
    c?.key ?? null,
    c?.limit ?? null,
    c?.onLimit ?? null,
    job.rateLimit?.key ?? null,
    job.rateLimit?.limit ?? null,
    job.rateLimit?.periodMs ?? null,
    job.enqueuedBy,
    job.timeoutMs,
    now,
  ];
  if (traced) params.push(traceContextJson(job.traceContext));
  return params;
}

/** How `trace_context` keeps a trace context: JSON, its `tracestate` left out when it has none. */
export function traceContextJson(context: TraceContext | null): string | null {
  if (context === null) return null;
  return JSON.stringify(context.tracestate === null ? { traceparent: context.traceparent } : context);
}

/** The data of a new job's `job.enqueued` event. A queued job's does not depend on the time. */
export function enqueuedEventData(job: NewJob, { state, runAt }: Placement): object {
  const eventData: Record<string, unknown> = { task: job.task, queue: job.queue, priority: job.priority };
  if (state === "scheduled") eventData.runAt = iso(runAt);
  return eventData;
}

/**
 * The data of `job.deduplicated`: an enqueue of `job` found `existing` under its idempotency key
 * and returned it; the event is on the existing job's timeline, with its state then and who
 * enqueued again.
 */
export function deduplicatedEventData(existing: JobRow, job: NewJob): object {
  return { task: existing.task, queue: existing.queue, state: existing.state, enqueuedBy: job.enqueuedBy };
}

/** The inserted job, as `enqueue` returns it, and the data of its `job.enqueued` event. */
export function enqueuedJob(job: NewJob, placement: Placement, now: number): { job: Job; eventData: object } {
  const { state, runAt } = placement;
  const createdAt = iso(now);
  const runAtIso = runAt === now ? createdAt : iso(runAt);
  return {
    eventData: enqueuedEventData(job, placement),
    job: {
      id: job.id,
      task: job.task,
      queue: job.queue,
      state,
      payload: JSON.parse(job.payloadJson),
      result: null,
      priority: job.priority,
      runAt: runAtIso,
      attempts: 0,
      maxAttempts: job.maxAttempts,
      backoff: job.backoff,
      idempotencyKey: job.idempotencyKey,
      concurrency: job.concurrency,
      rateLimit: job.rateLimit,
      enqueuedBy: job.enqueuedBy,
      timeoutMs: job.timeoutMs,
      traceContext: job.traceContext,
      progress: null,
      lastError: null,
      leaseOwner: null,
      leaseExpiresAt: null,
      cancelRequested: false,
      createdAt,
      startedAt: null,
      finishedAt: null,
      version: 1,
    },
  };
}

/** Most jobs share a few backoff policies (often the default object itself): serialise each once. */
const backoffTexts = new WeakMap<object, string>();
function backoffJson(policy: object): string {
  let text = backoffTexts.get(policy);
  if (text === undefined) {
    text = JSON.stringify(policy);
    backoffTexts.set(policy, text);
  }
  return text;
}
