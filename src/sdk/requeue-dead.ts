/**
 * Re-queueing dead jobs by the policy in core/requeue-policy.ts: read the jobs that died within
 * the max age, count each one's past re-queues from its `job.requeued` events (no schema
 * change: the event log is the count), decide, then retry each chosen job at the version read
 * and append one `job.requeued` event with the reason, so every re-queue is audited. The same
 * options run from the CLI, the HTTP API and, as the built-in task `overseer.requeue-dead`,
 * from a schedule.
 */
import { parseDuration } from "../core/duration.js";
import { OverseerError } from "../core/errors.js";
import { type RequeueDecision, selectRequeues } from "../core/requeue-policy.js";
import { defineTask, type TaskDefinition } from "../core/task.js";
import type { Job } from "../core/types.js";
import type { Store } from "../store/store.js";

export const REQUEUE_DEAD_TASK = "overseer.requeue-dead";

/** As written by people (CLI flags, HTTP body, a schedule's payload). */
export interface RequeueDeadInput {
  /** Default 3. */
  maxRequeues?: number;
  /** A duration (`72h`) or milliseconds; default 72h. */
  maxAge?: string | number;
  /** Default 10. */
  max?: number;
  /** Only jobs of this queue / task. */
  queue?: string;
  task?: string;
  /** Decide and report, change nothing. */
  dryRun?: boolean;
  /** Recorded on each `job.requeued` event; default "requeue-policy". */
  by?: string;
}

export interface RequeueDeadOptions {
  maxRequeues: number;
  maxAgeMs: number;
  max: number;
  queue: string | null;
  task: string | null;
  dryRun: boolean;
  by: string;
}

export interface RequeueOutcome extends RequeueDecision {
  /** The job is queued again (false in a dry run, or when it changed since it was read). */
  done: boolean;
}

export interface RequeueDeadResult {
  dryRun: boolean;
  /** How many were (dry run: would be) re-queued. */
  requeued: number;
  /** One per dead job inside the max age, in the order decided. */
  jobs: RequeueOutcome[];
}

const MAX_SCAN = 5_000;
const EVENT_PAGE = 1_000;

const integer = (value: unknown, field: string, fallback: number, most: number): number => {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > most) {
    throw new OverseerError(
      "INVALID_ARGUMENT",
      `${field} must be a whole number from 0 to ${most}, got ${JSON.stringify(value)}`,
      {
        field,
      },
    );
  }
  return value;
};

/** Validates options at the boundary, with the defaults of `overseer requeue --dead`. */
export function parseRequeueOptions(input: unknown): RequeueDeadOptions {
  if (input === null || input === undefined) input = {};
  if (typeof input !== "object" || Array.isArray(input)) {
    throw new OverseerError("INVALID_ARGUMENT", "the re-queue options must be an object", { field: "options" });
  }
  const o = input as Record<string, unknown>;
  const known = new Set(["maxRequeues", "maxAge", "max", "queue", "task", "dryRun", "by"]);
  for (const key of Object.keys(o)) {
    if (!known.has(key)) {
      throw new OverseerError(
        "INVALID_ARGUMENT",
        `unknown re-queue option "${key}"; the options are ${[...known].join(", ")}`,
        {
          field: key,
        },
      );
    }
  }
  const text = (value: unknown, field: string): string | null => {
    if (value === undefined || value === null) return null;
    if (typeof value !== "string" || value.length === 0 || value.length > 128) {
      throw new OverseerError("INVALID_ARGUMENT", `${field} must be a name of 1-128 characters`, { field });
    }
    return value;
  };
  if (o.dryRun !== undefined && typeof o.dryRun !== "boolean") {
    throw new OverseerError("INVALID_ARGUMENT", "dryRun must be true or false", { field: "dryRun" });
  }
  const maxAgeMs = parseDuration((o.maxAge ?? "72h") as string | number, "maxAge");
  if (maxAgeMs <= 0) throw new OverseerError("INVALID_ARGUMENT", "maxAge must be more than 0", { field: "maxAge" });
  return {
    maxRequeues: integer(o.maxRequeues, "maxRequeues", 3, 100),
    maxAgeMs,
    max: integer(o.max, "max", 10, 1_000),
    queue: text(o.queue, "queue"),
    task: text(o.task, "task"),
    dryRun: o.dryRun === true,
    by: text(o.by, "by") ?? "requeue-policy",
  };
}

/** How many times the policy re-queued the job before: its `job.requeued` events. */
async function requeuesOf(store: Store, jobId: string): Promise<number> {
  let count = 0;
  let afterSeq = 0;
  for (;;) {
    const page = await store.readEvents({ jobId, afterSeq, limit: EVENT_PAGE });
    for (const e of page) if (e.kind === "job.requeued") count++;
    if (page.length < EVENT_PAGE) return count;
    afterSeq = (page[page.length - 1] as { seq: number }).seq;
  }
}

export async function requeueDead(store: Store, input: unknown, now = Date.now()): Promise<RequeueDeadResult> {
  const options = parseRequeueOptions(input);
  const jobs: Job[] = await store.listJobs({
    states: ["dead"],
    finishedAfter: now - options.maxAgeMs,
    ...(options.queue === null ? {} : { queue: options.queue }),
    ...(options.task === null ? {} : { task: options.task }),
    limit: MAX_SCAN,
  });
  const candidates = await Promise.all(jobs.map(async (job) => ({ job, requeues: await requeuesOf(store, job.id) })));
  const decisions = selectRequeues(candidates, { ...options, now });
  const outcomes: RequeueOutcome[] = [];
  for (const d of decisions) {
    if (!d.requeue || options.dryRun) {
      outcomes.push({ ...d, done: false });
      continue;
    }
    const job = jobs.find((j) => j.id === d.jobId) as Job;
    try {
      // At the version read: a job retried or discarded meanwhile (by a person, or another node
      // running the same schedule) is left alone rather than re-queued twice.
      await store.retryJob(job.id, job.version);
    } catch (err) {
      if (!(err instanceof OverseerError)) throw err;
      outcomes.push({
        ...d,
        requeue: false,
        done: false,
        reason: `changed since it was read (${err.code}); left alone`,
      });
      continue;
    }
    await store.appendEvents([
      { kind: "job.requeued", jobId: job.id, data: { reason: d.reason, requeue: d.requeues + 1, by: options.by } },
    ]);
    outcomes.push({ ...d, done: true });
  }
  return { dryRun: options.dryRun, requeued: outcomes.filter((o) => o.requeue).length, jobs: outcomes };
}

/**
 * The built-in task: its payload is the options (`{"maxRequeues": 3, "maxAge": "72h", "max": 10}`),
 * so a config `schedules` entry runs the policy on a cron. Its result is what it did.
 */
export function requeueDeadTask(store: Store): TaskDefinition<RequeueDeadInput | null, RequeueDeadResult> {
  return defineTask<RequeueDeadInput | null, RequeueDeadResult>(
    REQUEUE_DEAD_TASK,
    async (payload) => requeueDead(store, { by: "schedule", ...(payload ?? {}) }),
    { maxAttempts: 1 },
  );
}
