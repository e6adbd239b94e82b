/**
 * 034: finished jobs counted once, not at every read. With a long history kept, counting the
 * finished jobs by queue and state walked one index entry per job at each read of the queues
 * (a million jobs: half a second). `finished_counts` holds the counts of the finished jobs whose
 * finish time is at or before `finished_counts_mark.counted_through`; a read adds the jobs that
 * finished after it (a short range of `jobs_finished`). Finishing a job writes nothing here, so
 * the hot path is unchanged; the rare changes that take a counted job out of the finished states
 * (retry, discard, retention) subtract it in their transaction, and the mark is moved forward
 * now and then, the jobs it passes added (see store/jobs/finished-counts.ts).
 *
 * Counted here: the jobs finished more than a minute before the latest finish the store holds, in
 * the store's own times (no clock is read here); a store with no finished job starts with none.
 */
export const sql = `
CREATE TABLE IF NOT EXISTS finished_counts (
  queue TEXT NOT NULL,
  state TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (queue, state)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS finished_counts_mark (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  counted_through INTEGER NOT NULL
);
INSERT OR IGNORE INTO finished_counts_mark (id, counted_through)
SELECT 1, coalesce(max(latest) - 60000, -1) FROM (
  SELECT max(finished_at) AS latest FROM jobs INDEXED BY jobs_finished WHERE state = 'succeeded' AND finished_at IS NOT NULL
  UNION ALL
  SELECT max(finished_at) FROM jobs INDEXED BY jobs_finished WHERE state = 'dead' AND finished_at IS NOT NULL
  UNION ALL
  SELECT max(finished_at) FROM jobs INDEXED BY jobs_finished WHERE state = 'cancelled' AND finished_at IS NOT NULL
);
INSERT OR IGNORE INTO finished_counts (queue, state, n)
SELECT queue, state, count(*) FROM jobs INDEXED BY jobs_finished
WHERE state IN ('succeeded','dead','cancelled') AND finished_at IS NOT NULL
  AND finished_at <= (SELECT counted_through FROM finished_counts_mark)
GROUP BY queue, state;
`;
