/**
 * 031: on-call overrides. A rotation's turns come from the config; an override (someone on call
 * in another's place for a while) is a row here, kept when it is cancelled, so the history says
 * who swapped, when and why. Read by rotation, newest end last, to find who is on call now.
 */
export const sql = `
CREATE TABLE IF NOT EXISTS oncall_overrides (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  rotation TEXT NOT NULL,
  person TEXT NOT NULL,
  starts_at INTEGER NOT NULL,
  ends_at INTEGER NOT NULL,
  reason TEXT,
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  cancelled_by TEXT,
  cancelled_at INTEGER
);
CREATE INDEX IF NOT EXISTS oncall_overrides_rotation ON oncall_overrides (rotation, ends_at);
`;
