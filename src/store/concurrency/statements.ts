/** The SQL of the concurrency area (see operations.ts), parameters listed. */

/** The states in which a job belongs to its concurrency key (as the enqueue-time reject counts them). */
const UNFINISHED = "state IN ('scheduled','queued','running','awaiting_approval')";

/** A key's figures over its unfinished jobs, from the `jobs_concurrency` index (key, state). */
const USAGE_COLUMNS = `concurrency_key AS key,
  sum(CASE WHEN state = 'running' THEN 1 ELSE 0 END) AS running,
  sum(CASE WHEN state = 'queued' THEN 1 ELSE 0 END) AS waiting,
  max(concurrency_limit) AS key_limit`;

/** $1 the last key of the previous page or NULL, $2 page size: keys by name. */
export const USAGE_BY_KEY = `
SELECT ${USAGE_COLUMNS}
FROM jobs WHERE concurrency_key IS NOT NULL AND ${UNFINISHED}
  AND (CAST($1 AS TEXT) IS NULL OR concurrency_key > CAST($1 AS TEXT))
GROUP BY concurrency_key ORDER BY concurrency_key LIMIT $2`;

/** $1 how many: the busiest keys, by running then waiting jobs, then name. */
export const BUSIEST_KEYS = `
SELECT ${USAGE_COLUMNS}
FROM jobs WHERE concurrency_key IS NOT NULL AND ${UNFINISHED}
GROUP BY concurrency_key ORDER BY running DESC, waiting DESC, key LIMIT $1`;

/**
 * Over every key: how many keys have unfinished jobs, and how many queued (due) jobs their key
 * holds back now, each job against its own limit, as a claim weighs it.
 */
export const TOTALS = `
WITH running AS (
  SELECT concurrency_key AS key, count(*) AS n FROM jobs
  WHERE concurrency_key IS NOT NULL AND state = 'running' GROUP BY concurrency_key
)
SELECT
  (SELECT count(DISTINCT concurrency_key) FROM jobs WHERE concurrency_key IS NOT NULL AND ${UNFINISHED}) AS keys,
  (SELECT count(*) FROM jobs JOIN running ON jobs.concurrency_key = running.key
   WHERE jobs.state = 'queued' AND running.n >= COALESCE(jobs.concurrency_limit, 1)) AS limited`;
