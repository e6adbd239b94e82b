/**
 * Recording attempt outcomes for the SQLite store, each guarded by job id and fencing token, so
 * a worker that lost its lease changes nothing. Runs inside the caller's write transaction.
 */
import type { NewJob, TaskDefaults } from "../../core/job-options.js";
import type { Job, JobError } from "../../core/types.js";
import { RECORD_ATTEMPT } from "../jobs/statements.js";
import { afterExpiredLease, NOT_STARTED } from "../leases.js";
import { madeWorkReady, named } from "../outcomes.js";
import { iso, type JobRow, toJob } from "../rows.js";
import type { AttemptResult } from "../store.js";
import { deadFollowUp, registryDefaults } from "../tasks/rows.js";
import { TASK_DEFAULTS } from "../tasks/statements.js";
import type { SqliteConnection } from "./connection.js";
import { insertJob } from "./insert-job.js";
import * as sql from "./statements.js";

/** Records outcomes; returns, per result, whether its lease still held, and whether work was made ready (see madeWorkReady). */
export function finishInTransaction(
  conn: SqliteConnection,
  results: readonly AttemptResult[],
  now: number,
): { applied: boolean[]; requeued: boolean } {
  const succeeded = succeedMany(
    conn,
    results.filter((r) => r.outcome === "succeeded"),
    now,
  );
  const applied = results.map((r) =>
    r.outcome === "succeeded" ? succeeded.has(`${r.lease.jobId}:${r.lease.token}`) : finishOne(conn, r, now),
  );
  return { applied, requeued: madeWorkReady(results, applied) };
}

/** Records successful attempts with one statement per table. Returns "jobId:token" of those whose lease held. */
function succeedMany(conn: SqliteConnection, results: readonly AttemptResult[], now: number): Set<string> {
  if (results.length === 0) return new Set();
  const input = results.map((r) => [r.lease.jobId, r.lease.token, (r as { resultJson: string }).resultJson]);
  const rows = conn.stmt(sql.SUCCEED_JOBS).all(now, JSON.stringify(input)) as Array<{
    id: string;
    lease_token: number;
    started_at: number;
    attempts: number;
  }>;
  if (rows.length === 0) return new Set();
  const workerOf = new Map(results.map((r) => [r.lease.jobId, r.lease.workerId]));
  conn
    .stmt(sql.RECORD_SUCCEEDED_ATTEMPTS)
    .run(now, JSON.stringify(rows.map((r) => [r.id, r.lease_token, workerOf.get(r.id), r.started_at])));
  const followUps = new Map(
    results.flatMap((r) => (r.outcome === "succeeded" && r.followUp ? [[r.lease.jobId, r.followUp]] : [])),
  );
  const events = rows.map((r) => [
    r.id,
    workerOf.get(r.id) ?? null,
    { attempt: r.attempts, durationMs: now - r.started_at, ...named(followUps.get(r.id)) },
  ]);
  conn.stmt(sql.INSERT_EVENTS).run(now, "job.succeeded", JSON.stringify(events));
  for (const r of rows) enqueueFollowUp(conn, followUps.get(r.id), now);
  return new Set(rows.map((r) => `${r.id}:${r.lease_token}`));
}

function finishOne(conn: SqliteConnection, r: Exclude<AttemptResult, { outcome: "succeeded" }>, now: number): boolean {
  const { jobId, token, workerId } = r.lease;
  const attemptDone = (outcome: string, error: JobError | null) =>
    conn.stmt(RECORD_ATTEMPT).run(now, outcome, error === null ? null : JSON.stringify(error), jobId, token, workerId);
  switch (r.outcome) {
    case "retry": {
      const runAt = now + r.delayMs;
      const row = conn.stmt(sql.SCHEDULE_RETRY).get(runAt, JSON.stringify(r.error), jobId, token) as
        | { attempts: number }
        | undefined;
      if (!row) return false;
      attemptDone("failed", r.error);
      conn.event(now, "job.failed", jobId, workerId, { attempt: row.attempts, error: brief(r.error) });
      conn.event(now, "job.retry_scheduled", jobId, workerId, {
        attempt: row.attempts,
        delayMs: r.delayMs,
        runAt: iso(runAt),
      });
      return true;
    }
    case "dead": {
      const row = conn.stmt(sql.KILL_JOB).get(now, JSON.stringify(r.error), jobId, token) as
        | { attempts: number }
        | undefined;
      if (!row) return false;
      attemptDone("failed", r.error);
      conn.event(now, "job.failed", jobId, workerId, { attempt: row.attempts, error: brief(r.error) });
      conn.event(now, "job.dead", jobId, workerId, { attempt: row.attempts, reason: r.reason, ...named(r.followUp) });
      enqueueFollowUp(conn, r.followUp, now);
      return true;
    }
    case "cancelled": {
      const errorJson = r.error === null ? null : JSON.stringify(r.error);
      const row = conn.stmt(sql.CANCEL_RUNNING_JOB).get(now, errorJson, jobId, token) as
        | { attempts: number }
        | undefined;
      if (!row) return false;
      attemptDone("cancelled", r.error);
      conn.event(now, "job.cancelled", jobId, workerId, { attempt: row.attempts, while: "running" });
      return true;
    }
    case "released": {
      const row = conn.stmt(sql.RELEASE_JOB).get(jobId, token, null) as { attempts: number } | undefined;
      if (!row) return false;
      attemptDone("released", null);
      conn.event(now, "job.released", jobId, workerId, { reason: r.reason ?? "shutdown" });
      return true;
    }
  }
}

