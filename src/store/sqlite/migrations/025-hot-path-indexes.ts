/**
 * 025: fewer job indexes written per state change. `jobs_state (state, id)` and
 * `jobs_queue_state (queue, state)` covered every job, so each enqueue, claim and finish wrote
 * both. What they served is now read from indexes a job enters once per state:
 * - each waiting or running state's partial index carries the queue and the id, so per-queue
 *   counts and a page of that state's jobs read the index alone; a new one covers jobs awaiting
 *   an approval;
 * - finished jobs are counted and listed by queue from `jobs_ended` (queue, state, id), and
 *   listed from `jobs_finished` (by state and finish time, now with the id), both written once,
 *   at the end.
 *
 * A finished job always has its finish time, which `jobs_finished` selects on; the UPDATE
 * makes sure of it for rows an older version may have left without one.
 *
 * The first version of 024 named the breaker's probe column `breaker_probe_attempts`; a file
 * migrated by it has its column renamed here to the `breaker_probe_token` 024 now creates (a
 * value it holds is then read as a fencing token, at worst judging one probe by an attempt
 * before it).
 */
const RENAME_PROBE_COLUMN = "ALTER TABLE queues RENAME COLUMN breaker_probe_attempts TO breaker_probe_token;";

export const sql = (hasColumn: (table: string, column: string) => boolean): string =>
  `${hasColumn("queues", "breaker_probe_attempts") ? RENAME_PROBE_COLUMN : ""}
UPDATE jobs SET finished_at = coalesce(started_at, created_at)
WHERE state IN ('succeeded','dead','cancelled') AND finished_at IS NULL;
DROP INDEX jobs_state;
DROP INDEX jobs_queue_state;
DROP INDEX jobs_ready;
DROP INDEX jobs_scheduled;
DROP INDEX jobs_leases;
DROP INDEX jobs_finished;
CREATE INDEX jobs_ready ON jobs (priority, run_at, id, queue) WHERE state = 'queued';
CREATE INDEX jobs_scheduled ON jobs (run_at, queue, id) WHERE state = 'scheduled';
CREATE INDEX jobs_leases ON jobs (lease_expires_at, queue, id) WHERE state = 'running';
CREATE INDEX jobs_awaiting ON jobs (queue, id) WHERE state = 'awaiting_approval';
CREATE INDEX jobs_finished ON jobs (state, finished_at, id) WHERE finished_at IS NOT NULL;
CREATE INDEX jobs_ended ON jobs (queue, state, id) WHERE state IN ('succeeded','dead','cancelled');
`;
