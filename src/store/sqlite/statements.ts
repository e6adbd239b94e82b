/**
 * The SQL statements of the SQLite store, one named constant each, parameters listed (the queue
 * flags and tokens keep theirs in queues.ts and tokens.ts).
 * State guards are compiled from `core/job-state.ts`, so the state machine lives in one place.
 */
import { TRANSITIONS } from "../../core/job-state.js";
import { from, to } from "../jobs/statements.js";
import { NEW_JOB_COLUMNS } from "../new-job.js";
import { JOB_COLUMNS } from "../rows.js";

const UNFINISHED = "state IN ('scheduled','queued','running','awaiting_approval')";

// -- producing --------------------------------------------------------------------------

/** ?1-?N: a new job's values, from `insertJobParams`, in NEW_JOB_COLUMNS order. */
export const INSERT_JOB = `
INSERT INTO jobs (${NEW_JOB_COLUMNS.join(", ")})
VALUES (${NEW_JOB_COLUMNS.map((_, i) => `?${i + 1}`).join(", ")})`;

/** ?1 task, ?2 idempotency key, ?3 now: the job that still owns the key, if any. */
export const FIND_BY_IDEMPOTENCY_KEY = `
SELECT * FROM jobs
WHERE task = ?1 AND idempotency_key = ?2
  AND (${UNFINISHED} OR idempotency_expires_at > ?3)
ORDER BY id DESC LIMIT 1`;

/** ?1 concurrency key: unfinished jobs holding or waiting for the key. */
export const COUNT_UNFINISHED_BY_CONCURRENCY_KEY = `
SELECT count(*) AS n FROM jobs WHERE concurrency_key = ?1 AND ${UNFINISHED}`;

/** ?1 concurrency key: jobs holding the key right now. */
export const COUNT_RUNNING_BY_CONCURRENCY_KEY = `
SELECT count(*) AS n FROM jobs WHERE concurrency_key = ?1 AND state = 'running'`;

// -- claiming ---------------------------------------------------------------------------

/** ?1 now, ?2 limit: scheduled jobs whose time has come become queued. */
export const PROMOTE_DUE = `
UPDATE jobs SET state = ${to("promote")}, version = version + 1
WHERE id IN (SELECT id FROM jobs INDEXED BY jobs_scheduled WHERE ${from("promote")} AND run_at <= ?1 ORDER BY run_at LIMIT ?2)`;

/** ?1 now: is a scheduled job due? (Cheaper than an UPDATE that finds nothing.) */
export const ANY_DUE = `
SELECT EXISTS (SELECT 1 FROM jobs INDEXED BY jobs_scheduled WHERE state = 'scheduled' AND run_at <= ?1) AS due`;

/** ?1 tasks (JSON array), ?2 now: is anything worth taking the write lock for? */
export const ANY_READY = `
SELECT EXISTS (SELECT 1 FROM jobs INDEXED BY jobs_ready WHERE state = 'queued' AND task IN (SELECT value FROM json_each(?1)))
    OR EXISTS (SELECT 1 FROM jobs INDEXED BY jobs_scheduled WHERE state = 'scheduled' AND run_at <= ?2) AS ready`;

/** An SQL string literal. Names are validated to [A-Za-z0-9._:-] already; quoting is defence in depth. */
const literal = (value: string): string => `'${value.replaceAll("'", "''")}'`;

/**
 * Ready jobs in claim order, in JOB_COLUMNS order, for these tasks (and queues, or all), skipping
 * held queues (paused, or their breaker not closed, but for a half-open one's probe job) and
 * saturated concurrency keys. ?1 limit, ?2-?4 the claim-order key
 * (priority, run_at, id) to start after, for the next page. The lists are written into the text
 * rather than bound as JSON: a worker's tasks rarely change, the statement is cached per text,
 * and literal lists cost a third of what json_each subqueries cost on every claim.
 */
export function selectClaimable(
  tasks: readonly string[],
  queues: readonly string[] | null,
  held: readonly string[],
): string {
  return `
SELECT ${JOB_COLUMNS.join(", ")} FROM jobs INDEXED BY jobs_ready
WHERE ${from("claim")}
  AND (priority, run_at, id) > (?2, ?3, ?4)
  AND task IN (${tasks.map(literal).join(", ")})
  ${queues === null ? "" : `AND queue IN (${queues.map(literal).join(", ")})`}
  ${held.length === 0 ? "" : `AND (queue NOT IN (${held.map(literal).join(", ")}) OR id IN (${HALF_OPEN_PROBES}))`}
  AND (concurrency_key IS NULL
       OR (SELECT count(*) FROM jobs r WHERE r.concurrency_key = jobs.concurrency_key AND r.state = 'running')
          < concurrency_limit)
ORDER BY priority, run_at, id
LIMIT ?1`;
}

