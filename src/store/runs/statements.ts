/** The SQL of the runs area (see operations.ts), parameters listed. */
import { type Dialect, FOR_UPDATE, inList, type Sql, sql, sqlFor } from "../tx.js";
import { NEW_RUN_COLUMNS, STARTED_RUN_STATES } from "./rows.js";

const STARTED = `state IN (${STARTED_RUN_STATES.map((s) => `'${s}'`).join(",")})`;

/**
 * $1 now: a started, unfinished run whose lease expired, or that was released and is not paused
 * (a released paused run waits for a resume or a cancel, which make it claimable).
 */
const ORPHANED = `${STARTED} AND ((lease_owner IS NULL AND state <> 'paused') OR lease_expires_at < $1)`;

/** $1-$10: a new run's values, in NEW_RUN_COLUMNS order. */
export const INSERT_RUN = `
INSERT INTO runs (${NEW_RUN_COLUMNS.join(", ")})
VALUES (${NEW_RUN_COLUMNS.map((_, i) => `$${i + 1}`).join(", ")})
RETURNING *`;

/** $1 run id. */
export const GET_RUN = "SELECT * FROM runs WHERE id = $1";

/** $1 run id: locked until commit, so the decision and the write see the same row. */
export const LOCK_RUN = sql`${GET_RUN} ${FOR_UPDATE}`;

/**
 * $1-$11 the changed columns in RUN_CHANGE_COLUMNS order, $12 now, $13 run id, $14 the version
 * read: no row when the run moved on since (which the row lock, or SQLite's one writer, rules out).
 */
export const UPDATE_RUN = `
UPDATE runs SET state = $1, pid = $2, current_turn = $3, stats = $4, completion = $5, error = $6,
  lease_owner = $7, lease_token = $8, lease_expires_at = $9, started_at = $10, finished_at = $11,
  updated_at = $12, version = version + 1
WHERE id = $13 AND version = $14
RETURNING *`;

/**
 * $1 now: the oldest run to claim, a queued one or an orphaned one. SQLite reads each through its
 * own partial index (queued runs oldest first, started runs by lease) and keeps the older.
 * PostgreSQL locks the row, skipping runs other claimers hold, so supervisors on any number of
 * nodes never wait for each other nor take the same run.
 */
export const NEXT_CLAIMABLE: Sql = {
  sqlite: `
SELECT * FROM (SELECT * FROM runs INDEXED BY runs_queued WHERE state = 'queued' ORDER BY created_at, id LIMIT 1)
UNION ALL
SELECT * FROM (SELECT * FROM runs INDEXED BY runs_leases WHERE ${ORPHANED} ORDER BY created_at, id LIMIT 1)
ORDER BY created_at, id LIMIT 1`,
  postgres: `
SELECT * FROM runs
WHERE state = 'queued' OR (${ORPHANED})
ORDER BY created_at, id
LIMIT 1
FOR UPDATE SKIP LOCKED`,
};

/** $1 new expiry, $2 run id, $3 worker id, $4 token. Lease extensions are not changes a person sees: no version bump. */
export const EXTEND_LEASE = `
UPDATE runs SET lease_expires_at = $1
WHERE id = $2 AND lease_owner = $3 AND lease_token = $4 AND ${STARTED}
RETURNING *`;

/** $1 run id, $2 turn, $3 now: the turn still `running` under a vanished supervisor. */
export const LOSE_TURN = `
UPDATE run_turns SET outcome = 'lost', finished_at = $3 WHERE run_id = $1 AND turn = $2 AND outcome = 'running'
RETURNING *`;

/** $1 run id, $2 turn, $3 pid, $4 host, $5 worker id, $6 now. */
export const INSERT_TURN = `
INSERT INTO run_turns (run_id, turn, outcome, pid, host, worker_id, output_bytes, started_at)
VALUES ($1, $2, 'running', $3, $4, $5, 0, $6)`;

/** $1 run id, $2 turn, $3 outcome, $4 exit code, $5 signal, $6 now. */
export const FINISH_TURN = `
UPDATE run_turns SET outcome = $3, exit_code = $4, signal = $5, finished_at = $6 WHERE run_id = $1 AND turn = $2`;

