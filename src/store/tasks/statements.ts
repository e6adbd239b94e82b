/** The SQL of the task registry (see operations.ts), parameters listed. */

/** $1 id, $2 name, $3 host, $4 pid, $5 queues JSON or NULL, $6 tasks JSON, $7 concurrency, $8 now. */
export const UPSERT_WORKER = `
INSERT INTO workers (id, name, host, pid, queues, tasks, concurrency, status, started_at, heartbeat_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, 'active', $8, $8)
ON CONFLICT (id) DO UPDATE SET status = 'active', heartbeat_at = excluded.heartbeat_at, stopped_at = NULL,
  command = NULL, command_at = NULL`;

/**
 * $1 now, $2 task names (a `Db.list`, sorted, no repeats), $3 their defaults JSON in the same
 * order (a `Db.list`; an empty string for none, which keeps what an earlier registration
 * recorded): each is known from now on (see migrations 016 and 023), with the latest
 * registration's defaults. The lists are read as tables, which the
 * dialects spell differently; `WHERE true` tells SQLite's parser the ON CONFLICT belongs to the
 * INSERT, not to a join.
 */
export const UPSERT_TASKS = {
  sqlite: `
INSERT INTO tasks (name, first_seen_at, last_seen_at, defaults)
SELECT n.value, $1, $1, nullif(d.value, '') FROM json_each($2) n JOIN json_each($3) d ON d.key = n.key WHERE true
ON CONFLICT (name) DO UPDATE SET last_seen_at = excluded.last_seen_at, defaults = coalesce(excluded.defaults, tasks.defaults)`,
  postgres: `
INSERT INTO tasks (name, first_seen_at, last_seen_at, defaults)
SELECT name, $1, $1, nullif(defaults, '') FROM unnest($2::text[], $3::text[]) AS t(name, defaults)
ON CONFLICT (name) DO UPDATE SET last_seen_at = excluded.last_seen_at, defaults = coalesce(excluded.defaults, tasks.defaults)`,
};

/** No parameters: the defaults the registry keeps, by task. */
export const TASK_DEFAULTS = "SELECT name, defaults FROM tasks WHERE defaults IS NOT NULL";

export const LIST_TASKS = "SELECT * FROM tasks ORDER BY name";