/**
 * Jobs whose lease expired (their worker is gone) run again, or die if that was their last
 * attempt, or are cancelled if a cancel was requested; the attempt is recorded as lost. Held
 * jobs, never started, go back to the queue uncounted (see `afterExpiredLease`).
 */
export function recoverExpiredInTransaction(conn: SqliteConnection, limit: number, now: number): Job[] {
  const rows = conn.stmt(sql.SELECT_EXPIRED_LEASES).all(now, limit) as JobRow[];
  const out: Job[] = [];
  let registry: Map<string, TaskDefaults> | undefined;
  for (const row of rows) {
    const { next, errorJson } = afterExpiredLease(row, now);
    if (next === "released") {
      // Its start was never recorded: nothing is charged, and the attempt is handed back like a
      // shutdown's, with the error that makes its next start recorded first (see startMode).
      if (!conn.stmt(sql.RELEASE_JOB).get(row.id, row.lease_token, errorJson)) continue;
      conn.stmt(RECORD_ATTEMPT).run(now, "released", null, row.id, row.lease_token, row.lease_owner);
      conn.event(now, "job.released", row.id, row.lease_owner, { reason: NOT_STARTED, workerId: row.lease_owner });
      out.push(jobAfterWrite(conn, row.id));
      continue;
    }
    const changed =
      next === "cancelled"
        ? conn.stmt(sql.CANCEL_RUNNING_JOB).run(now, errorJson, row.id, row.lease_token).changes
        : next === "dead"
          ? conn.stmt(sql.KILL_JOB).run(now, errorJson, row.id, row.lease_token).changes
          : conn.stmt(sql.RECOVER_LOST_JOB).run(row.id, row.lease_token, errorJson).changes;
    if (changed !== 1) continue;
    conn.stmt(RECORD_ATTEMPT).run(now, "lost", errorJson, row.id, row.lease_token, row.lease_owner);
    conn.event(now, "job.lost", row.id, row.lease_owner, { attempt: row.attempts, workerId: row.lease_owner });
    if (next === "dead") {
      registry ??= registryDefaults(conn.stmt(TASK_DEFAULTS).all() as Array<{ name: string; defaults: string }>);
      const followUp = deadFollowUp(row, errorJson, registry);
      conn.event(now, "job.dead", row.id, null, {
        attempt: row.attempts,
        reason: "lease_expired",
        ...followUp.eventData,
      });
      enqueueFollowUp(conn, followUp.job, now);
    }
    if (next === "cancelled") {
      conn.event(now, "job.cancelled", row.id, null, { attempt: row.attempts, while: "running" });
    }
    // Read back rather than patch the row: finish time, lease expiry and version all changed.
    out.push(jobAfterWrite(conn, row.id));
  }
  return out;
}

/** Inserts a task's follow-up job (see core/follow-up.ts), if any, after the event of the end that made it. */
function enqueueFollowUp(conn: SqliteConnection, job: NewJob | undefined, now: number): void {
  if (job !== undefined) insertJob(conn, job, now);
}

function brief(error: JobError): Omit<JobError, "stack"> {
  return { code: error.code, message: error.message, retryable: error.retryable };
}

function jobAfterWrite(conn: SqliteConnection, id: string): Job {
  return toJob(conn.stmt(sql.GET_JOB).get(id) as JobRow);
}