/** $1 run id, $2 turn. */
export const GET_TURN = "SELECT * FROM run_turns WHERE run_id = $1 AND turn = $2";

/** $1 run id. */
export const LIST_TURNS = "SELECT * FROM run_turns WHERE run_id = $1 ORDER BY turn";

/** $1 run id, $2 turn, $3 offset, $4 bytes. */
export const INSERT_OUTPUT = `INSERT INTO run_output (run_id, turn, "offset", data) VALUES ($1, $2, $3, $4)`;

/** $1 run id, $2 turn, $3 bytes appended. */
export const ADD_OUTPUT_BYTES = "UPDATE run_turns SET output_bytes = output_bytes + $3 WHERE run_id = $1 AND turn = $2";

/**
 * $1 run id, $2 turn, $3 start, $4 end: the chunks overlapping [start, end), found through the
 * primary key from the last chunk starting at or before `start`.
 */
export const READ_OUTPUT = `
SELECT "offset" AS "offset", data FROM run_output
WHERE run_id = $1 AND turn = $2 AND "offset" < $4
  AND "offset" >= coalesce(
    (SELECT max("offset") FROM run_output WHERE run_id = $1 AND turn = $2 AND "offset" <= $3), 0)
ORDER BY "offset"`;

export const COUNT_RUNS = "SELECT state, count(*) AS n FROM runs GROUP BY state";

/**
 * A page of runs, newest first: only the conditions of the filters given, so each combination
 * is planned for itself; `limit` is the page size's parameter (`$n`).
 */
export function listRuns(conditions: readonly Sql[], limit: string): Sql {
  const text = (dialect: Dialect) => {
    const where = conditions.map((c) => sqlFor(c, dialect)).join(" AND ");
    return `SELECT * FROM runs ${where ? `WHERE ${where}` : ""} ORDER BY id DESC LIMIT ${limit}`;
  };
  return { sqlite: text("sqlite"), postgres: text("postgres") };
}

/**
 * How many runs the conditions match, counting no further than the `limit` parameter (`$n`):
 * ids only, in no order, so the reading stops at the cap.
 */
export function countMatchingRuns(conditions: readonly Sql[], limit: string): Sql {
  const text = (dialect: Dialect) => {
    const where = conditions.map((c) => sqlFor(c, dialect)).join(" AND ");
    return `SELECT count(*) AS n FROM (SELECT id FROM runs ${where ? `WHERE ${where}` : ""} LIMIT ${limit}) AS matched`;
  };
  return { sqlite: text("sqlite"), postgres: text("postgres") };
}

// -- messages --------------------------------------------------------------------------------

/** $1 id, $2 run id, $3 body, $4 sent by, $5 now. */
export const INSERT_MESSAGE = `
INSERT INTO run_messages (id, run_id, body, sent_by, created_at, turn) VALUES ($1, $2, $3, $4, $5, NULL)
RETURNING *`;

/** $1 run id, $2 limit: the newest, newest first. */
export const LIST_MESSAGES = "SELECT * FROM run_messages WHERE run_id = $1 ORDER BY id DESC LIMIT $2";

/** $1 run id, $2 limit: those waiting for a turn, oldest first. */
export const WAITING_MESSAGES = "SELECT * FROM run_messages WHERE run_id = $1 AND turn IS NULL ORDER BY id LIMIT $2";

/** $1 run id, $2 turn: the messages given to a turn that did not run to its end wait again. */
export const RETURN_MESSAGES = "UPDATE run_messages SET turn = NULL WHERE run_id = $1 AND turn = $2";

/** $1 turn, $2 run id, $3 message ids: those still waiting are given to the turn. */
export const DELIVER_MESSAGES = sql`UPDATE run_messages SET turn = $1 WHERE run_id = $2 AND turn IS NULL AND ${inList("id", "$3")}`;

/** $1 run id: the runs started again from it, oldest first. */
export const LIST_RERUNS = "SELECT id FROM runs WHERE rerun_of = $1 ORDER BY id";
