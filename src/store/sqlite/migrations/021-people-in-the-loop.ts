/**
 * 021: runs that ask people. The run state `waiting` (a run waiting for an answer holds no process
 * and no lease), and approval requests that belong to a run instead of a job: `job_id` becomes
 * nullable, `run_id` is added (exactly one of the two is set), and `kind` says whether the
 * request is a yes or no (`approval`) or a `question`.
 *
 * SQLite cannot alter a CHECK constraint nor drop a NOT NULL, so `runs` and `approvals` are
 * rebuilt the way SQLite documents (https://www.sqlite.org/lang_altertable.html#otheralter), as
 * 008 did: the new table with the full current definition (005 and 020's `rerun_of` for runs,
 * 008 for approvals), the rows copied, the old table dropped, the new one renamed, and every
 * index the old table had created again (005, 011 and 020 for runs; 008 for approvals). No
 * foreign keys, triggers or views refer to either table. It runs inside the migration's
 * transaction, so a failure leaves the file at version 20.
 */
export const sql = `
CREATE TABLE runs_new (
  id TEXT PRIMARY KEY,
  profile TEXT,
  params TEXT NOT NULL,
  spec TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('queued','running','waiting','pausing','paused','cancelling','cancelled','completed','failed')),
  version INTEGER NOT NULL DEFAULT 1,
  pid INTEGER,
  current_turn INTEGER NOT NULL DEFAULT 0,
  stats TEXT NOT NULL,
  completion TEXT NOT NULL,
  error TEXT,
  lease_owner TEXT,
  lease_token INTEGER NOT NULL DEFAULT 0,
  lease_expires_at INTEGER,
  created_by TEXT,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER,
  updated_at INTEGER NOT NULL,
  rerun_of TEXT
);
INSERT INTO runs_new (id, profile, params, spec, state, version, pid, current_turn, stats, completion, error,
  lease_owner, lease_token, lease_expires_at, created_by, created_at, started_at, finished_at, updated_at, rerun_of)
SELECT id, profile, params, spec, state, version, pid, current_turn, stats, completion, error,
  lease_owner, lease_token, lease_expires_at, created_by, created_at, started_at, finished_at, updated_at, rerun_of
FROM runs;
DROP TABLE runs;
ALTER TABLE runs_new RENAME TO runs;
CREATE INDEX runs_state ON runs (state, id);
CREATE INDEX runs_profile ON runs (profile, id) WHERE profile IS NOT NULL;
CREATE INDEX runs_queued ON runs (created_at, id) WHERE state = 'queued';
CREATE INDEX runs_leases ON runs (lease_expires_at) WHERE state IN ('running','pausing','paused','cancelling');
CREATE INDEX runs_finished ON runs (finished_at, id) WHERE state IN ('cancelled','completed','failed');
CREATE INDEX runs_rerun_of ON runs (rerun_of, id) WHERE rerun_of IS NOT NULL;

CREATE TABLE approvals_new (
  id TEXT PRIMARY KEY,
  job_id TEXT,
  run_id TEXT,
  kind TEXT NOT NULL DEFAULT 'approval' CHECK (kind IN ('approval','question')),
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
  version INTEGER NOT NULL DEFAULT 1,
  CHECK ((job_id IS NULL) <> (run_id IS NULL))
);
INSERT INTO approvals_new (id, job_id, step, title, details, risk, approvers, quorum, requested_by, on_timeout,
  state, decisions, outcome, created_at, expires_at, settled_at, version)
SELECT id, job_id, step, title, details, risk, approvers, quorum, requested_by, on_timeout,
  state, decisions, outcome, created_at, expires_at, settled_at, version
FROM approvals;
DROP TABLE approvals;
ALTER TABLE approvals_new RENAME TO approvals;
CREATE INDEX approvals_pending ON approvals (expires_at, id) WHERE state = 'pending';
CREATE UNIQUE INDEX approvals_job_step ON approvals (job_id, step) WHERE state <> 'cancelled' AND job_id IS NOT NULL;
CREATE INDEX approvals_job ON approvals (job_id, created_at) WHERE job_id IS NOT NULL;
CREATE INDEX approvals_listing ON approvals (state, created_at, id);
-- A run's requests; one live request per step (the turn that asked).
CREATE UNIQUE INDEX approvals_run_step ON approvals (run_id, step) WHERE state <> 'cancelled' AND run_id IS NOT NULL;
CREATE INDEX approvals_run ON approvals (run_id, created_at) WHERE run_id IS NOT NULL;
`;
