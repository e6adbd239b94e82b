/** The SQL of retention (see operations.ts), parameters listed. */

import { FINISHED_RUN_STATES } from "../../core/run-state.js";
import { LESSON_COLUMNS } from "../lessons/rows.js";
import { indexedBy, sql } from "../tx.js";

/**
 * $1 state, $2 cutoff (finished before) or NULL for no age rule, $3 keep newest N (or -1 for no
 * count rule), $4 limit. Read along `jobs_finished` (state, finish time, id): a finished job
 * always has its finish time, and saying so lets SQLite use that partial index.
 */
const JOBS_FINISHED = indexedBy("jobs_finished");
export const PRUNABLE_JOBS = sql`
SELECT * FROM jobs ${JOBS_FINISHED} WHERE state = $1 AND finished_at IS NOT NULL AND (
  finished_at < $2
  OR ($3 >= 0 AND id NOT IN (
    SELECT id FROM jobs ${JOBS_FINISHED} WHERE state = $1 AND finished_at IS NOT NULL
    ORDER BY finished_at DESC, id DESC LIMIT $3))
) ORDER BY finished_at LIMIT $4`;

/**
 * Finished runs, written as migration 011's partial index `runs_finished` is, so that SQLite can
 * prove the index applies (it compares the two expressions, not their meaning).
 */
const FINISHED_RUN = `state IN (${FINISHED_RUN_STATES.map((s) => `'${s}'`).join(",")})`;
const RUNS_FINISHED = indexedBy("runs_finished");

/**
 * $1 cutoff (finished before) or NULL, $2 keep newest N (or -1 for no count rule), $3 and $4 the
 * last (finished_at, id) of the previous page (or -1 and ''), $5 limit. Paged by key, so a run
 * kept because it changed while its batch was archived is not read again.
 */
export const PRUNABLE_RUNS = sql`
SELECT * FROM runs ${RUNS_FINISHED} WHERE ${FINISHED_RUN} AND (
  finished_at < $1
  OR ($2 >= 0 AND id NOT IN (
    SELECT id FROM runs ${RUNS_FINISHED} WHERE ${FINISHED_RUN} ORDER BY finished_at DESC, id DESC LIMIT $2))
) AND (finished_at, id) > ($3, $4)
ORDER BY finished_at, id LIMIT $5`;
/** $1 run id, $2 the version archived: a run that changed since stays. */
export const DELETE_FINISHED_RUN = `DELETE FROM runs WHERE id = $1 AND version = $2 AND ${FINISHED_RUN}`;
/** $1 run id. */
export const DELETE_RUN_TURNS = "DELETE FROM run_turns WHERE run_id = $1";
/** $1 run id. */
export const DELETE_RUN_OUTPUT = "DELETE FROM run_output WHERE run_id = $1";
/** $1 run id. */
export const DELETE_RUN_MESSAGES = "DELETE FROM run_messages WHERE run_id = $1";
/** $1 run id: the questions and approvals it asked (settled or cancelled: the run has finished). */
export const DELETE_RUN_APPROVALS = "DELETE FROM approvals WHERE run_id = $1";

const ALERTS_CLOSED = indexedBy("alerts_closed");

/** As PRUNABLE_RUNS, for closed alerts by close time (index `alerts_closed`). */
export const PRUNABLE_ALERTS = sql`
SELECT * FROM alerts ${ALERTS_CLOSED} WHERE status = 'closed' AND (
  closed_at < $1
  OR ($2 >= 0 AND id NOT IN (
    SELECT id FROM alerts ${ALERTS_CLOSED} WHERE status = 'closed' ORDER BY closed_at DESC, id DESC LIMIT $2))
) AND (closed_at, id) > ($3, $4)
ORDER BY closed_at, id LIMIT $5`;
/** As PRUNABLE_RUNS, for lessons by the time they were recorded (index `lessons_by_time`). */
export const PRUNABLE_LESSONS = `
SELECT ${LESSON_COLUMNS}, 0 AS version FROM lessons WHERE (
  created_at < $1
  OR ($2 >= 0 AND id NOT IN (SELECT id FROM lessons ORDER BY created_at DESC, id DESC LIMIT $2))
) AND (created_at, id) > ($3, $4)
ORDER BY created_at, id LIMIT $5`;
/** $1 alert id, $2 the version archived. */
export const DELETE_CLOSED_ALERT = "DELETE FROM alerts WHERE id = $1 AND version = $2 AND status = 'closed'";
/** $1 alert id. */
export const DELETE_ALERT_NOTIFICATIONS = "DELETE FROM alert_notifications WHERE alert_id = $1";

/**
 * $1 cutoff: the newest event older than it, or 0. Events have no index on `at`. PostgreSQL scans
 * for it. SQLite appends events with the clock read inside its write lock, so there `at` never
 * decreases along `seq`, and a binary search over sequence numbers finds the event without a scan
 * (and without an index to keep up to date on every append): `lo..hi` is the range still open,
 * `found` the newest event known to be older; each step probes the first event at or after the
 * middle (none, or one past `hi`, counts as not older).
 */
export const LAST_EVENT_BEFORE = {
  sqlite: `
WITH RECURSIVE search(lo, hi, found) AS (
  SELECT 0, (SELECT coalesce(max(seq), 0) FROM events), 0
  UNION ALL
  SELECT
    CASE WHEN probe.at < $1 THEN probe.seq + 1 ELSE lo END,
    CASE WHEN probe.at < $1 THEN hi ELSE (lo + hi) / 2 - 1 END,
    CASE WHEN probe.at < $1 THEN probe.seq ELSE found END
  FROM search LEFT JOIN events AS probe
    ON probe.seq = (SELECT seq FROM events WHERE seq >= (lo + hi) / 2 ORDER BY seq LIMIT 1) AND probe.seq <= hi
  WHERE lo <= hi
)
SELECT found AS seq FROM search WHERE lo > hi`,
  postgres: "SELECT coalesce(max(seq), 0) AS seq FROM events WHERE at < $1",
};
/** $1 highest seq to delete, $2 limit. */
export const EVENTS_UP_TO = "SELECT * FROM events WHERE seq <= $1 ORDER BY seq LIMIT $2";
/** $1 highest seq to delete. */
export const COUNT_EVENTS_UP_TO = "SELECT count(*) AS n FROM events WHERE seq <= $1";
/** $1 highest seq to delete. */
export const DELETE_EVENTS_UP_TO = "DELETE FROM events WHERE seq <= $1";

/** $1 cutoff: workers that stopped or were lost before it. */
export const DELETE_OLD_WORKERS = "DELETE FROM workers WHERE status IN ('stopped','lost') AND heartbeat_at < $1";
