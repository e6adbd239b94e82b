/** The SQL of the workers area (see operations.ts), parameters listed. */

/** $1 status, $2 now, $3 worker id. */
export const SET_WORKER_STATUS = `
UPDATE workers SET status = $1, stopped_at = CASE WHEN $1 = 'stopped' THEN $2 ELSE stopped_at END WHERE id = $3`;

/** $1 cutoff: has any worker stopped heartbeating? */
export const ANY_STALE_WORKER = `
SELECT EXISTS (SELECT 1 FROM workers WHERE status IN ('active', 'stopping') AND heartbeat_at < $1) AS stale`;

/** $1 cutoff. */
export const MARK_LOST_WORKERS = `
UPDATE workers SET status = 'lost' WHERE status IN ('active', 'stopping') AND heartbeat_at < $1 RETURNING id`;

export const LIST_WORKERS = "SELECT * FROM workers ORDER BY started_at DESC";

/**
 * The jobs each worker runs now, from `jobs_leases` (running jobs only): a held job, claimed ahead
 * of a free slot (prefetch), takes no slot until its handler starts.
 */
export const BUSY_SLOTS = `
SELECT lease_owner AS worker, count(*) AS n FROM jobs
WHERE state = 'running' AND held = 0 AND lease_owner IS NOT NULL GROUP BY lease_owner`;
