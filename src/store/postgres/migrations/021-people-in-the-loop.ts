/**
 * 021: runs that ask people, as SQLite's 021: the run state `waiting`, and approval requests
 * that belong to a run (`run_id`) instead of a job (`job_id` becomes nullable; exactly one is
 * set), with their `kind` (`approval` or `question`). The inline CHECK of `runs.state` (005) is
 * named `runs_state_check`; it is dropped and added again (DDL is transactional, so this is
 * atomic with the rest of the migration).
 */
export const sql = `
ALTER TABLE runs DROP CONSTRAINT runs_state_check;
ALTER TABLE runs ADD CONSTRAINT runs_state_check
  CHECK (state IN ('queued','running','waiting','pausing','paused','cancelling','cancelled','completed','failed'));

ALTER TABLE approvals ALTER COLUMN job_id DROP NOT NULL;
ALTER TABLE approvals ADD COLUMN run_id TEXT COLLATE "C";
ALTER TABLE approvals ADD COLUMN kind TEXT NOT NULL DEFAULT 'approval' CHECK (kind IN ('approval','question'));
ALTER TABLE approvals ADD CONSTRAINT approvals_owner_check CHECK ((job_id IS NULL) <> (run_id IS NULL));
-- A run's requests; one live request per step (the turn that asked).
CREATE UNIQUE INDEX approvals_run_step ON approvals (run_id, step) WHERE state <> 'cancelled' AND run_id IS NOT NULL;
CREATE INDEX approvals_run ON approvals (run_id, created_at) WHERE run_id IS NOT NULL;
`;
