/**
 * 029: the execution switch and what an approval request was asked under. `settings` keeps the
 * node's switch (one row, `execution`); `approvals.execution` is the asking job's mode when it
 * asked (null for a run's request and for requests made before this migration), and
 * `approvals.test` marks a test item. A schema that has them already keeps them.
 */
export const sql = `
CREATE TABLE IF NOT EXISTS settings (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  changed_by TEXT NOT NULL,
  changed_at BIGINT NOT NULL,
  reason TEXT,
  version INTEGER NOT NULL
);
ALTER TABLE approvals ADD COLUMN IF NOT EXISTS execution TEXT;
ALTER TABLE approvals ADD COLUMN IF NOT EXISTS test INTEGER NOT NULL DEFAULT 0;
`;
