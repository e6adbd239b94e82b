/** The SQL of durable steps, sleeps, signal waits and signals (see operations.ts), parameters listed. */
import { from, to } from "../jobs/statements.js";

/** $1 job id. */
export const LIST_STEPS = "SELECT * FROM job_steps WHERE job_id = $1 ORDER BY created_at, name";

/** $1 job id, $2 name. */
export const GET_STEP = "SELECT * FROM job_steps WHERE job_id = $1 AND name = $2";

/** $1 job id, $2 name, $3 kind, $4 result JSON, $5 now. The first write of a name wins. */
export const INSERT_STEP = `
INSERT INTO job_steps (job_id, name, kind, result, created_at) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (job_id, name) DO NOTHING`;

/**
 * $1 until, $2 job id, $3 token. The parked attempt is given back, as a released one is: the
 * execution that resumes the job is the same attempt going on, so a failure after it waits the
 * backoff of that attempt's number, and the budget counts only attempts that ended.
 */
export const PARK_JOB = `
UPDATE jobs SET state = ${to("park")}, run_at = $1, lease_owner = NULL, lease_expires_at = NULL,
  attempts = attempts - 1, version = version + 1
WHERE id = $2 AND lease_token = $3 AND ${from("park")}`;

/** $1 now, $2 job id, $3 the wait's deadline: the job is still parked on that wait. */
export const WAKE_JOB = `
UPDATE jobs SET state = ${to("promote")}, run_at = $1, version = version + 1
WHERE id = $2 AND ${from("promote")} AND run_at = $3`;

/** $1 job id, $2 step. */
export const GET_WAIT = "SELECT * FROM job_waits WHERE job_id = $1 AND step = $2";

/** $1 job id, $2 step, $3 signal name, $4 match JSON or NULL, $5 deadline, $6 now. */
export const INSERT_WAIT = `
INSERT INTO job_waits (job_id, step, name, "match", deadline, created_at) VALUES ($1, $2, $3, $4, $5, $6)`;

/** $1 job id, $2 step. */
export const DELETE_WAIT = "DELETE FROM job_waits WHERE job_id = $1 AND step = $2";

/**
 * $1 name, $2 job id or NULL, $3 now: waits of this name whose job is parked on them (scheduled
 * until exactly the wait's deadline, still ahead), oldest first. A wait row left by a job that
 * was cancelled, or that runs or waits for a retry, does not take the signal.
 */
export const PARKED_WAITS = `
SELECT w.* FROM job_waits w JOIN jobs j ON j.id = w.job_id
WHERE w.name = $1 AND (CAST($2 AS TEXT) IS NULL OR w.job_id = $2) AND w.deadline > $3
  AND j.${from("promote")} AND j.run_at = w.deadline
ORDER BY w.created_at, w.job_id`;

/** $1 name, $2 job id: unconsumed signals of this name for this job or for any, oldest first. */
export const UNCONSUMED_SIGNALS = `
SELECT * FROM signals WHERE name = $1 AND consumed_at IS NULL AND (job_id IS NULL OR job_id = $2)
ORDER BY created_at, id`;

/** $1-$8: a signal row, in column order. */
export const INSERT_SIGNAL = `
INSERT INTO signals (id, name, payload, job_id, created_at, consumed_by_job, consumed_step, consumed_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`;

/** $1 signal id, $2 job id, $3 step, $4 now. */
export const CONSUME_SIGNAL = `
UPDATE signals SET consumed_by_job = $2, consumed_step = $3, consumed_at = $4 WHERE id = $1 AND consumed_at IS NULL`;

/** $1 job id: a deleted job's steps, waits, and the signals only it could have taken. */
export const DELETE_JOB_STEPS = "DELETE FROM job_steps WHERE job_id = $1";
export const DELETE_JOB_WAITS = "DELETE FROM job_waits WHERE job_id = $1";
export const DELETE_JOB_SIGNALS = "DELETE FROM signals WHERE job_id = $1 AND consumed_at IS NULL";
