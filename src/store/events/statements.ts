/** The SQL of the event log's reads and of its readers' cursors (see operations.ts), parameters listed. */

/** $1 after seq, $2 limit. */
export const READ_EVENTS = "SELECT * FROM events WHERE seq > $1 ORDER BY seq LIMIT $2";

/** $1 job id, $2 after seq, $3 limit. */
export const READ_JOB_EVENTS = "SELECT * FROM events WHERE job_id = $1 AND seq > $2 ORDER BY seq LIMIT $3";

/** $1 job id, $2 after seq, $3 limit, $4 kind prefix: the job's events of those kinds. */
export const READ_JOB_EVENTS_OF_KIND = `
SELECT * FROM events
WHERE job_id = $1 AND seq > $2 AND substr(kind, 1, length(CAST($4 AS TEXT))) = $4
ORDER BY seq LIMIT $3`;

/** $1 run id, $2 after seq, $3 limit, $4 job id or NULL. */
export const READ_RUN_EVENTS = `
SELECT * FROM events WHERE run_id = $1 AND seq > $2 AND (CAST($4 AS TEXT) IS NULL OR job_id = $4)
ORDER BY seq LIMIT $3`;

/**
 * The newest sequence number. Never reused, because retention never deletes the newest event
 * (on SQLite, AUTOINCREMENT would guarantee the same by writing one more page per commit).
 */
export const LAST_EVENT_SEQ = "SELECT coalesce(max(seq), 0) AS seq FROM events";

/** $1 name. */
export const GET_CURSOR = "SELECT seq FROM cursors WHERE name = $1";

/** $1 name, $2 seq, $3 now. */
export const SAVE_CURSOR = `
INSERT INTO cursors (name, seq, updated_at) VALUES ($1, $2, $3)
ON CONFLICT (name) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at`;