/** Queues a claim skips: paused, or their breaker not closed. */
export const HELD_QUEUES = "SELECT name FROM queues WHERE paused = 1 OR breaker_state <> 'closed'";

/** The probe jobs a claim may take from held queues all the same: half-open breakers', in queues not paused. */
const HALF_OPEN_PROBES = "SELECT breaker_probe FROM queues WHERE paused = 0 AND breaker_state = 'half_open'";

/**
 * ?1 worker id, ?2 lease expiry, ?3 now, ?4 job ids (JSON array), ?5 those of them held rather
 * than started (JSON array, or NULL for none: the common case reads no list). Returns each job's
 * new fencing token.
 */
export const CLAIM_JOBS = `
UPDATE jobs SET state = ${to("claim")}, attempts = attempts + 1, lease_owner = ?1,
  lease_token = lease_token + 1, lease_expires_at = ?2, started_at = ?3, cancel_requested = 0,
  held = CASE WHEN ?5 IS NULL THEN 0 ELSE id IN (SELECT value FROM json_each(?5)) END, version = version + 1
WHERE id IN (SELECT value FROM json_each(?4)) AND ${from("claim")}
RETURNING id, lease_token, attempts, version`;

/** ?1 now, ?2 worker id, ?3 ids of the jobs just claimed (JSON array), in claim order. */
export const INSERT_STARTED_EVENTS = `
INSERT INTO events (at, kind, job_id, worker_id, data)
SELECT ?1, 'job.started', id, ?2, json_object('attempt', attempts, 'task', task)
FROM jobs WHERE id IN (SELECT value FROM json_each(?3))
ORDER BY priority, run_at, id`;

/**
 * ?1 now, ?2 leases: a JSON array of [job id, token]. Held jobs whose handlers start now, if their
 * lease still holds.
 */
export const START_HELD_JOBS = `
UPDATE jobs SET held = 0, started_at = ?1, version = version + 1
FROM json_each(?2) AS l
WHERE jobs.id = l.value ->> '$[0]' AND +jobs.lease_token = l.value ->> '$[1]'
  AND +jobs.state = 'running' AND jobs.held = 1 AND jobs.lease_expires_at >= ?1
RETURNING jobs.id, jobs.lease_token`;

/** ?1 run at (start of the next window), ?2 job id. */
export const THROTTLE_JOB = `
UPDATE jobs SET state = ${to("throttle")}, run_at = ?1, version = version + 1
WHERE id = ?2 AND ${from("throttle")}`;

/** ?1 key. */
export const GET_RATE_WINDOW = "SELECT window_start, count FROM rate_windows WHERE key = ?1";

/** ?1 job id: whether its last attempt parked (a durable sleep or wait): its next claim is that job resuming. */
export const LAST_ATTEMPT_PARKED =
  "SELECT outcome = 'parked' AS parked FROM attempts WHERE job_id = ?1 ORDER BY number DESC LIMIT 1";

/** ?1 key, ?2 window start, ?3 count. */
export const PUT_RATE_WINDOW = `
INSERT INTO rate_windows (key, window_start, count) VALUES (?1, ?2, ?3)
ON CONFLICT (key) DO UPDATE SET window_start = excluded.window_start, count = excluded.count`;

// -- leases -----------------------------------------------------------------------------

/** ?1 new expiry, ?2 job id, ?3 token. */
export const EXTEND_LEASE = `
UPDATE jobs SET lease_expires_at = ?1 WHERE id = ?2 AND lease_token = ?3 AND state = 'running'
RETURNING cancel_requested`;

/** ?1 now: has any lease expired? (A read, so idle workers' maintenance takes no write lock.) */
export const ANY_EXPIRED_LEASE = `
SELECT EXISTS (SELECT 1 FROM jobs INDEXED BY jobs_leases WHERE state = 'running' AND lease_expires_at < ?1) AS expired`;

/** ?1 now, ?2 limit: running jobs whose lease has expired. */
export const SELECT_EXPIRED_LEASES = `
SELECT * FROM jobs INDEXED BY jobs_leases WHERE state = 'running' AND lease_expires_at < ?1
ORDER BY lease_expires_at LIMIT ?2`;

// -- finishing (all guarded by job id + fencing token) -----------------------------------

/**
 * ?1 now, ?2 results: a JSON array of [job id, token, result JSON]. The jobs whose lease still
 * matched are returned; the rest are left alone.
 */
export const SUCCEED_JOBS = `
UPDATE jobs SET state = ${to("succeed")}, result = r.value ->> '$[2]', finished_at = ?1, lease_owner = NULL,
  lease_expires_at = NULL,
  idempotency_expires_at = CASE WHEN idempotency_key IS NULL THEN NULL ELSE ?1 + idempotency_ttl_ms END,
  version = version + 1
FROM json_each(?2) AS r
WHERE jobs.id = r.value ->> '$[0]' AND +jobs.lease_token = r.value ->> '$[1]'
  AND +jobs.state = '${TRANSITIONS.succeed.from[0]}' -- unary +: look jobs up by id, not by state
RETURNING jobs.id, jobs.lease_token, jobs.started_at, jobs.attempts`;

