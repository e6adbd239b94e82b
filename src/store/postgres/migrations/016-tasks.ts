/**
 * 016: every task name a worker has registered on this database, as in SQLite's 016. Names sort
 * bytewise ("C"), as in SQLite.
 */
export const sql = `
CREATE TABLE tasks (
  name TEXT COLLATE "C" PRIMARY KEY,
  first_seen_at BIGINT NOT NULL,
  last_seen_at BIGINT NOT NULL
);
INSERT INTO tasks (name, first_seen_at, last_seen_at)
SELECT t.name, min(w.started_at), max(w.started_at)
FROM workers w, jsonb_array_elements_text(w.tasks::jsonb) AS t(name)
GROUP BY t.name;
`;
