/**
 * Recording attempt outcomes for the PostgreSQL store, each guarded by job id and fencing token,
 * so a worker that lost its lease changes nothing. Runs inside the caller's transaction; a job
 * that goes back to wait (retry, release, recovery) asks the transaction to notify listeners.
 */
import type { NewJob, TaskDefaults } from "../../core/job-options.js";
import type { Job, JobError } from "../../core/types.js";
import { RECORD_ATTEMPT } from "../jobs/statements.js";
import { afterExpiredLease, NOT_STARTED } from "../leases.js";
import { named } from "../outcomes.js";
import { iso, type JobRow, toJob } from "../rows.js";
import type { AttemptResult } from "../store.js";
import { deadFollowUp, registryDefaults } from "../tasks/rows.js";
import { TASK_DEFAULTS } from "../tasks/statements.js";
import type { Opening, PgConnection, Tx } from "./connection.js";
import { insertJob } from "./insert-job.js";
import { intArrayLiteral, textArrayLiteral } from "./literals.js";
import * as sql from "./statements.js";

/**
 * Opens a transaction that records these outcomes: the successful ones are recorded in the
 * round trip of BEGIN (one statement, see `succeedJobs`), before any other opening joined after
 * it; their events are appended at commit, with the transaction's others.
 */
export function openFinish(results: readonly AttemptResult[]): Opening | undefined {
  const done = successes(results);
  if (done.length === 0) return undefined;
  return { statements: (nowSql) => [succeedStatement(nowSql, done, false)] };
}

/**
 * Records outcomes that are all successes, with their events, as one transaction in one round
 * trip; returns, per result, whether its lease still held.
 */
export async function succeedAll(conn: PgConnection, results: readonly AttemptResult[]): Promise<boolean[]> {
  const [succeeded] = await conn.script((nowSql) => [succeedStatement(nowSql, successes(results), true)]);
  return applied(results, (succeeded?.rows ?? []) as SucceededRow[]);
}

/**
 * Records outcomes in a transaction opened by `openFinish(results)` (first, if joined with
 * others); returns, per result, whether its lease still held.
 */
export async function finishInTransaction(tx: Tx, results: readonly AttemptResult[]): Promise<boolean[]> {
  const rows = (tx.opened[0]?.rows ?? []) as SucceededRow[];
  const byLease = new Map(results.map((r) => [`${r.lease.jobId}:${r.lease.token}`, r]));
  for (const r of rows) {
    const result = byLease.get(`${r.id}:${r.lease_token}`);
    const followUp = result?.outcome === "succeeded" ? result.followUp : undefined;
    tx.event("job.succeeded", r.id, result?.lease.workerId ?? null, {
      attempt: r.attempts,
      durationMs: tx.now - r.started_at,
      ...named(followUp),
    });
    await enqueueFollowUp(tx, followUp);
  }
  const out = applied(results, rows);
  for (const [i, r] of results.entries()) {
    if (r.outcome === "succeeded") continue;
    const ok = await finishOne(tx, r);
    // A retry waits for its backoff; a later claim's promotion picks it up, and the wakeup
    // lets idle workers recompute when that is.
    if (ok && (r.outcome === "released" || r.outcome === "retry")) tx.notify();
    out[i] = ok;
  }
  return out;
}

type Succeeded = Extract<AttemptResult, { outcome: "succeeded" }>;
type SucceededRow = { id: string; lease_token: number; started_at: number; attempts: number };

function successes(results: readonly AttemptResult[]): Succeeded[] {
  return results.filter((r): r is Succeeded => r.outcome === "succeeded");
}

function succeedStatement(nowSql: string, done: readonly Succeeded[], appendEvents: boolean): string {
  return sql.succeedJobs(
    nowSql,
    textArrayLiteral(done.map((r) => r.lease.jobId)),
    intArrayLiteral(done.map((r) => r.lease.token)),
    textArrayLiteral(done.map((r) => r.resultJson)),
    textArrayLiteral(done.map((r) => r.lease.workerId)),
    appendEvents,
  );
}

/** Per result, whether it is a success the statement recorded (its lease held); false for the others. */
function applied(results: readonly AttemptResult[], rows: readonly SucceededRow[]): boolean[] {
  const held = new Set(rows.map((r) => `${r.id}:${r.lease_token}`));
  return results.map((r) => r.outcome === "succeeded" && held.has(`${r.lease.jobId}:${r.lease.token}`));
}

