/**
 * Inserting one job and its `job.enqueued` event, shared by the store's own transactions and by
 * `enqueueWithin` on a user's client, so both apply the same idempotency-key and
 * concurrency-reject rules (under the same advisory locks) with the same statements.
 */
import { OverseerError } from "../../core/errors.js";
import type { NewJob } from "../../core/job-options.js";
import type { JobState } from "../../core/types.js";
import { iso, type JobRow, toJob } from "../rows.js";
import type { EnqueueResult } from "../store.js";
import { LOCK, type Tx } from "./connection.js";
import * as sql from "./statements.js";

export async function insertJob(tx: Tx, job: NewJob): Promise<EnqueueResult> {
  const now = tx.now;
  if (job.idempotencyKey !== null) {
    // Two nodes enqueueing the same key at once: the second waits, then finds the first's job.
    await tx.lock(LOCK.idempotencyKey, `${job.task}\n${job.idempotencyKey}`);
    const existing = await tx.one<JobRow>(sql.FIND_BY_IDEMPOTENCY_KEY, [job.task, job.idempotencyKey, now]);
    if (existing) return { job: toJob(existing), created: false };
  }
  const c = job.concurrency;
  if (c !== null && c.onLimit === "reject") {
    // The same lock claims take for this key, so concurrent enqueues cannot both squeeze in.
    await tx.lock(LOCK.concurrencyKey, c.key);
    const n = (await tx.one<{ n: number }>(sql.COUNT_UNFINISHED_BY_CONCURRENCY_KEY, [c.key]))?.n ?? 0;
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
  await tx.run(sql.INSERT_JOB, [
    job.id,
    job.task,
    job.queue,
    state,
    job.payloadJson,
    job.priority,
    runAt,
    job.maxAttempts,
    JSON.stringify(job.backoff),
    job.idempotencyKey,
    job.idempotencyTtlMs,
    c?.key ?? null,
    c?.limit ?? null,
    c?.onLimit ?? null,
    job.rateLimit?.key ?? null,
    job.rateLimit?.limit ?? null,
    job.rateLimit?.periodMs ?? null,
    now,
  ]);
  const data: Record<string, unknown> = { task: job.task, queue: job.queue, priority: job.priority };
  const createdAt = iso(now);
  const runAtIso = runAt === now ? createdAt : iso(runAt);
  if (state === "scheduled") data.runAt = runAtIso;
  tx.event("job.enqueued", job.id, null, data);
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
