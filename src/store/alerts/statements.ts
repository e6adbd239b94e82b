/** The SQL of the alerts area (see operations.ts), parameters listed. */
import { FOR_UPDATE, FOR_UPDATE_SKIP_LOCKED, indexedBy, inList, type Sql, sql } from "../tx.js";
import { ALERT_COLUMNS, ALERT_UPDATE_COLUMNS } from "./rows.js";

/** $1 id. */
export const GET_ALERT = "SELECT * FROM alerts WHERE id = $1";

/** $1 id: the alert, locked. */
export const LOCK_ALERT = sql`SELECT * FROM alerts WHERE id = $1 ${FOR_UPDATE}`;

/** $1 dedup key: the open alert with it, locked (the key's lock is held). */
export const OPEN_BY_KEY = sql`SELECT * FROM alerts WHERE dedup_key = $1 AND is_open = 1 ${FOR_UPDATE}`;

/** $1-$21: an alert row, in ALERT_COLUMNS order. */
export const INSERT_ALERT = `
INSERT INTO alerts (${ALERT_COLUMNS.join(", ")})
VALUES (${ALERT_COLUMNS.map((_, i) => `$${i + 1}`).join(", ")})`;

/** $1-$17 ALERT_UPDATE_COLUMNS values, $18 id, $19 version read. */
export const UPDATE_ALERT = `
UPDATE alerts SET ${ALERT_UPDATE_COLUMNS.map((c, i) => `${c} = $${i + 1}`).join(", ")}
WHERE id = $${ALERT_UPDATE_COLUMNS.length + 1} AND version = $${ALERT_UPDATE_COLUMNS.length + 2}`;

/** $1 alert id, $2 step, $3 round, $4 target, $5 now. */
export const INSERT_NOTIFICATION = `
INSERT INTO alert_notifications (alert_id, step, round, target, at, status, error, updated_at)
VALUES ($1, $2, $3, $4, $5, 'planned', NULL, $5) RETURNING *`;

/** $1 status, $2 error, $3 now, $4 id, $5 receipt (JSON) or NULL. */
export const UPDATE_NOTIFICATION = `
UPDATE alert_notifications SET status = $1, error = $2, updated_at = $3, receipt = $5 WHERE id = $4 RETURNING *`;

/** $1 id. */
export const GET_NOTIFICATION = "SELECT * FROM alert_notifications WHERE id = $1";

/** $1 alert id, $2 notification id: the fallback planned for it, if any (read through the alert's notifications). */
export const FALLBACK_OF = "SELECT * FROM alert_notifications WHERE alert_id = $1 AND fallback_for = $2";

/** $1 alert id, $2 step, $3 round, $4 target, $5 now, $6 the failed notification's id. */
export const INSERT_FALLBACK = `
INSERT INTO alert_notifications (alert_id, step, round, target, at, status, error, updated_at, fallback_for)
VALUES ($1, $2, $3, $4, $5, 'planned', NULL, $5, $6) RETURNING *`;

/** $1 alert id. */
export const LIST_NOTIFICATIONS = "SELECT * FROM alert_notifications WHERE alert_id = $1 ORDER BY id";

/** $1 limit: planned notifications of open alerts, oldest first (index alert_notifications_planned). */
export const LIST_PLANNED = `
SELECT n.* FROM alert_notifications n JOIN alerts a ON a.id = n.alert_id
WHERE n.status = 'planned' AND a.is_open = 1 ORDER BY n.id LIMIT $1`;

/** $1 now, $2 limit: open alerts with something due, soonest first, locked; those held elsewhere are skipped. */
export const DUE = sql`
SELECT * FROM alerts ${indexedBy("alerts_due")}
WHERE is_open = 1 AND next_escalation_at IS NOT NULL AND next_escalation_at <= $1
ORDER BY next_escalation_at, id LIMIT $2 ${FOR_UPDATE_SKIP_LOCKED}`;

export const NEXT_DUE = sql`
SELECT min(next_escalation_at) AS at FROM alerts ${indexedBy("alerts_due")}
WHERE is_open = 1 AND next_escalation_at IS NOT NULL`;

/**
 * $1 statuses (a `Db.list`), $2 source or NULL, $3 cursor is_open or NULL, $4 cursor created_at,
 * $5 cursor id, $6 limit.
 */
export const LIST = sql`
SELECT * FROM alerts WHERE ${inList("status", "$1")} AND (CAST($2 AS TEXT) IS NULL OR source = $2)
  AND (CAST($3 AS INTEGER) IS NULL OR (is_open, created_at, id) < ($3, CAST($4 AS BIGINT), CAST($5 AS TEXT)))
  AND (CAST($7 AS BIGINT) IS NULL OR created_at >= $7) AND (CAST($8 AS BIGINT) IS NULL OR created_at < $8)
ORDER BY is_open DESC, created_at DESC, id DESC LIMIT $6`;

/**
 * $1 statuses (a `Db.list`), $2 source or NULL, $3 created at or after or NULL, $4 created
 * before or NULL: how many alerts match, along `alerts_listing` (is_open, created_at, id).
 */
export const COUNT_MATCHING = sql`
SELECT count(*) AS n FROM alerts WHERE ${inList("status", "$1")} AND (CAST($2 AS TEXT) IS NULL OR source = $2)
  AND (CAST($3 AS BIGINT) IS NULL OR created_at >= $3) AND (CAST($4 AS BIGINT) IS NULL OR created_at < $4)`;

/** Open alerts by status (triggered, acknowledged), from `alerts_listing`. */
export const COUNT_OPEN = "SELECT status, count(*) AS n FROM alerts WHERE is_open = 1 GROUP BY status";

/** An alert event's alert id, as migration 035's `events_alert` indexes it. */
const EVENT_ALERT: Sql = { sqlite: "json_extract(data, '$.alertId')", postgres: "(data::json ->> 'alertId')" };

/** $1 alert id, $2 limit: the alert's events, oldest first (index `events_alert`). */
export const ALERT_EVENTS = sql`
SELECT * FROM events WHERE kind LIKE 'alert.%' AND ${EVENT_ALERT} = $1 ORDER BY seq LIMIT $2`;
