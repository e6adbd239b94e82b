/**
 * 009: alerts (see core/alert.ts) and their escalation timeline, as in SQLite's 009. The partial
 * unique index on the dedup key among open alerts backs up the advisory lock a raise takes on
 * its key (see store/alerts/operations.ts). Ids and keys sort bytewise ("C"), as in SQLite.
 */
export const sql = `
CREATE TABLE alerts (
  id TEXT COLLATE "C" PRIMARY KEY,
  source TEXT NOT NULL,
  summary TEXT NOT NULL,
  details TEXT NOT NULL,
  dedup_key TEXT COLLATE "C",
  status TEXT NOT NULL CHECK (status IN ('triggered','acknowledged','closed')),
  is_open INTEGER NOT NULL CHECK (is_open IN (0, 1)),
  count INTEGER NOT NULL CHECK (count >= 1),
  policy_name TEXT,
  policy TEXT,
  esc_step INTEGER NOT NULL,
  esc_round INTEGER NOT NULL,
  next_escalation_at BIGINT,
  acknowledged_by TEXT,
  acknowledged_at BIGINT,
  closed_by TEXT,
  closed_at BIGINT,
  close_reason TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1
);
-- One open alert per dedup key.
CREATE UNIQUE INDEX alerts_open_dedup ON alerts (dedup_key) WHERE is_open = 1 AND dedup_key IS NOT NULL;
-- The escalation watchdog: open alerts by when their next step (or ack timeout) is due.
CREATE INDEX alerts_due ON alerts (next_escalation_at, id) WHERE is_open = 1 AND next_escalation_at IS NOT NULL;
-- Listing: open first, each part newest first.
CREATE INDEX alerts_listing ON alerts (is_open, created_at, id);

CREATE TABLE alert_notifications (
  id BIGSERIAL PRIMARY KEY,
  alert_id TEXT COLLATE "C" NOT NULL,
  step INTEGER NOT NULL,
  round INTEGER NOT NULL,
  target TEXT NOT NULL,
  at BIGINT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('planned','sent','failed')),
  error TEXT,
  updated_at BIGINT NOT NULL
);
CREATE INDEX alert_notifications_alert ON alert_notifications (alert_id, id);
CREATE INDEX alert_notifications_planned ON alert_notifications (id) WHERE status = 'planned';
`;
