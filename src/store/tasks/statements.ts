/** The SQL of the task registry (see operations.ts), parameters listed. */

/** $1 id, $2 name, $3 host, $4 pid, $5 queues JSON or NULL, $6 tasks JSON, $7 concurrency, $8 now. */
export const UPSERT_WORKER = `
INSERT INTO workers (id, name, host, pid, queues, tasks, concurrency, status, started_at, heartbeat_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, 'active', $8, $8)
ON CONFLICT (id) DO UPDATE SET status = 'active', heartbeat_at = excluded.heartbeat_at, stopped_at = NULL`;

/**
 * $1 now, $2 task names (a `Db.list`, sorted, no repeats): each is known from now on (see
 * migration 016). The list is read as a table, which the dialects spell differently; `WHERE true`
 * tells SQLite's parser the ON CONFLICT belongs to the INSERT, not to a join.
 */
export const UPSERT_TASKS = {
  sqlite: `
INSERT INTO tasks (name, first_seen_at, last_seen_at) SELECT value, $1, $1 FROM json_each($2) WHERE true
ON CONFLICT (name) DO UPDATE SET last_seen_at = excluded.last_seen_at`,
  postgres: `
INSERT INTO tasks (name, first_seen_at, last_seen_at) SELECT name, $1, $1 FROM unnest($2::text[]) AS t(name)
ON CONFLICT (name) DO UPDATE SET last_seen_at = excluded.last_seen_at`,
};

export const LIST_TASKS = "SELECT * FROM tasks ORDER BY name";
