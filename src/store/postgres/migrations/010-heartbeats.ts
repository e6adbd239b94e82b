/** 010: heartbeat monitors, as in SQLite's 010. Names sort bytewise ("C"), as in SQLite. */
export const sql = `
CREATE TABLE heartbeats (
  name TEXT COLLATE "C" PRIMARY KEY,
  interval_ms BIGINT NOT NULL CHECK (interval_ms > 0),
  policy_name TEXT,
  policy TEXT,
  state TEXT NOT NULL CHECK (state IN ('ok','late')),
  last_ping_at BIGINT,
  due_at BIGINT NOT NULL,
  alert_id TEXT COLLATE "C",
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
-- The watchdog: ok heartbeats by when they turn late.
CREATE INDEX heartbeats_due ON heartbeats (due_at, name) WHERE state = 'ok';
`;
