/** The SQL of the queues area (see operations.ts), parameters listed. */
import { FOR_UPDATE, FOR_UPDATE_SKIP_LOCKED, indexedBy, sql } from "../tx.js";

/** $1 name: the queue's version, its row locked until the write that follows. */
export const LOCK_QUEUE_VERSION = sql`SELECT version FROM queues WHERE name = $1 ${FOR_UPDATE}`;

/**
 * $1 name, $2 paused (0/1), $3 now, $4 expected version or NULL. Every write bumps the version;
 * returns nothing when the version moved (two nodes racing to create the row both read no row).
 */
export const SET_QUEUE_PAUSED = `
INSERT INTO queues (name, paused, updated_at, version) VALUES ($1, $2, $3, 1)
ON CONFLICT (name) DO UPDATE SET paused = excluded.paused, updated_at = excluded.updated_at,
  version = queues.version + 1
WHERE CAST($4 AS INTEGER) IS NULL OR queues.version = CAST($4 AS INTEGER)
RETURNING version`;

/** A queue's breaker columns, as LIST_QUEUE_FLAGS and LOCK_BREAKER read them. */
const BREAKER_COLUMNS =
  "breaker_state, breaker_opened_at, breaker_probe_at, breaker_probe, breaker_probe_token, breaker_trip";

/** The paused queues, by name (the queues table holds a row per queue ever paused or tripped). */
export const PAUSED_QUEUES = "SELECT name, updated_at FROM queues WHERE paused = 1 ORDER BY name";

export const LIST_QUEUE_FLAGS = `SELECT name, paused, version, ${BREAKER_COLUMNS} FROM queues`;

/** $1 name: whether its breaker is open or half-open; a pass finding it closed writes nothing. */
export const BREAKER_NOT_CLOSED = "SELECT 1 AS one FROM queues WHERE name = $1 AND breaker_state <> 'closed'";

/** $1 name: the breaker (and the pause flag), its row locked until the write that follows. */
export const LOCK_BREAKER = sql`SELECT paused, ${BREAKER_COLUMNS} FROM queues WHERE name = $1 ${FOR_UPDATE}`;

/**
 * $1 name, $2 now, $3 probe time, $4 trip (JSON): opens a closed breaker (making the queue's row
 * at version 0 if it has none; only pauses and resumes bump the version). Returns nothing when
 * the breaker was already open: another node tripped it first.
 */
export const OPEN_BREAKER = `
INSERT INTO queues (name, paused, updated_at, version, breaker_state, breaker_opened_at, breaker_probe_at, breaker_trip)
VALUES ($1, 0, $2, 0, 'open', $2, $3, $4)
ON CONFLICT (name) DO UPDATE SET breaker_state = 'open', breaker_opened_at = excluded.breaker_opened_at,
  breaker_probe_at = excluded.breaker_probe_at, breaker_probe = NULL, breaker_probe_token = NULL,
  breaker_trip = excluded.breaker_trip, updated_at = excluded.updated_at
WHERE queues.breaker_state = 'closed'
RETURNING name`;

/** $1 name, $2 probe time: open again after a failed probe, until $2. */
export const REOPEN_BREAKER = `
UPDATE queues SET breaker_state = 'open', breaker_probe_at = $2, breaker_probe = NULL, breaker_probe_token = NULL
WHERE name = $1`;

/** $1 name, $2 probe job id or NULL, $3 its fencing token, $4 now: half-open, with this probe picked now. */
export const SET_BREAKER_PROBE = `
UPDATE queues SET breaker_state = 'half_open', breaker_probe = $2, breaker_probe_token = $3, breaker_probe_at = $4
WHERE name = $1`;

/** $1 name, $2 now. */
export const CLOSE_BREAKER = `
UPDATE queues SET breaker_state = 'closed', breaker_opened_at = NULL, breaker_probe_at = NULL, breaker_probe = NULL,
  breaker_probe_token = NULL, breaker_trip = NULL, updated_at = $2
WHERE name = $1`;

/** $1 job id: what the breaker reads of its probe: its state, and its last ended attempt's number and outcome. */
export const GET_PROBE_JOB = `
SELECT j.state, a.number, a.outcome
FROM jobs j LEFT JOIN attempts a ON a.job_id = j.id
  AND a.number = (SELECT max(number) FROM attempts WHERE job_id = j.id)
WHERE j.id = $1`;

/**
 * The ids of the due jobs of queue $1 at $2, leaving out $3 (or NULL): its queued and its due
 * scheduled jobs, each state read from its own partial index.
 */
const DUE_OF_QUEUE = sql`
SELECT id FROM jobs ${indexedBy("jobs_ready")} WHERE state = 'queued' AND queue = $1 AND run_at <= $2
  AND (CAST($3 AS TEXT) IS NULL OR id <> $3)
UNION ALL
SELECT id FROM jobs ${indexedBy("jobs_scheduled")} WHERE state = 'scheduled' AND queue = $1 AND run_at <= $2
  AND (CAST($3 AS TEXT) IS NULL OR id <> $3)`;

/**
 * The due states again, on the rows themselves: PostgreSQL rechecks a row a concurrent claim
 * changed against its own conditions only, not against the subquery that found it.
 */
const DUE_STATES = "(state = 'queued' OR state = 'scheduled')";

/**
 * $1 queue, $2 now, $3 a job id to leave out or NULL: the queue's first due job in claim order,
 * the probe to pick, skipping one a claim is taking.
 */
export const NEXT_DUE_JOB_OF_QUEUE = sql`
SELECT id, lease_token FROM jobs WHERE id IN (${DUE_OF_QUEUE}) AND ${DUE_STATES}
ORDER BY priority, run_at, id
LIMIT 1 ${FOR_UPDATE_SKIP_LOCKED}`;

/**
 * $1 queue, $2 now, $3 the probe's id or NULL, $4 limit: the queue's due jobs a breaker may divert,
 * in claim order, locked, skipping those a claim is taking. Jobs with durable steps or approval
 * requests are left to wait: cancelling one mid-flow would throw away what it did and what a
 * person decided.
 */
export const DIVERTIBLE_JOBS_OF_QUEUE = sql`
SELECT * FROM jobs WHERE id IN (${DUE_OF_QUEUE}) AND ${DUE_STATES}
  AND NOT EXISTS (SELECT 1 FROM job_steps s WHERE s.job_id = jobs.id)
  AND NOT EXISTS (SELECT 1 FROM approvals a WHERE a.job_id = jobs.id)
ORDER BY priority, run_at, id
LIMIT $4 ${FOR_UPDATE_SKIP_LOCKED}`;
