/**
 * The two ends of a lease that both backends record the same way: a claimed row becoming the
 * job and lease its worker gets, and an expired lease deciding what becomes of its job.
 */
import type { ClaimedJob, JobError, JobState, Lease } from "../core/types.js";
import { iso, type JobRow, toJob } from "./rows.js";
import type { ClaimRequest } from "./store.js";

/** What the claiming UPDATE returned for one job. */
export interface ClaimUpdate {
  lease_token: number;
  attempts: number;
  version: number;
}

/** The claimed job as its worker sees it: the row read before the claim, updated as the claim left it. */
export function claimedJob(row: JobRow, u: ClaimUpdate, workerId: string, now: number, expiresAt: number): ClaimedJob {
  row.state = "running";
  row.attempts = u.attempts;
  row.lease_owner = workerId;
  row.lease_token = u.lease_token;
  row.lease_expires_at = expiresAt;
  row.started_at = now;
  row.cancel_requested = 0;
  row.version = u.version;
  return {
    job: toJob(row),
    lease: { jobId: row.id, workerId, token: u.lease_token, expiresAt: iso(expiresAt) },
  };
}

/**
 * What becomes of a job whose lease expired. A held job (claimed ahead of a free slot) whose
 * start was not recorded (its handler never ran, or began at most 50 ms before its worker died)
 * is `released`: back to the queue with its attempt count unchanged, and with the lease's error,
 * which has its next start recorded before its handler runs (see `startMode` in the engine's
 * start-batcher.ts). A started one runs again, or is dead if that was its last attempt: the
 * attempt counts. So a job that kills its worker every time still ends. A cancel request
 * outlives the worker that should have honoured it: running the job again would ignore it (a new
 * claim clears the flag), so the job is cancelled instead.
 */
export function afterExpiredLease(
  row: JobRow,
  now: number,
): { next: "released" | Extract<JobState, "queued" | "dead" | "cancelled">; errorJson: string } {
  const error: JobError = {
    code: "LEASE_EXPIRED",
    message: `worker ${row.lease_owner} stopped renewing its lease (expired ${iso(row.lease_expires_at ?? now)})`,
    retryable: true,
  };
  const next =
    row.cancel_requested === 1
      ? "cancelled"
      : Number(row.held ?? 0) === 1
        ? "released"
        : row.attempts >= row.max_attempts
          ? "dead"
          : "queued";
  return { next, errorJson: JSON.stringify(error) };
}

/** The `job.released` event's reason when an expired lease hands back a job whose start was not recorded. */
export const NOT_STARTED = "lease_expired_before_start";

/** The ids of those `leases` whose job and fencing token are among the rows a start statement changed. */
export function startedLeases(
  leases: readonly Lease[],
  rows: ReadonlyArray<{ id: string; lease_token: number }>,
): string[] {
  const started = new Set(rows.map((r) => `${r.id}:${r.lease_token}`));
  return leases.filter((l) => started.has(`${l.jobId}:${l.token}`)).map((l) => l.jobId);
}

/** How many of a claim's jobs start at once (see `ClaimRequest.start`): all by default, never fewer than none. */
export function startCount(req: ClaimRequest): number {
  return Math.max(0, Math.min(req.start ?? req.limit, req.limit));
}
