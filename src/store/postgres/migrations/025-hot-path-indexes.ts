/**
 * 025: fewer job indexes written per state change, as SQLite's 025. An update that moves a row
 * (every state change does) inserts into each index whose condition the new row meets, so
 * `jobs_state (state, id)` and `jobs_queue_state (queue, state)`, which covered every job, took
 * an entry at each enqueue, claim and finish. What they served is now read from indexes a job
 * enters once per state: each waiting or running state's partial index includes the queue and
 * the id, a new one covers jobs awaiting an approval, and finished jobs are counted from
 * `jobs_ended` (by queue and state) and listed from `jobs_finished` (by state and finish time,
 * with the id). Unlike SQLite's, `jobs_ended` has no id: with it, counting a million finished
 * jobs became a scan of the table (twice as slow), and PostgreSQL's planner, which has
 * statistics, already reads one queue's page of a big state along the primary key and of a
 * small one from this index. The UPDATE gives a finish time to finished rows an older version
 * may have left without one. Before it, a schema migrated by 024's first version has its
 * breaker column `breaker_probe_attempts` renamed to the `breaker_probe_token` 024 now creates.
 */
export const sql = `
DO $$ BEGIN
  IF EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema()
             AND table_name = 'queues' AND column_name = 'breaker_probe_attempts') THEN
    ALTER TABLE queues RENAME COLUMN breaker_probe_attempts TO breaker_probe_token;
  END IF;
END $$;
UPDATE jobs SET finished_at = coalesce(started_at, created_at)
WHERE state IN ('succeeded','dead','cancelled') AND finished_at IS NULL;
DROP INDEX jobs_state;
DROP INDEX jobs_queue_state;
DROP INDEX jobs_ready;
DROP INDEX jobs_scheduled;
DROP INDEX jobs_leases;
DROP INDEX jobs_finished;
CREATE INDEX jobs_ready ON jobs (priority, run_at, id) INCLUDE (queue) WHERE state = 'queued';
CREATE INDEX jobs_scheduled ON jobs (run_at) INCLUDE (queue, id) WHERE state = 'scheduled';
CREATE INDEX jobs_leases ON jobs (lease_expires_at) INCLUDE (queue, id) WHERE state = 'running';
CREATE INDEX jobs_awaiting ON jobs (queue, id) WHERE state = 'awaiting_approval';
CREATE INDEX jobs_finished ON jobs (state, finished_at) INCLUDE (id) WHERE finished_at IS NOT NULL;
CREATE INDEX jobs_ended ON jobs (queue, state) WHERE state IN ('succeeded','dead','cancelled');
`;
