/**
 * 029: the execution switch and what an approval request was asked under. `settings` keeps the
 * node's switch (one row, `execution`); `approvals.execution` is the asking job's mode when it
 * asked (null for a run's request and for requests made before this migration), and
 * `approvals.test` marks a test item. A file that has the columns already keeps them.
 */
export const sql = (hasColumn: (table: string, column: string) => boolean): string =>
  [
    `CREATE TABLE IF NOT EXISTS settings (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  changed_by TEXT NOT NULL,
  changed_at INTEGER NOT NULL,
  reason TEXT,
  version INTEGER NOT NULL
);`,
    hasColumn("approvals", "execution") ? "" : "ALTER TABLE approvals ADD COLUMN execution TEXT;",
    hasColumn("approvals", "test") ? "" : "ALTER TABLE approvals ADD COLUMN test INTEGER NOT NULL DEFAULT 0;",
  ]
    .filter((statement) => statement !== "")
    .join("\n");
