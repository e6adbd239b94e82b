/**
 * 013: named positions in the event log that outlive a process: the alert sources' reader saves
 * where it is, so a node that takes over after a leader died goes on from there instead of from
 * the newest event (which would skip what happened in between).
 */
export const sql = `
CREATE TABLE cursors (
  name TEXT PRIMARY KEY,
  seq INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
`;
