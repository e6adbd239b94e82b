import { from, to } from "../jobs/statements.js";
import { LOCK } from "../locks.js";
import type { PreparedStatement } from "./connection.js";

const UNFINISHED = "state IN ('scheduled','queued','running','awaiting_approval')";
/** When a finished job's idempotency key frees up, finished at `now`. */
const idempotencyExpiry = (now = "$1") =>
  `CASE WHEN idempotency_key IS NULL THEN NULL ELSE ${now} + idempotency_ttl_ms END`;

// -- plumbing -----------------------------------------------------------------------------

/** The database clock in epoch ms: clock_timestamp, not now(), which is frozen at transaction start. */
export const DB_CLOCK = "(extract(epoch from clock_timestamp()) * 1000)::bigint";
export const DB_NOW = `SELECT ${DB_CLOCK} AS now`;
/** The database clock at the start of the transaction: one value however often it is used in it. */
export const TX_CLOCK = "(extract(epoch from now()) * 1000)::bigint";
export const NOTIFY_CHANGES = "SELECT pg_notify('overseer_changes', '')";
export const LISTEN_CHANGES = "LISTEN overseer_changes";
/**
 * One event appender per schema at a time, until commit: events take their sequence numbers in
 * commit order (see `Transaction.runClosing` in connection.ts).
 */
export const EVENTS_LOCK = `pg_advisory_xact_lock(${LOCK.events}, hashtext(current_schema()))`;
/** $1 lock class, $2 key (hashed to the second int4). */
export const LOCK_KEY = "SELECT pg_advisory_xact_lock($1::int4, hashtext($2))";

/**
 * Many events at once (the events lock already held), from text[] expressions of kinds, job
 * ids, worker ids, data JSON texts and run ids, appended in array order, which ORDER BY fixes
 * for the identity values.
 */
export function insertEvents(
  at: string,
  kinds: string,
  jobIds: string,
  workerIds: string,
  data: string,
  runIds: string,
): string {
  return `
INSERT INTO events (at, kind, job_id, worker_id, data, run_id)
SELECT ${at}, e.kind, e.job_id, e.worker_id, e.data, e.run_id
FROM unnest(${kinds}, ${jobIds}, ${workerIds}, ${data}, ${runIds})
  WITH ORDINALITY AS e(kind, job_id, worker_id, data, run_id, n)
ORDER BY e.n`;
}

// -- migrations ---------------------------------------------------------------------------

export const CREATE_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at BIGINT NOT NULL
)`;
/** $1 lock class: one migrator per schema at a time, across every process. */
export const LOCK_MIGRATIONS = "SELECT pg_advisory_xact_lock($1::int4, hashtext(current_schema()))";
export const CURRENT_VERSION = "SELECT coalesce(max(version), 0) AS version FROM schema_migrations";
/** $1 version, $2 name, $3 now. */
export const RECORD_MIGRATION = "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)";

// -- producing ----------------------------------------------------------------------------

/** $1 task, $2 idempotency key, $3 now: the job that still owns the key, if any. */
export const FIND_BY_IDEMPOTENCY_KEY = `
SELECT * FROM jobs
WHERE task = $1 AND idempotency_key = $2 AND (${UNFINISHED} OR idempotency_expires_at > $3)
ORDER BY id DESC LIMIT 1`;

/** $1 concurrency key: unfinished jobs holding or waiting for the key. */
export const COUNT_UNFINISHED_BY_CONCURRENCY_KEY = `
SELECT count(*) AS n FROM jobs WHERE concurrency_key = $1 AND ${UNFINISHED}`;

/** $1 concurrency key: jobs holding the key right now. */
export const COUNT_RUNNING_BY_CONCURRENCY_KEY = `
SELECT count(*) AS n FROM jobs WHERE concurrency_key = $1 AND state = 'running'`;

// -- claiming -----------------------------------------------------------------------------

/**
 * Claims must walk the ready index in claim order and stop at their limit. Right after a bulk
 * enqueue the table's statistics are stale (autovacuum has not analysed it yet), and the
 * planner, believing a handful of rows match, reads and sorts every ready job instead: 6 ms
 * rather than 0.1 ms with 4,000 waiting. Sorts and bitmap scans are therefore off for claim
 * transactions, which leaves it the index walk whatever the statistics say. JIT goes too: the
 * penalty those settings add to a plan's cost would otherwise cross the JIT threshold and spend
 * seconds compiling a query that runs in microseconds.
 */
export const CLAIM_PLANNING = [
  "SET LOCAL enable_sort = off",
  "SET LOCAL enable_bitmapscan = off",
  "SET LOCAL jit = off",
] as const;

/**
 * $1 now: due scheduled jobs become queued. Rows another transaction holds are skipped rather
 * than waited for: that transaction is promoting or changing them already. Every claim runs it,
 * so it is prepared: planned afresh, it took 0.2 ms of a claim's 0.5 with nothing due.
 */
export const PREPARE_PROMOTE_DUE = {
  name: "overseer_promote_due",
  sql: `
