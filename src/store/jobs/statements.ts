/**
 * Job statements that both backends run as written, for the store areas written once (see
 * ../tx.ts): parameters listed as `$n`. State guards are compiled from `core/job-state.ts`, so
 * the state machine lives in one place.
 */
import { TRANSITIONS, type TransitionName } from "../../core/job-state.js";

/**
 * The guard for the states a transition may start from. A single state is written `state = 'x'`
 * so that both databases can prove the partial indexes (`WHERE state = 'x'`) apply.
 */
export function from(name: TransitionName): string {
  const states: readonly string[] = TRANSITIONS[name].from;
  return states.length === 1 ? `state = '${states[0]}'` : `state IN (${states.map((s) => `'${s}'`).join(",")})`;
}

/** The state a transition leads to, as an SQL literal. */
export function to(name: TransitionName): string {
  return `'${TRANSITIONS[name].to}'`;
}

/** $1 job id, $2 token: the job, if this lease still runs it (locked, on PostgreSQL). */
export const LEASED_JOB = "SELECT * FROM jobs WHERE id = $1 AND lease_token = $2 AND state = 'running'";

/** $1 job id: the job's row, to lock it (first, before the rows that hang off it). */
export const JOB_ID = "SELECT id FROM jobs WHERE id = $1";

/** $1 finished at, $2 outcome, $3 error JSON, $4 job id, $5 attempt number. */
export const FINISH_ATTEMPT = `
UPDATE attempts SET finished_at = $1, outcome = $2, error = $3 WHERE job_id = $4 AND number = $5`;

/** $1 now, $2 error JSON or NULL, $3 job id, $4 token. */
export const CANCEL_RUNNING_JOB = `
UPDATE jobs SET state = ${to("cancelRunning")}, finished_at = $1, last_error = coalesce($2, last_error),
  lease_owner = NULL, lease_expires_at = NULL,
  idempotency_expires_at = CASE WHEN idempotency_key IS NULL THEN NULL ELSE $1 + idempotency_ttl_ms END,
  version = version + 1
WHERE id = $3 AND lease_token = $4 AND ${from("cancelRunning")}
RETURNING attempts`;