/**
 * ?1 finished at, ?2 succeeded attempts: a JSON array of [job id, number, worker id, started at].
 * Their rows, written once (see RECORD_ATTEMPT).
 */
export const RECORD_SUCCEEDED_ATTEMPTS = `
INSERT INTO attempts (job_id, number, worker_id, started_at, finished_at, outcome)
SELECT r.value ->> '$[0]', r.value ->> '$[1]', r.value ->> '$[2]', r.value ->> '$[3]', ?1, 'succeeded'
FROM json_each(?2) AS r`;

/** ?1 at, ?2 kind, ?3 events: a JSON array of [job id, worker id, data object]. */
export const INSERT_EVENTS = `
INSERT INTO events (at, kind, job_id, worker_id, data)
SELECT ?1, ?2, value ->> '$[0]', value ->> '$[1]', value -> '$[2]' FROM json_each(?3) ORDER BY key`;

/** ?1 run at, ?2 error JSON, ?3 job id, ?4 token. */
export const SCHEDULE_RETRY = `
UPDATE jobs SET state = ${to("scheduleRetry")}, run_at = ?1, last_error = ?2, lease_owner = NULL,
  lease_expires_at = NULL, version = version + 1
WHERE id = ?3 AND lease_token = ?4 AND ${from("scheduleRetry")}
RETURNING attempts`;

/** ?1 now, ?2 error JSON, ?3 job id, ?4 token. */
export const KILL_JOB = `
UPDATE jobs SET state = ${to("die")}, finished_at = ?1, last_error = ?2, lease_owner = NULL, lease_expires_at = NULL,
  idempotency_expires_at = CASE WHEN idempotency_key IS NULL THEN NULL ELSE ?1 + idempotency_ttl_ms END,
  version = version + 1
WHERE id = ?3 AND lease_token = ?4 AND ${from("die")}
RETURNING attempts`;

/** ?1 now, ?2 error JSON or NULL, ?3 job id, ?4 token. */
export const CANCEL_RUNNING_JOB = `
UPDATE jobs SET state = ${to("cancelRunning")}, finished_at = ?1, last_error = coalesce(?2, last_error),
  lease_owner = NULL, lease_expires_at = NULL,
  idempotency_expires_at = CASE WHEN idempotency_key IS NULL THEN NULL ELSE ?1 + idempotency_ttl_ms END,
  version = version + 1
WHERE id = ?3 AND lease_token = ?4 AND ${from("cancelRunning")}
RETURNING attempts`;

/**
 * ?1 job id, ?2 token, ?3 error JSON or NULL. The attempt is handed back uncounted; the job keeps
 * its place in line. An expired lease leaves its error (see `startMode` in start-batcher.ts).
 */
export const RELEASE_JOB = `
UPDATE jobs SET state = ${to("release")}, attempts = attempts - 1, lease_owner = NULL, lease_expires_at = NULL,
  last_error = coalesce(?3, last_error), version = version + 1
WHERE id = ?1 AND lease_token = ?2 AND ${from("release")}
RETURNING attempts`;

/** ?1 job id, ?2 token, ?3 error JSON. The attempt counts: a job that keeps killing its worker must end. */
export const RECOVER_LOST_JOB = `
UPDATE jobs SET state = ${to("recoverLost")}, lease_owner = NULL, lease_expires_at = NULL, last_error = ?3,
  version = version + 1
WHERE id = ?1 AND lease_token = ?2 AND ${from("recoverLost")}`;

// -- operating ----------------------------------------------------------------------------

export const GET_JOB = "SELECT * FROM jobs WHERE id = ?1";

// -- workers ------------------------------------------------------------------------------

/**
 * ?1 now, ?2 worker id, ?3 processed and ?4 failed (NULL: unchanged). A worker marked lost that
 * heartbeats again is alive after all (quiet if it was told to be). Returns the command left for it.
 */
export const WORKER_HEARTBEAT = `
UPDATE workers SET heartbeat_at = ?1,
  status = CASE WHEN status <> 'lost' THEN status WHEN command IS NULL THEN 'active' ELSE 'quiet' END,
  processed = COALESCE(?3, processed), failed = COALESCE(?4, failed)
WHERE id = ?2 RETURNING command`;

// -- events -------------------------------------------------------------------------------

/** ?1 at, ?2 kind, ?3 job id, ?4 worker id, ?5 data JSON, ?6 run id. */
export const INSERT_EVENT =
  "INSERT INTO events (at, kind, job_id, worker_id, data, run_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