PREPARE overseer_promote_due (bigint) AS
UPDATE jobs SET state = ${to("promote")}, version = version + 1
WHERE id IN (SELECT id FROM jobs WHERE ${from("promote")} AND run_at <= $1 ORDER BY run_at LIMIT 1000
             FOR UPDATE SKIP LOCKED)`,
} as const;

/** $1 tasks, $2 now or NULL for the database's: is anything worth opening a transaction for? */
export const ANY_READY = `
SELECT EXISTS (SELECT 1 FROM jobs WHERE state = 'queued' AND task = ANY($1::text[]))
    OR EXISTS (SELECT 1 FROM jobs WHERE state = 'scheduled'
               AND run_at <= coalesce($2::bigint, (extract(epoch from clock_timestamp()) * 1000)::bigint)) AS ready`;

/**
 * Ready jobs in claim order for these tasks ($5) and queues ($6, or NULL for all), after the
 * claim-order key $2-$4 (priority, run_at, id; a later page starts after the last row read),
 * skipping paused queues and those whose circuit breaker is not closed (but for a half-open one's
 * probe job), and keys that look saturated (rechecked under the key's lock by the
 * caller), locked for this claim and skipping those another claim holds. $1 limit.
 */
export const SELECT_CLAIMABLE = `
SELECT * FROM jobs
WHERE ${from("claim")}
  AND (priority, run_at, id) > ($2::int, $3::bigint, $4::text)
  AND task = ANY($5::text[])
  AND ($6::text[] IS NULL OR queue = ANY($6::text[]))
  AND (queue NOT IN (SELECT name FROM queues WHERE paused = 1 OR breaker_state <> 'closed')
       OR id IN (SELECT breaker_probe FROM queues WHERE paused = 0 AND breaker_state = 'half_open'))
  AND (concurrency_key IS NULL
       OR (SELECT count(*) FROM jobs r WHERE r.concurrency_key = jobs.concurrency_key AND r.state = 'running')
          < concurrency_limit)
ORDER BY priority, run_at, id
LIMIT $1
FOR UPDATE SKIP LOCKED`;

/**
 * A claim's first page in one statement: $1-$6 as SELECT_CLAIMABLE, $7 worker id, $8 lease
 * expiry, $9 now, $10 how many start now (the rest are held, see ClaimRequest.start).
 * Candidates are claimed in order up to the first one with a concurrency key or rate limit,
 * which needs the caller's checks under locks. Every candidate comes back with its place `n` in
 * claim order: those claimed as the claim left them (`claimed` true), the rest (still locked)
 * as read, for the caller to go on with. No join matches the two halves up: with the planner's
 * row estimates off (see CLAIM_PLANNING) it would be a nested loop, quadratic in the batch.
 *
 * With `appendEvents`, the statement also appends the claimed jobs' `job.started` events (as
 * `tx.event` writes them), under the events lock, for a transaction that commits right after.
 *
 * Prepared once per connection (see PgConnection's `Opening`): planning this statement costs
 * more than running it (0.5 ms against 0.15 ms with a few jobs waiting).
 */
function claimFirstPage(name: string, appendEvents: boolean): PreparedStatement {
  const events = `,
