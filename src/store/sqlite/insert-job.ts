/**
 * Inserting one job and its `job.enqueued` event, shared by the store's own transactions and by
 * `enqueueWithin` on a user's connection, so both apply the same idempotency-key and
 * concurrency-reject rules with the same statements. Call inside a write transaction.
 */
import { OverseerError } from "../../core/errors.js";
import type { NewJob } from "../../core/job-options.js";
import type { JobState } from "../../core/types.js";
import { iso, type JobRow, toJob } from "../rows.js";
import type { EnqueueResult } from "../store.js";
import type { Statement } from "./connection.js";
import * as sql from "./statements.js";

/** What inserting needs from a connection: `SqliteConnection`, or a user's own (see foreign-transaction.ts). */
export interface JobWriter {
  stmt(text: string): Statement;
  event(at: number, kind: string, jobId: string | null, workerId: string | null, data: object): number;
}

export function insertJob(w: JobWriter, job: NewJob, now: number): EnqueueResult {
  if (job.idempotencyKey !== null) {
    const existing = w.stmt(sql.FIND_BY_IDEMPOTENCY_KEY).get(job.task, job.idempotencyKey, now) as JobRow | undefined;
    if (existing) return { job: toJob(existing), created: false };
  }
  const c = job.concurrency;
  if (c !== null && c.onLimit === "reject") {
    const { n } = w.stmt(sql.COUNT_UNFINISHED_BY_CONCURRENCY_KEY).get(c.key) as { n: number };
    if (n >= c.limit) {
      throw new OverseerError(
        "CONCURRENCY_LIMIT_REACHED",
        `concurrency key "${c.key}" already has ${n} unfinished job(s), its limit is ${c.limit}; task "${job.task}" rejects jobs over the limit`,
        { key: c.key, limit: c.limit, task: job.task },
      );
    }
  }
  const runAt = job.runAtMs ?? now + job.delayMs;
  const state: JobState = runAt > now ? "scheduled" : "queued";
  w.stmt(sql.INSERT_JOB).run(
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
    now,
  );
  const data: Record<string, unknown> = { task: job.task, queue: job.queue, priority: job.priority };
  const createdAt = iso(now);
  const runAtIso = runAt === now ? createdAt : iso(runAt);
  if (state === "scheduled") data.runAt = runAtIso;
  w.event(now, "job.enqueued", job.id, null, data);
  return {
    created: true,
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
      concurrency: c,
      rateLimit: job.rateLimit,
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
