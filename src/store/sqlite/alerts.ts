/**
 * Alerts in the SQLite store: raises with dedup, acknowledgements, closes, escalations and the
 * escalation timeline. Each verb is one write transaction, and SQLite has one writer at a time
 * across every process on the file, so a raise reads "no open alert with this key" and inserts
 * without another raise slipping in between, and the watchdog applies each due step exactly once
 * on any number of processes. Decided by `core/alert.ts`; each write is still guarded by the
 * version it read.
 */
import {
  type Alert,
  type AlertChange,
  type AlertNotification,
  acknowledge,
  alertChangeError,
  bump,
  checkNewAlert,
  close,
  dueAction,
  escalateNow,
  type NewAlert,
  type NotificationReceipt,
  raise,
  type StepNotice,
} from "../../core/alert.js";
import {
  ALERT_COLUMNS,
  ALERT_UPDATE_COLUMNS,
  type AlertRow,
  alertListing,
  alertNotFound,
  alertUpdateValues,
  alertValues,
  bumpedEventData,
  escalatedEventData,
  type NotificationRow,
  notificationNotFound,
  notificationOutcome,
  plannedValues,
  raisedEventData,
  toAlert,
  toNotification,
} from "../alert-rows.js";
import type { AlertEscalation, AlertFilter, RaiseAlertResult } from "../store.js";
import { checkVersion } from "../versions.js";
import type { SqliteConnection } from "./connection.js";

/** ?1 id. */
const GET_ALERT = "SELECT * FROM alerts WHERE id = ?1";

/** ?1 dedup key: the open alert with it, if any. */
const OPEN_BY_KEY = "SELECT * FROM alerts WHERE dedup_key = ?1 AND is_open = 1";

/** ?1-?21: an alert row, in ALERT_COLUMNS order. */
const INSERT_ALERT = `
INSERT INTO alerts (${ALERT_COLUMNS.join(", ")})
VALUES (${ALERT_COLUMNS.map((_, i) => `?${i + 1}`).join(", ")})`;

/** ?1-?17 ALERT_UPDATE_COLUMNS values, ?18 id, ?19 version read. */
const UPDATE_ALERT = `
UPDATE alerts SET ${ALERT_UPDATE_COLUMNS.map((c, i) => `${c} = ?${i + 1}`).join(", ")}
WHERE id = ?${ALERT_UPDATE_COLUMNS.length + 1} AND version = ?${ALERT_UPDATE_COLUMNS.length + 2}`;

/** ?1 alert id, ?2 step, ?3 round, ?4 target, ?5 now. */
const INSERT_NOTIFICATION = `
INSERT INTO alert_notifications (alert_id, step, round, target, at, status, error, updated_at)
VALUES (?1, ?2, ?3, ?4, ?5, 'planned', NULL, ?5) RETURNING *`;

/** ?1 id. */
const GET_NOTIFICATION = "SELECT * FROM alert_notifications WHERE id = ?1";

/** ?1 status, ?2 error, ?3 now, ?4 id, ?5 receipt (JSON) or NULL. */
const UPDATE_NOTIFICATION =
  "UPDATE alert_notifications SET status = ?1, error = ?2, updated_at = ?3, receipt = ?5 WHERE id = ?4";

/** ?1 alert id. */
const LIST_NOTIFICATIONS = "SELECT * FROM alert_notifications WHERE alert_id = ?1 ORDER BY id";
/** ?1 limit: planned notifications of open alerts, oldest first (index alert_notifications_planned). */
const LIST_PLANNED = `
SELECT n.* FROM alert_notifications n JOIN alerts a ON a.id = n.alert_id
WHERE n.status = 'planned' AND a.is_open = 1 ORDER BY n.id LIMIT ?1`;

/** ?1 now, ?2 limit: open alerts with something due, soonest first. */
const DUE = `
SELECT * FROM alerts INDEXED BY alerts_due WHERE is_open = 1 AND next_escalation_at IS NOT NULL
  AND next_escalation_at <= ?1
ORDER BY next_escalation_at, id LIMIT ?2`;