locked AS (SELECT ${EVENTS_LOCK} FROM (SELECT count(*) AS n FROM claimed) AS c WHERE c.n > 0),
appended AS (
  INSERT INTO events (at, kind, job_id, worker_id, data)
  SELECT $9, 'job.started', claimed.id, $7,
    '{"attempt":' || claimed.attempts || ',"task":' || to_json(claimed.task)::text || '}'
  FROM claimed, locked ORDER BY claimed.n
)`;
  return {
    name,
    sql: `
PREPARE ${name} (int, int, bigint, text, text[], text[], text, bigint, bigint, int) AS
WITH candidates AS MATERIALIZED (${SELECT_CLAIMABLE}),
numbered AS (
  SELECT c.*, row_number() OVER (ORDER BY c.priority, c.run_at, c.id) AS n FROM candidates c
),
cut AS (
  SELECT coalesce(min(n), $1 + 1) AS n FROM numbered WHERE concurrency_key IS NOT NULL OR rate_key IS NOT NULL
),
claimed AS (
  UPDATE jobs SET state = ${to("claim")}, attempts = jobs.attempts + 1, lease_owner = $7,
    lease_token = jobs.lease_token + 1, lease_expires_at = $8, started_at = $9, cancel_requested = 0,
    held = CASE WHEN numbered.n > $10 THEN 1 ELSE 0 END, version = jobs.version + 1
  FROM numbered, cut
  WHERE jobs.id = numbered.id AND numbered.n < cut.n
  RETURNING jobs.*, numbered.n
)${appendEvents ? events : ""}
SELECT *, true AS claimed FROM claimed
UNION ALL
SELECT numbered.*, false FROM numbered, cut WHERE numbered.n >= cut.n`,
  };
}

export const PREPARE_CLAIM_FIRST_PAGE = claimFirstPage("overseer_claim_first_page", false);

/** PREPARE_CLAIM_FIRST_PAGE appending the claimed jobs' events, for a claim committed in its round trip. */
export const PREPARE_CLAIM_AT_ONCE = claimFirstPage("overseer_claim_at_once", true);

/**
 * $1 worker id, $2 lease expiry, $3 now, $4 job ids, $5 those of them held rather than started.
 * Returns each job's new fencing token.
 */
export const CLAIM_JOBS = `
UPDATE jobs SET state = ${to("claim")}, attempts = attempts + 1, lease_owner = $1,
  lease_token = lease_token + 1, lease_expires_at = $2, started_at = $3, cancel_requested = 0,
  held = CASE WHEN id = ANY($5::text[]) THEN 1 ELSE 0 END, version = version + 1
WHERE id = ANY($4::text[]) AND ${from("claim")}
RETURNING id, lease_token, attempts, version`;

/**
 * $1 now or NULL for the database's, $2 job ids, $3 tokens: held jobs whose handlers start now,
 * if their lease still holds (their attempts start with them, see RECORD_ATTEMPT).
 *
 * Committed without waiting for the WAL flush (`synchronous_commit` off for this statement's
 * own transaction only): the start must be visible before the handler runs, which an
 * asynchronous commit is, but it need not survive the database server crashing, since the claim
 * that leased the job did. Were the server to lose it, the job would still be leased to its
 * worker and its outcome recorded as usual; only if the worker died too would it go back
 * uncounted, though it ran: never overlapping, never lost. A worker process dying loses nothing of it.
 * Waiting for the flush was a third of a prefetching worker's drain time.
 */
export const PREPARE_START_HELD = {
  name: "overseer_start_held",
  sql: `
