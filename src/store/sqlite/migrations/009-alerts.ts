/**
 * 009: alerts (see core/alert.ts) and their escalation timeline. `is_open` is 1 while the alert
 * is triggered or acknowledged: the partial unique index on the dedup key among open alerts is
 * what makes two raises of one key create one alert, and listing orders open alerts first by it.
 * The escalation policy is kept with the alert as raised (JSON), so escalating needs no config.
 */
export const sql = `
CREATE TABLE alerts (
  id TEXT PRIMARY KEY,
  source TEXT NOT NULL,
  summary TEXT NOT NULL,
  details TEXT NOT NULL,
  dedup_key TEXT,
  status TEXT NOT NULL CHECK (status IN ('triggered','acknowledged','closed')),
  is_open INTEGER NOT NULL CHECK (is_open IN (0, 1)),
  count INTEGER NOT NULL CHECK (count >= 1),
  policy_name TEXT,
  policy TEXT,
  esc_step INTEGER NOT NULL,
  esc_round INTEGER NOT NULL,
  next_escalation_at INTEGER,
  acknowledged_by TEXT,
  acknowledged_at INTEGER,
  closed_by TEXT,
  closed_at INTEGER,
  close_reason TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  version INTEGER NOT NULL DEFAULT 1
);
-- One open alert per dedup key.
CREATE UNIQUE INDEX alerts_open_dedup ON alerts (dedup_key) WHERE is_open = 1 AND dedup_key IS NOT NULL;
-- The escalation watchdog: open alerts by when their next step (or ack timeout) is due.
CREATE INDEX alerts_due ON alerts (next_escalation_at, id) WHERE is_open = 1 AND next_escalation_at IS NOT NULL;
-- Listing: open first, each part newest first.
CREATE INDEX alerts_listing ON alerts (is_open, created_at, id);

CREATE TABLE alert_notifications (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  alert_id TEXT NOT NULL,
  step INTEGER NOT NULL,
  round INTEGER NOT NULL,
  target TEXT NOT NULL,
  at INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('planned','sent','failed')),
  error TEXT,
  updated_at INTEGER NOT NULL
);
CREATE INDEX alert_notifications_alert ON alert_notifications (alert_id, id);
CREATE INDEX alert_notifications_planned ON alert_notifications (id) WHERE status = 'planned';
`;