const NEXT_DUE = `
SELECT min(next_escalation_at) AS at FROM alerts INDEXED BY alerts_due
WHERE is_open = 1 AND next_escalation_at IS NOT NULL`;

/** ?1 statuses (JSON array), ?2 source or NULL, ?3 cursor is_open or NULL, ?4 cursor created_at, ?5 cursor id, ?6 limit. */
const LIST = `
SELECT * FROM alerts WHERE status IN (SELECT value FROM json_each(?1)) AND (?2 IS NULL OR source = ?2)
  AND (?3 IS NULL OR (is_open, created_at, id) < (?3, ?4, ?5))
ORDER BY is_open DESC, created_at DESC, id DESC LIMIT ?6`;

export function raiseAlert(conn: SqliteConnection, input: NewAlert): RaiseAlertResult {
  checkNewAlert(input);
  return conn.write(() => {
    const now = conn.clock();
    const open =
      input.dedupKey === null ? undefined : (conn.stmt(OPEN_BY_KEY).get(input.dedupKey) as AlertRow | undefined);
    if (open) {
      const bumped = bump(toAlert(open), input, now);
      write(conn, bumped, open.version);
      conn.event(now, "alert.bumped", null, null, bumpedEventData(bumped));
      return { alert: bumped, created: false, notifications: [] };
    }
    const { alert, notify } = raise(input, now);
    conn.stmt(INSERT_ALERT).run(...alertValues(alert));
    conn.event(now, "alert.raised", null, null, raisedEventData(alert));
    return { alert, created: true, notifications: notice(conn, alert, notify, "escalator", now) };
  });
}

export function getAlert(conn: SqliteConnection, id: string): Alert | null {
  const row = conn.stmt(GET_ALERT).get(id) as AlertRow | undefined;
  return row ? toAlert(row) : null;
}

export function listAlerts(conn: SqliteConnection, filter: AlertFilter): Alert[] {
  const cursor =
    filter.afterId === undefined ? null : (conn.stmt(GET_ALERT).get(filter.afterId) as AlertRow | undefined);
  const plan = alertListing(filter, cursor);
  if (plan === null) return [];
  const [open, created, id] = plan.after ?? [null, null, ""];
  const rows = conn.stmt(LIST).all(JSON.stringify(plan.statuses), plan.source, open, created, id, plan.limit);
  return (rows as AlertRow[]).map(toAlert);
}

export function acknowledgeAlert(conn: SqliteConnection, id: string, by: string, expectedVersion?: number): Alert {
  return change(
    conn,
    id,
    expectedVersion,
    (alert, now) => acknowledge(alert, by, now),
    (alert, now) => {
      conn.event(now, "alert.acknowledged", null, null, { alertId: alert.id, by });
    },
  ).alert;
}

export function closeAlert(
  conn: SqliteConnection,
  id: string,
  by: string,
  reason: string | null,
  expectedVersion?: number,
): Alert {
  return change(
    conn,
    id,
    expectedVersion,
    (alert, now) => close(alert, by, reason, now),
    (alert, now) => {
      conn.event(now, "alert.closed", null, null, { alertId: alert.id, by, reason });
    },
  ).alert;
}

export function escalateAlertNow(
  conn: SqliteConnection,
  id: string,
  by: string,
  expectedVersion?: number,
): AlertEscalation {
  let notifications: AlertNotification[] = [];
  const { alert, notify } = change(
    conn,
    id,
    expectedVersion,
    (alert, now) => escalateNow(alert, now),
    (alert, now, n) => {
      notifications = notice(conn, alert, n, by, now);
    },
  );
  return { alert, notice: notify, notifications, retriggered: false };
}