PREPARE overseer_start_held (bigint, text[], int[]) AS
WITH now AS (
  SELECT coalesce($1, (extract(epoch from clock_timestamp()) * 1000)::bigint) AS at,
    set_config('synchronous_commit', 'off', true) AS asynchronous
),
started AS (
  UPDATE jobs SET held = 0, started_at = now.at, version = version + 1
  FROM unnest($2, $3) AS l(id, token), now
  WHERE jobs.id = ANY($2) AND jobs.id = l.id AND jobs.lease_token = l.token
    AND jobs.state = 'running' AND jobs.held = 1 AND jobs.lease_expires_at >= now.at
  RETURNING jobs.id, jobs.lease_token
)
SELECT id, lease_token FROM started`,
} as const;

/** $1 run at (start of the next window), $2 job id. */
export const THROTTLE_JOB = `
UPDATE jobs SET state = ${to("throttle")}, run_at = $1, version = version + 1
WHERE id = $2 AND ${from("throttle")}`;

/** $1 job id: whether its last attempt parked (a durable sleep or wait): its next claim is that job resuming. */
export const LAST_ATTEMPT_PARKED =
  "SELECT outcome = 'parked' AS parked FROM attempts WHERE job_id = $1 ORDER BY number DESC LIMIT 1";

/**
 * $1 key, $2 window start, $3 limit. Takes one slot of the key's window in one statement (the
 * upsert locks the window's row, so concurrent claims count one after the other). No row back
 * means the window is spent.
 */
export const TAKE_RATE_SLOT = `
INSERT INTO rate_windows AS w (key, window_start, count) VALUES ($1, $2, 1)
ON CONFLICT (key) DO UPDATE
  SET window_start = excluded.window_start,
      count = CASE WHEN w.window_start = excluded.window_start THEN w.count + 1 ELSE 1 END
  WHERE w.window_start <> excluded.window_start OR w.count < $3
RETURNING count`;

// -- leases -------------------------------------------------------------------------------

/** $1 new expiry, $2 job ids, $3 tokens. Returns the leases still held. */
export const EXTEND_LEASES = `
UPDATE jobs SET lease_expires_at = $1
FROM unnest($2::text[], $3::int[]) AS l(id, token)
WHERE jobs.id = l.id AND jobs.lease_token = l.token AND jobs.state = 'running'
RETURNING jobs.id, jobs.lease_token, jobs.cancel_requested`;

/** $1 now or NULL for the database's: has any lease expired? (A read, so idle maintenance opens no transaction.) */
export const ANY_EXPIRED_LEASE = `
SELECT EXISTS (SELECT 1 FROM jobs WHERE state = 'running'
               AND lease_expires_at < coalesce($1::bigint, (extract(epoch from clock_timestamp()) * 1000)::bigint)) AS expired`;

/** $1 now, $2 limit: running jobs whose lease has expired, locked (skipping any another recoverer holds). */
export const SELECT_EXPIRED_LEASES = `
SELECT * FROM jobs WHERE state = 'running' AND lease_expires_at < $1
ORDER BY lease_expires_at LIMIT $2
FOR UPDATE SKIP LOCKED`;

// -- finishing (all guarded by job id + fencing token) ------------------------------------

/**
 * Successful attempts, from array expressions of job ids (text[]), tokens (int[]), result JSON
 * texts and worker ids (text[]), at `now`: the jobs and their attempts (see RECORD_ATTEMPT) in one
 * statement. Returns the jobs whose lease still matched, in the order given, with what their
 * job.succeeded events say.
 *
 * With `appendEvents`, the statement appends those events too, for a transaction that commits
 * in the same round trip (see `succeedAll` in finish.ts): the events lock is taken once the jobs
 * are updated (`locked` reads all of `done`) and held only to that commit, as
 * `Transaction.runClosing` holds it. When no lease matched, nothing is appended and no lock taken.
 * A transaction that goes on after this statement must not append here: it would hold the lock
 * while it takes others.
 */
export function succeedJobs(
  now: string,
  ids: string,
  tokens: string,
  results: string,
  workers: string,
  appendEvents: boolean,
): string {
  const events = `,
locked AS (SELECT ${EVENTS_LOCK} FROM (SELECT count(*) FROM done) AS updated),
appended AS (
  INSERT INTO events (at, kind, job_id, worker_id, data)
  SELECT ${now}, 'job.succeeded', done.id, done.worker,
    '{"attempt":' || done.attempts || ',"durationMs":' || (${now} - coalesce(done.started_at, 0)) || '}'
  FROM done, locked ORDER BY done.n
)`;
  return `
