/**
 * Inserting one job and its `job.enqueued` event, shared by the store's own transactions and by
 * `enqueueWithin` on a user's connection, so both apply the same idempotency-key and
 * concurrency-reject rules with the same statements. Call inside a write transaction.
 */
import type { NewJob } from "../../core/job-options.js";
import {
  concurrencyLimitReached,
  deduplicatedEventData,
  enqueuedJob,
  insertJobParams,
  placeNewJob,
} from "../new-job.js";
import { type JobRow, toJob } from "../rows.js";
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
    if (existing) {
      // The only write of a repeated enqueue: its job's timeline shows it, and /metrics counts it.
      w.event(now, "job.deduplicated", existing.id, null, deduplicatedEventData(existing, job));
      return { job: toJob(existing), created: false };
    }
  }
  const c = job.concurrency;
  if (c !== null && c.onLimit === "reject") {
    const { n } = w.stmt(sql.COUNT_UNFINISHED_BY_CONCURRENCY_KEY).get(c.key) as { n: number };
    if (n >= c.limit) throw concurrencyLimitReached(job, c, n);
  }
  const placement = placeNewJob(job, now);
  w.stmt(sql.INSERT_JOB).run(...insertJobParams(job, placement, now));
  const { job: inserted, eventData } = enqueuedJob(job, placement, now);
  w.event(now, "job.enqueued", job.id, null, eventData);
  return { job: inserted, created: true };
}
