/**
 * The job verbs off the hot path, written once for both backends (see ../tx.ts): reading and
 * listing jobs, and what people do to them (cancel, retry, discard). Enqueue, claim, finish,
 * lease extension and lease recovery stay with each backend, tuned to its driver.
 *
 * A verb that changes one job reads its row locked (on PostgreSQL; SQLite's one writer excludes
 * every other anyway), checks the version and the state it read, then writes under the state
 * guard of its transition. Rows that hang off the job (its approval requests, steps, waits,
 * signals) are touched after the job's row, the order every other writer takes too, so two
 * writers never deadlock. Bulk retries lock nothing up front: each UPDATE's state guard skips a
 * job another transaction changed since the read.
 */
import { jobNotFound } from "../../core/errors.js";
import { TRANSITIONS } from "../../core/job-state.js";
import type { Attempt, Job, JobState, Lease } from "../../core/types.js";
import { cancelJobApprovals } from "../approvals/operations.js";
import { deleteJobDurables } from "../durable/operations.js";
import { deleteJobLessons } from "../lessons/operations.js";
import { type AttemptRow, iso, type JobRow, toAttempt, toJob } from "../rows.js";
import type { CancelResult, DeadJobSummary, FinishedTimes, JobFilter } from "../store.js";
import type { Db, Op, Tx } from "../tx.js";
import { checkVersion } from "../versions.js";
import { countByQueueState, type FinishedRow, forgetFinished } from "./finished-counts.js";
import { emptyCounts, invalidTransition } from "./rows.js";
import * as q from "./statements.js";

export function* getJob(db: Db, id: string): Op<Job | null> {
  const row = yield* db.one<JobRow>(q.GET_JOB, [id]);
  return row ? toJob(row) : null;
}

export function* listJobs(db: Db, filter: JobFilter): Op<Job[]> {
  const { sql, params } = q.listJobs(filter);
  return (yield* db.rows<JobRow>(sql, params)).map(toJob);
}

/** How many jobs the filter matches, up to `cap` (see statements.ts). */
export function* countMatchingJobs(db: Db, filter: JobFilter, cap: number): Op<number> {
  const { sql, params } = q.countMatchingJobs(filter, cap);
  return Number((yield* db.one<{ n: number | string }>(sql, params))?.n ?? 0);
}

export function* listAttempts(db: Db, jobId: string): Op<Attempt[]> {
  return (yield* db.rows<AttemptRow>(q.LIST_ATTEMPTS, [jobId])).map(toAttempt);
}

export function* countJobs(db: Db): Op<Record<JobState, number>> {
  const counts = emptyCounts();
  for (const r of yield* countByQueueState(db)) counts[r.state] += r.n;
  return counts;
}

/** The dead jobs: how many (up to `cap`), and the newest `sample` of them by task and queue. */
export function* summarizeDeadJobs(db: Db, sample: number, cap: number): Op<DeadJobSummary> {
  const counted = Number((yield* db.one<{ n: number | string }>(q.COUNT_DEAD, [cap + 1]))?.n ?? 0);
  const capped = counted > cap;
  const total = Math.min(counted, cap);
  if (total === 0) return { total, capped, sampled: 0, groups: [] };
  const rows = yield* db.rows<{ task: string; queue: string; n: number | string; newest: number | string }>(
    q.DEAD_GROUPS,
    [sample],
  );
  const groups = rows.map((r) => ({
    task: r.task,
    queue: r.queue,
    count: Number(r.n),
    newestAt: iso(Number(r.newest)),
  }));
  return { total, capped, sampled: Math.min(total, sample), groups };
}

export function* listFinishedTimes(db: Db, since: number, limit: number): Op<FinishedTimes[]> {
  const rows = yield* db.rows<{
    state: FinishedTimes["state"];
    run_at: number;
    started_at: number | null;
    finished_at: number;
  }>(q.LIST_FINISHED_TIMES, [since, limit]);
  return rows.map((r) => ({ state: r.state, runAt: r.run_at, startedAt: r.started_at, finishedAt: r.finished_at }));
}

/** When the next scheduled job is due, for idle workers to sleep until. */
export function* nextScheduledAt(db: Db): Op<number | null> {
  return (yield* db.one<{ at: number | null }>(q.NEXT_SCHEDULED))?.at ?? null;
}