async function finishOne(tx: Tx, r: Exclude<AttemptResult, { outcome: "succeeded" }>): Promise<boolean> {
  const { jobId, token, workerId } = r.lease;
  const now = tx.now;
  const attemptDone = (outcome: string, error: JobError | null) =>
    tx.run(RECORD_ATTEMPT, [now, outcome, error === null ? null : JSON.stringify(error), jobId, token, workerId]);
  switch (r.outcome) {
    case "retry": {
      const runAt = now + r.delayMs;
      const row = await tx.one<{ attempts: number }>(sql.SCHEDULE_RETRY, [
        runAt,
        JSON.stringify(r.error),
        jobId,
        token,
      ]);
      if (!row) return false;
      await attemptDone("failed", r.error);
      tx.event("job.failed", jobId, workerId, { attempt: row.attempts, error: brief(r.error) });
      tx.event("job.retry_scheduled", jobId, workerId, {
        attempt: row.attempts,
        delayMs: r.delayMs,
        runAt: iso(runAt),
      });
      return true;
    }
    case "dead": {
      const row = await tx.one<{ attempts: number }>(sql.KILL_JOB, [now, JSON.stringify(r.error), jobId, token]);
      if (!row) return false;
      await attemptDone("failed", r.error);
      tx.event("job.failed", jobId, workerId, { attempt: row.attempts, error: brief(r.error) });
      tx.event("job.dead", jobId, workerId, { attempt: row.attempts, reason: r.reason, ...named(r.followUp) });
      await enqueueFollowUp(tx, r.followUp);
      return true;
    }
    case "cancelled": {
      const errorJson = r.error === null ? null : JSON.stringify(r.error);
      const row = await tx.one<{ attempts: number }>(sql.CANCEL_RUNNING_JOB, [now, errorJson, jobId, token]);
      if (!row) return false;
      await attemptDone("cancelled", r.error);
      tx.event("job.cancelled", jobId, workerId, { attempt: row.attempts, while: "running" });
      return true;
    }
    case "released": {
      const row = await tx.one<{ attempts: number }>(sql.RELEASE_JOB, [jobId, token, null]);
      if (!row) return false;
      await attemptDone("released", null);
      tx.event("job.released", jobId, workerId, { reason: r.reason ?? "shutdown" });
      return true;
    }
  }
}

/**
 * Jobs whose lease expired (their worker is gone) run again, or die if that was their last
 * attempt, or are cancelled if a cancel was requested; the attempt is recorded as lost. Held
 * jobs, never started, go back to the queue uncounted (see `afterExpiredLease`).
 */
export async function recoverExpiredInTransaction(tx: Tx, limit: number): Promise<Job[]> {
  const now = tx.now;
  const rows = await tx.rows<JobRow>(sql.SELECT_EXPIRED_LEASES, [now, limit]);
  const out: Job[] = [];
  let registry: Map<string, TaskDefaults> | undefined;
  for (const row of rows) {
    const { next, errorJson } = afterExpiredLease(row, now);
    if (next === "released") {
      // Its start was never recorded: nothing is charged, and the attempt is handed back like a
      // shutdown's, with the error that makes its next start recorded first (see startMode).
      if (!(await tx.one(sql.RELEASE_JOB, [row.id, row.lease_token, errorJson]))) continue;
      await tx.run(RECORD_ATTEMPT, [now, "released", null, row.id, row.lease_token, row.lease_owner]);
      tx.event("job.released", row.id, row.lease_owner, { reason: NOT_STARTED, workerId: row.lease_owner });
      tx.notify();
      const after = await tx.one<JobRow>(sql.GET_JOB, [row.id]);
      if (after) out.push(toJob(after));
      continue;
    }
    const changed =
      next === "cancelled"
        ? await tx.run(sql.CANCEL_RUNNING_JOB, [now, errorJson, row.id, row.lease_token])
        : next === "dead"
          ? await tx.run(sql.KILL_JOB, [now, errorJson, row.id, row.lease_token])
          : await tx.run(sql.RECOVER_LOST_JOB, [row.id, row.lease_token, errorJson]);
    if (changed !== 1) continue;
    await tx.run(RECORD_ATTEMPT, [now, "lost", errorJson, row.id, row.lease_token, row.lease_owner]);
    tx.event("job.lost", row.id, row.lease_owner, { attempt: row.attempts, workerId: row.lease_owner });
    if (next === "dead") {
      registry ??= registryDefaults(await tx.rows<{ name: string; defaults: string }>(TASK_DEFAULTS));
      const followUp = deadFollowUp(row, errorJson, registry);
      tx.event("job.dead", row.id, null, { attempt: row.attempts, reason: "lease_expired", ...followUp.eventData });
      await enqueueFollowUp(tx, followUp.job);
    }
    if (next === "cancelled") tx.event("job.cancelled", row.id, null, { attempt: row.attempts, while: "running" });
    if (next === "queued") tx.notify();
    // Read back rather than patch the row: finish time, lease expiry and version all changed.
    const after = await tx.one<JobRow>(sql.GET_JOB, [row.id]);
    if (after) out.push(toJob(after));
  }
  return out;
}

/** Inserts a task's follow-up job (see core/follow-up.ts), if any, after the event of the end that made it. */
async function enqueueFollowUp(tx: Tx, job: NewJob | undefined): Promise<void> {
  if (job === undefined) return;
  await insertJob(tx, job);
  tx.notify();
}

function brief(error: JobError): Omit<JobError, "stack"> {
  return { code: error.code, message: error.message, retryable: error.retryable };
}
