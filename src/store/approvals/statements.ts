/** The SQL of the approvals area (see operations.ts), parameters listed. */
import { TRANSITIONS } from "../../core/job-state.js";
import { FOR_UPDATE, FOR_UPDATE_SKIP_LOCKED, indexedBy, inList, sql } from "../tx.js";
import { APPROVAL_COLUMNS } from "./rows.js";

/** $1 job id, $2 name, $3 result JSON, $4 now. The first write of a name wins. */
export const INSERT_APPROVAL_STEP = `
INSERT INTO job_steps (job_id, name, kind, result, created_at) VALUES ($1, $2, 'approval', $3, $4)
ON CONFLICT (job_id, name) DO NOTHING`;

/** $1 id. */
export const GET_APPROVAL = "SELECT * FROM approvals WHERE id = $1";

/** $1 id: the request, locked (its job's row must be locked first). */
export const LOCK_APPROVAL = sql`SELECT * FROM approvals WHERE id = $1 ${FOR_UPDATE}`;

/** $1 job id: lock the job's row, first, before its requests. */
export const LOCK_JOB = sql`SELECT id FROM jobs WHERE id = $1 ${FOR_UPDATE}`;

/** $1 job id: lock the job's row unless another transaction holds it (then no row). */
export const TRY_LOCK_JOB = sql`SELECT id FROM jobs WHERE id = $1 ${FOR_UPDATE_SKIP_LOCKED}`;

/** $1 run id: lock the run's row unless another transaction holds it (then no row). */
export const TRY_LOCK_RUN = sql`SELECT id FROM runs WHERE id = $1 ${FOR_UPDATE_SKIP_LOCKED}`;

/** $1 job id, $2 step: the step's request that was not cancelled, if any, locked. */
export const LIVE_APPROVAL = sql`
SELECT * FROM approvals WHERE job_id = $1 AND step = $2 AND state <> 'cancelled' ${FOR_UPDATE}`;

/** $1 job id: the job's pending requests, locked (the job's row is locked already). */
export const PENDING_OF_JOB = sql`SELECT * FROM approvals WHERE job_id = $1 AND state = 'pending' ${FOR_UPDATE}`;

/** $1 run id: the run's pending requests, locked (the run's row is locked already). */
export const PENDING_OF_RUN = sql`SELECT * FROM approvals WHERE run_id = $1 AND state = 'pending' ${FOR_UPDATE}`;

/** $1 run id, $2 step: the run's settled request of that step (the turn that asked), if any. */
export const SETTLED_OF_RUN_STEP = `
SELECT * FROM approvals WHERE run_id = $1 AND step = $2 AND state NOT IN ('pending','cancelled')`;

/** $1-$21: an approval row, in APPROVAL_COLUMNS order. */
export const INSERT_APPROVAL = `
INSERT INTO approvals (${APPROVAL_COLUMNS.join(", ")})
VALUES (${APPROVAL_COLUMNS.map((_, i) => `$${i + 1}`).join(", ")})`;

/** $1 state, $2 decisions JSON, $3 outcome JSON, $4 settled at, $5 new version, $6 id, $7 version read. */
export const UPDATE_APPROVAL = `
UPDATE approvals SET state = $1, decisions = $2, outcome = $3, settled_at = $4, version = $5
WHERE id = $6 AND version = $7`;

/** $1 job id, $2 token. The parked attempt is given back: it does not count (see PARK_JOB). */
export const AWAIT_APPROVAL = `
UPDATE jobs SET state = '${TRANSITIONS.awaitApproval.to}', lease_owner = NULL, lease_expires_at = NULL,
  attempts = attempts - 1, version = version + 1
WHERE id = $1 AND lease_token = $2 AND state = '${TRANSITIONS.awaitApproval.from[0]}'`;

/** $1 now, $2 job id. The job runs again, in line from now, to read the outcome. */
export const APPROVAL_SETTLED = `
UPDATE jobs SET state = '${TRANSITIONS.approvalSettled.to}', run_at = $1, version = version + 1
WHERE id = $2 AND state = '${TRANSITIONS.approvalSettled.from[0]}'`;

/**
 * $1 now, $2 limit: pending requests whose time is up, soonest first (read only; each is locked
 * on its own). `escalate` requests are not the watchdog's: they stay pending and their alert
 * escalates (alerts/sources.ts).
 */
export const EXPIRED = sql`
SELECT id, job_id, run_id FROM approvals ${indexedBy("approvals_pending")}
WHERE state = 'pending' AND expires_at <= $1 AND on_timeout <> 'escalate'
ORDER BY expires_at, id LIMIT $2`;

export const NEXT_EXPIRY = sql`
SELECT min(expires_at) AS at FROM approvals ${indexedBy("approvals_pending")}
WHERE state = 'pending' AND on_timeout <> 'escalate'`;

/** $1 job id or NULL, $2 run id or NULL, $3 cursor created_at or NULL, $4 cursor id, $5 limit, $6 kind or NULL, $7 created at or after or NULL, $8 created before or NULL. */
export const LIST_PENDING = `
SELECT * FROM approvals WHERE state = 'pending' AND (CAST($1 AS TEXT) IS NULL OR job_id = $1)
  AND (CAST($2 AS TEXT) IS NULL OR run_id = $2)
  AND (CAST($3 AS BIGINT) IS NULL OR (created_at, id) > ($3, $4))
  AND (CAST($6 AS TEXT) IS NULL OR kind = $6) AND (CAST($7 AS BIGINT) IS NULL OR created_at >= $7)
  AND (CAST($8 AS BIGINT) IS NULL OR created_at < $8)
ORDER BY created_at, id LIMIT $5`;

/** $1 states (a `Db.list`), $2 job id or NULL, $3 run id or NULL, $4 cursor created_at or NULL, $5 cursor id, $6 limit, $7 kind or NULL, $8 created at or after or NULL, $9 created before or NULL. */
export const LIST_SETTLED = sql`
SELECT * FROM approvals WHERE ${inList("state", "$1")} AND (CAST($2 AS TEXT) IS NULL OR job_id = $2)
  AND (CAST($3 AS TEXT) IS NULL OR run_id = $3)
  AND (CAST($4 AS BIGINT) IS NULL OR (created_at, id) < ($4, $5))
  AND (CAST($7 AS TEXT) IS NULL OR kind = $7) AND (CAST($8 AS BIGINT) IS NULL OR created_at >= $8)
  AND (CAST($9 AS BIGINT) IS NULL OR created_at < $9)
ORDER BY created_at DESC, id DESC LIMIT $6`;

/**
 * $1 states (a `Db.list`), $2 job id or NULL, $3 run id or NULL, $4 kind or NULL, $5 created at
 * or after or NULL, $6 created before or NULL: how many requests match, from `approvals_listing`
 * (state, created_at, id).
 */
export const COUNT_MATCHING = sql`
SELECT count(*) AS n FROM approvals WHERE ${inList("state", "$1")} AND (CAST($2 AS TEXT) IS NULL OR job_id = $2)
  AND (CAST($3 AS TEXT) IS NULL OR run_id = $3)
  AND (CAST($4 AS TEXT) IS NULL OR kind = $4) AND (CAST($5 AS BIGINT) IS NULL OR created_at >= $5)
  AND (CAST($6 AS BIGINT) IS NULL OR created_at < $6)`;

/** $1 job id: a deleted job's requests. */
export const DELETE_JOB_APPROVALS = "DELETE FROM approvals WHERE job_id = $1";

/** Pending requests, from `approvals_pending`. */
export const COUNT_PENDING = "SELECT count(*) AS n FROM approvals WHERE state = 'pending'";
