/**
 * 016: every task name a worker has registered on this database, with when it was first and last
 * registered, so an enqueue can say that no worker has ever registered its task. Worker rows are
 * pruned; these are not. Filled from the worker rows that are still kept.
 */
export const sql = `
CREATE TABLE tasks (
  name TEXT PRIMARY KEY,
  first_seen_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL
);
INSERT INTO tasks (name, first_seen_at, last_seen_at)
SELECT t.value, min(w.started_at), max(w.started_at)
FROM workers w, json_each(w.tasks) t
GROUP BY t.value;
`;
