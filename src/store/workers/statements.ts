/** The SQL of the workers area (see operations.ts), parameters listed. */
import { FOR_UPDATE, indexedBy, type Sql, sql } from "../tx.js";

/** $1 status, $2 now, $3 worker id. A worker that has stopped stays stopped. */
export const SET_WORKER_STATUS = `
UPDATE workers SET status = $1, stopped_at = CASE WHEN $1 = 'stopped' THEN $2 ELSE stopped_at END
WHERE id = $3 AND (status <> 'stopped' OR $1 = 'stopped')`;

/** $1 worker id. */
export const GET_WORKER = "SELECT * FROM workers WHERE id = $1";

/** $1 worker id, locked: its status and command are read and changed in one transaction. */
export const LOCK_WORKER = sql`SELECT * FROM workers WHERE id = $1 ${FOR_UPDATE}`;

/** $1 command ('quiet', 'stop' or NULL), $2 now (NULL with no command), $3 worker id. */
export const SET_WORKER_COMMAND = "UPDATE workers SET command = $1, command_at = $2 WHERE id = $3";

/** $1 cutoff: has any worker stopped heartbeating? */
export const ANY_STALE_WORKER = `
SELECT EXISTS (SELECT 1 FROM workers WHERE status IN ('active', 'quiet', 'stopping') AND heartbeat_at < $1) AS stale`;

/** $1 cutoff. */
export const MARK_LOST_WORKERS = `
UPDATE workers SET status = 'lost' WHERE status IN ('active', 'quiet', 'stopping') AND heartbeat_at < $1 RETURNING id`;

export const LIST_WORKERS = "SELECT * FROM workers ORDER BY started_at DESC";

/**
 * The jobs each worker runs now, from `jobs_leases` (running jobs only): a held job, claimed ahead
 * of a free slot (prefetch), takes no slot until its handler starts.
 */
export const BUSY_SLOTS = `
SELECT lease_owner AS worker, count(*) AS n FROM jobs
WHERE state = 'running' AND held = 0 AND lease_owner IS NOT NULL GROUP BY lease_owner`;

/**
 * The jobs workers hold leases on, with their tasks: every running job is read through the
 * running-jobs index (`jobs_leases`, partial on state = 'running'), so the read is bounded by
 * the jobs running now whatever the table holds, and claims pay for no index of their own.
 * $1 worker id, or NULL for every worker's.
 */
export const WORKER_JOBS: Sql = sql`
SELECT id, task, queue, lease_owner, started_at, held FROM jobs ${indexedBy("jobs_leases")}
WHERE state = 'running' AND lease_owner IS NOT NULL AND (CAST($1 AS TEXT) IS NULL OR lease_owner = $1)
ORDER BY held, COALESCE(started_at, 0), id`;
