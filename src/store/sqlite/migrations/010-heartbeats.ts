/**
 * 010: heartbeat monitors (see core/heartbeat.ts), synced from the config. `due_at` is when an ok
 * heartbeat turns late (last ping, or first sync, + interval), so the watchdog's "anything due?"
 * is one index read; `alert_id` is the open alert while late. The policy is kept as resolved at
 * the last sync (JSON), so raising needs no config.
 */
export const sql = `
CREATE TABLE heartbeats (
  name TEXT PRIMARY KEY,
  interval_ms INTEGER NOT NULL CHECK (interval_ms > 0),
  policy_name TEXT,
  policy TEXT,
  state TEXT NOT NULL CHECK (state IN ('ok','late')),
  last_ping_at INTEGER,
  due_at INTEGER NOT NULL,
  alert_id TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
-- The watchdog: ok heartbeats by when they turn late.
CREATE INDEX heartbeats_due ON heartbeats (due_at, name) WHERE state = 'ok';
`;
