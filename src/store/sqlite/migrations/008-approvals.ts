/**
 * 008: approvals (see core/approval.ts), and the job state `awaiting_approval`. SQLite cannot
 * alter a CHECK constraint, so `jobs` and `job_steps` (whose kinds gain `approval`) are rebuilt
 * the way SQLite documents (https://www.sqlite.org/lang_altertable.html#otheralter): create the
 * new table with the full current definition (every column of 001, no later migration added any
 * to either table), copy the rows, drop the old table, rename, and recreate every index the old
 * table had (001 and 004 for jobs). No foreign keys, triggers or views refer to either table.
 * It runs inside the migration's transaction, so a failure leaves the file at version 7.
 *
 * `approvals`: one row per request. `(job_id, step)` is unique among requests that were not
 * cancelled: a job retried after a cancel asks again for the same step. JSON is TEXT.
 */
export const sql = `
CREATE TABLE jobs_new (
  id TEXT PRIMARY KEY,
  task TEXT NOT NULL,
  queue TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('scheduled','queued','running','awaiting_approval','succeeded','dead','cancelled')),
  payload TEXT NOT NULL,
  result TEXT,
  priority INTEGER NOT NULL,
  run_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL,
  backoff TEXT NOT NULL,
  idempotency_key TEXT,
  idempotency_ttl_ms INTEGER NOT NULL DEFAULT 0,
  idempotency_expires_at INTEGER,
  concurrency_key TEXT,
  concurrency_limit INTEGER,
  concurrency_on_limit TEXT,
  rate_key TEXT,
  rate_limit INTEGER,
  rate_period_ms INTEGER,
  progress TEXT,
  last_error TEXT,
  lease_owner TEXT,
  lease_token INTEGER NOT NULL DEFAULT 0,
  lease_expires_at INTEGER,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER,
  version INTEGER NOT NULL DEFAULT 1
);
INSERT INTO jobs_new (id, task, queue, state, payload, result, priority, run_at, attempts, max_attempts,
  backoff, idempotency_key, idempotency_ttl_ms, idempotency_expires_at, concurrency_key,
  concurrency_limit, concurrency_on_limit, rate_key, rate_limit, rate_period_ms, progress, last_error,
  lease_owner, lease_token, lease_expires_at, cancel_requested, created_at, started_at, finished_at, version)
SELECT id, task, queue, state, payload, result, priority, run_at, attempts, max_attempts,
  backoff, idempotency_key, idempotency_ttl_ms, idempotency_expires_at, concurrency_key,
  concurrency_limit, concurrency_on_limit, rate_key, rate_limit, rate_period_ms, progress, last_error,
  lease_owner, lease_token, lease_expires_at, cancel_requested, created_at, started_at, finished_at, version
FROM jobs;
DROP TABLE jobs;
ALTER TABLE jobs_new RENAME TO jobs;
CREATE INDEX jobs_ready ON jobs (priority, run_at, id) WHERE state = 'queued';
CREATE INDEX jobs_scheduled ON jobs (run_at) WHERE state = 'scheduled';
CREATE INDEX jobs_leases ON jobs (lease_expires_at) WHERE state = 'running';
CREATE INDEX jobs_concurrency ON jobs (concurrency_key, state) WHERE concurrency_key IS NOT NULL;
CREATE INDEX jobs_idempotency ON jobs (task, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX jobs_state ON jobs (state, id);
CREATE INDEX jobs_queue_state ON jobs (queue, state);
CREATE INDEX jobs_finished ON jobs (state, finished_at) WHERE finished_at IS NOT NULL;

CREATE TABLE job_steps_new (
  job_id TEXT NOT NULL,
  name TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('step','sleep','wait','approval')),
  result TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (job_id, name)
) WITHOUT ROWID;
INSERT INTO job_steps_new (job_id, name, kind, result, created_at)
SELECT job_id, name, kind, result, created_at FROM job_steps;
DROP TABLE job_steps;
ALTER TABLE job_steps_new RENAME TO job_steps;

CREATE TABLE approvals (
  id TEXT PRIMARY KEY,
  job_id TEXT NOT NULL,
  step TEXT NOT NULL,
  title TEXT NOT NULL,
  details TEXT NOT NULL,
  risk TEXT NOT NULL CHECK (risk IN ('low','medium','high','critical')),
  approvers TEXT NOT NULL,
  quorum INTEGER NOT NULL CHECK (quorum >= 1),
  requested_by TEXT,
  on_timeout TEXT NOT NULL CHECK (on_timeout IN ('deny','approve','escalate')),
  state TEXT NOT NULL CHECK (state IN ('pending','approved','denied','timed_out','cancelled')),
  decisions TEXT NOT NULL,
  outcome TEXT,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  settled_at INTEGER,
  version INTEGER NOT NULL DEFAULT 1
);
-- The watchdog: pending requests by expiry.
CREATE INDEX approvals_pending ON approvals (expires_at, id) WHERE state = 'pending';
-- A job's requests; one live request per step.
CREATE UNIQUE INDEX approvals_job_step ON approvals (job_id, step) WHERE state <> 'cancelled';
CREATE INDEX approvals_job ON approvals (job_id, created_at);
-- Listing: pending oldest first, then settled newest first, each by (created_at, id).
CREATE INDEX approvals_listing ON approvals (state, created_at, id);
`;