WITH done AS (
  UPDATE jobs SET state = ${to("succeed")}, result = r.result, finished_at = ${now}, lease_owner = NULL,
    lease_expires_at = NULL, idempotency_expires_at = ${idempotencyExpiry(now)}, version = version + 1
  FROM unnest(${ids}, ${tokens}, ${results}, ${workers}) WITH ORDINALITY AS r(id, token, result, worker, n)
  WHERE jobs.id = r.id AND jobs.lease_token = r.token AND jobs.${from("succeed")}
  RETURNING jobs.id, jobs.lease_token, jobs.started_at, jobs.attempts, r.worker, r.n
),
attempt AS (
  INSERT INTO attempts (job_id, number, worker_id, started_at, finished_at, outcome)
  SELECT id, lease_token, worker, started_at, ${now}, 'succeeded' FROM done
)${appendEvents ? events : ""}
SELECT id, lease_token, started_at, attempts FROM done ORDER BY n`;
}

/** $1 run at, $2 error JSON, $3 job id, $4 token. */
export const SCHEDULE_RETRY = `
UPDATE jobs SET state = ${to("scheduleRetry")}, run_at = $1, last_error = $2, lease_owner = NULL,
  lease_expires_at = NULL, version = version + 1
WHERE id = $3 AND lease_token = $4 AND ${from("scheduleRetry")}
RETURNING attempts`;

/** $1 now, $2 error JSON, $3 job id, $4 token. */
export const KILL_JOB = `
UPDATE jobs SET state = ${to("die")}, finished_at = $1, last_error = $2, lease_owner = NULL, lease_expires_at = NULL,
  idempotency_expires_at = ${idempotencyExpiry()}, version = version + 1
WHERE id = $3 AND lease_token = $4 AND ${from("die")}
RETURNING attempts`;

/** $1 now, $2 error JSON or NULL, $3 job id, $4 token. */
export const CANCEL_RUNNING_JOB = `
UPDATE jobs SET state = ${to("cancelRunning")}, finished_at = $1, last_error = coalesce($2, last_error),
  lease_owner = NULL, lease_expires_at = NULL, idempotency_expires_at = ${idempotencyExpiry()},
  version = version + 1
WHERE id = $3 AND lease_token = $4 AND ${from("cancelRunning")}
RETURNING attempts`;

/**
 * $1 job id, $2 token, $3 error JSON or NULL. The attempt is handed back uncounted; the job keeps
 * its place in line. An expired lease leaves its error (see `startMode` in start-batcher.ts).
 */
export const RELEASE_JOB = `
UPDATE jobs SET state = ${to("release")}, attempts = attempts - 1, lease_owner = NULL, lease_expires_at = NULL,
  last_error = coalesce($3, last_error), version = version + 1
WHERE id = $1 AND lease_token = $2 AND ${from("release")}
RETURNING attempts`;

/** $1 job id, $2 token, $3 error JSON. The attempt counts: a job that keeps killing its worker must end. */
export const RECOVER_LOST_JOB = `
UPDATE jobs SET state = ${to("recoverLost")}, lease_owner = NULL, lease_expires_at = NULL, last_error = $3,
  version = version + 1
WHERE id = $1 AND lease_token = $2 AND ${from("recoverLost")}`;

// -- operating ----------------------------------------------------------------------------

/** $1 job id. */
export const GET_JOB = "SELECT * FROM jobs WHERE id = $1";

// -- workers ------------------------------------------------------------------------------

/**
 * $1 now, $2 worker id, $3 processed and $4 failed (NULL: unchanged). A worker marked lost that
 * heartbeats again is alive after all (quiet if it was told to be). Returns the command left for it.
 */
export const WORKER_HEARTBEAT = `
UPDATE workers SET heartbeat_at = $1,
  status = CASE WHEN status <> 'lost' THEN status WHEN command IS NULL THEN 'active' ELSE 'quiet' END,
  processed = COALESCE($3::bigint, processed), failed = COALESCE($4::bigint, failed)
WHERE id = $2 RETURNING command`;