/** Each due step once: one writer at a time, and a version-guarded write. */
export function claimDueEscalations(conn: SqliteConnection, limit: number): AlertEscalation[] {
  // A read first, so idle watchdogs take no write lock just to find nothing due.
  const next = nextEscalationAt(conn);
  if (next === null || next > conn.clock()) return [];
  return conn.write(() => {
    const now = conn.clock();
    const applied: AlertEscalation[] = [];
    for (const row of conn.stmt(DUE).all(now, limit) as AlertRow[]) {
      const due = dueAction(toAlert(row), now);
      if (due === null || !write(conn, due.alert, row.version)) continue;
      if (due.transition === "retrigger") {
        conn.event(now, "alert.retriggered", null, null, { alertId: row.id, acknowledgedBy: row.acknowledged_by });
      }
      const notifications = notice(conn, due.alert, due.notify, "escalator", now);
      applied.push({
        alert: due.alert,
        notice: due.notify,
        notifications,
        retriggered: due.transition === "retrigger",
      });
    }
    return applied;
  });
}

export function recordNotification(
  conn: SqliteConnection,
  id: number,
  status: "sent" | "failed",
  error: string | null | undefined,
  receipt?: NotificationReceipt | null,
): AlertNotification {
  const [state, message, receiptJson] = notificationOutcome(status, error, receipt);
  return conn.write(() => {
    const now = conn.clock();
    const changes = conn.stmt(UPDATE_NOTIFICATION).run(state, message, now, id, receiptJson).changes;
    if (changes !== 1) throw notificationNotFound(id);
    return toNotification(conn.stmt(GET_NOTIFICATION).get(id) as NotificationRow);
  });
}

export function nextEscalationAt(conn: SqliteConnection): number | null {
  return (conn.stmt(NEXT_DUE).get() as { at: number | null }).at;
}

export function listAlertNotifications(conn: SqliteConnection, alertId: string): AlertNotification[] {
  return (conn.stmt(LIST_NOTIFICATIONS).all(alertId) as NotificationRow[]).map(toNotification);
}

export function listPlannedNotifications(conn: SqliteConnection, limit: number): AlertNotification[] {
  return (conn.stmt(LIST_PLANNED).all(limit) as NotificationRow[]).map(toNotification);
}

/** Reads the alert, applies `decide`, writes it (version-guarded) and calls `after` for its events, in one transaction. */
function change(
  conn: SqliteConnection,
  id: string,
  expectedVersion: number | undefined,
  decide: (alert: Alert, now: number) => AlertChange,
  after: (alert: Alert, now: number, notify: StepNotice | null) => void,
): { alert: Alert; notify: StepNotice | null } {
  return conn.write(() => {
    const now = conn.clock();
    const row = conn.stmt(GET_ALERT).get(id) as AlertRow | undefined;
    if (!row) throw alertNotFound(id);
    const result = decide(toAlert(row), now);
    if (!result.ok) throw alertChangeError(id, result);
    checkVersion("alert", id, row.version, expectedVersion);
    write(conn, result.alert, row.version);
    after(result.alert, now, result.notify);
    return { alert: result.alert, notify: result.notify };
  });
}

/** Records a step's notifications as planned and appends `alert.escalated`; none for no step. */
function notice(
  conn: SqliteConnection,
  alert: Alert,
  notify: StepNotice | null,
  by: string,
  now: number,
): AlertNotification[] {
  if (notify === null) return [];
  const rows = plannedValues(alert.id, notify, now).map(
    (values) => conn.stmt(INSERT_NOTIFICATION).get(...values) as NotificationRow,
  );
  conn.event(now, "alert.escalated", null, null, escalatedEventData(alert, notify, by));
  return rows.map(toNotification);
}

/** Writes a changed alert if it is still at the version read; whether it was. */
function write(conn: SqliteConnection, alert: Alert, readVersion: number): boolean {
  return conn.stmt(UPDATE_ALERT).run(...alertUpdateValues(alert, readVersion)).changes === 1;
}
