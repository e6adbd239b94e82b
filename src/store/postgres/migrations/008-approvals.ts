/**
 * 008: approvals (see core/approval.ts), as in SQLite's 008, and the job state
 * `awaiting_approval`. The CHECK constraints of `jobs.state` and `job_steps.kind` were declared
 * inline in 001 and 007, so PostgreSQL named them `jobs_state_check` and `job_steps_kind_check`;
 * each is dropped and added again with the new value (DDL is transactional, so this is atomic
 * with the rest of the migration). Ids and names sort bytewise ("C"), as in SQLite.
 */
export const sql = `
ALTER TABLE jobs DROP CONSTRAINT jobs_state_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_state_check
  CHECK (state IN ('scheduled','queued','running','awaiting_approval','succeeded','dead','cancelled'));

ALTER TABLE job_steps DROP CONSTRAINT job_steps_kind_check;
ALTER TABLE job_steps ADD CONSTRAINT job_steps_kind_check CHECK (kind IN ('step','sleep','wait','approval'));

CREATE TABLE approvals (
  id TEXT COLLATE "C" PRIMARY KEY,
  job_id TEXT COLLATE "C" NOT NULL,
  step TEXT COLLATE "C" NOT NULL,
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
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  settled_at BIGINT,
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