/** Whether the lease still held the job (only its holder reports progress). */
export function* recordProgress(tx: Tx, lease: Lease, progressJson: string): Op<boolean> {
  const changed = (yield* tx.run(q.SET_PROGRESS, [progressJson, lease.jobId, lease.token])) === 1;
  if (changed) tx.event("job.progress", lease.jobId, lease.workerId, { progress: JSON.parse(progressJson) });
  return changed;
}

/** A waiting job is cancelled at once (with its pending approval requests); a running one is asked to stop. */
export function* cancelJob(tx: Tx, id: string, expectedVersion: number | undefined): Op<CancelResult> {
  const row = yield* lockJob(tx, id);
  checkVersion("job", id, row.version, expectedVersion);
  if ((TRANSITIONS.cancel.from as readonly JobState[]).includes(row.state)) {
    yield* tx.run(q.CANCEL_WAITING_JOB, [tx.at, id]);
    tx.event("job.cancelled", id, null, { while: row.state });
    if (row.state === "awaiting_approval") yield* cancelJobApprovals(tx, id);
    return { job: toJob(yield* lockJob(tx, id)), effect: "cancelled" };
  }
  if (row.state === "running") {
    yield* tx.run(q.REQUEST_CANCEL, [id]);
    tx.event("job.cancel_requested", id, row.lease_owner, {});
    return { job: toJob(yield* lockJob(tx, id)), effect: "requested" };
  }
  throw invalidTransition(row, "cancelled", "scheduled, queued, awaiting_approval or running");
}

/** The job queued again with a fresh set of attempts (workers woken). */
export function* retryJob(tx: Tx, id: string, expectedVersion: number | undefined): Op<Job> {
  const row = yield* lockJob(tx, id);
  checkVersion("job", id, row.version, expectedVersion);
  if ((yield* tx.run(q.RETRY_JOB, [tx.at, id])) !== 1) {
    throw invalidTransition(row, "retried", TRANSITIONS.retry.from.join(" or "));
  }
  yield* forgetFinished(tx, [row]);
  tx.event("job.retried", id, null, { from: row.state });
  tx.notify();
  return toJob(yield* lockJob(tx, id));
}

/** How many dead jobs matching the filter were queued again (workers woken if any). */
export function* retryDeadJobs(tx: Tx, filter: { queue?: string; task?: string; limit?: number }): Op<number> {
  const ids = yield* tx.rows<{ id: string }>(q.SELECT_DEAD_IDS, [
    filter.queue ?? null,
    filter.task ?? null,
    filter.limit ?? 1_000_000,
  ]);
  const retried: JobRow[] = [];
  for (const { id } of ids) {
    // Locked and read first: the finished counts need its finish time, which the retry clears.
    const row = yield* tx.one<JobRow>(q.LOCK_JOB, [id]);
    if (row === undefined || (yield* tx.run(q.RETRY_JOB, [tx.at, id])) !== 1) continue;
    tx.event("job.retried", id, null, { from: "dead", bulk: true });
    retried.push(row);
  }
  yield* forgetFinished(tx, retried);
  const n = retried.length;
  if (n > 0) tx.notify();
  return n;
}

/** Deletes a finished job, its attempts and everything that hangs off it. */
export function* discardJob(tx: Tx, id: string, expectedVersion: number | undefined): Op<void> {
  const row = yield* lockJob(tx, id);
  checkVersion("job", id, row.version, expectedVersion);
  const gone = yield* tx.one<FinishedRow>(q.DELETE_FINISHED_JOB, [id]);
  if (gone === undefined) {
    throw invalidTransition(row, "discarded", "succeeded, dead or cancelled");
  }
  yield* forgetFinished(tx, [gone]);
  yield* tx.run(q.DELETE_ATTEMPTS, [id]);
  yield* deleteJobDurables(tx, id);
  yield* deleteJobLessons(tx, id);
  tx.event("job.discarded", id, null, { task: row.task, queue: row.queue, state: row.state });
}

/** The job's row, locked until commit, or JOB_NOT_FOUND. */
function* lockJob(tx: Tx, id: string): Op<JobRow> {
  const row = yield* tx.one<JobRow>(q.LOCK_JOB, [id]);
  if (!row) throw jobNotFound(id);
  return row;
}
