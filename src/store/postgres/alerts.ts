/**
 * Alerts in the PostgreSQL store, as in SQLite's alerts.ts, each verb one transaction. A raise
 * with a dedup key first takes a transaction-level advisory lock on the key, then looks for the
 * open alert: raisers of one key queue on that lock, so two can never both find it missing (the
 * partial unique index would refuse the second insert anyway). A person's action locks the
 * alert's row (FOR UPDATE). The watchdog locks the due alerts it reads and skips those another
 * transaction holds (SKIP LOCKED), and writes each only if it is still at the version read:
 * however many nodes run it at the same moment, each due step is applied exactly once.
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
import { LOCK, type PgConnection, type Tx } from "./connection.js";

/** $1 id. */
const GET_ALERT = "SELECT * FROM alerts WHERE id = $1";

/** $1 id: the alert, locked. */
const GET_ALERT_FOR_UPDATE = "SELECT * FROM alerts WHERE id = $1 FOR UPDATE";

/** $1 dedup key: the open alert with it, locked (the key's advisory lock is held). */
const OPEN_BY_KEY = "SELECT * FROM alerts WHERE dedup_key = $1 AND is_open = 1 FOR UPDATE";

/** $1-$21: an alert row, in ALERT_COLUMNS order. */
const INSERT_ALERT = `
INSERT INTO alerts (${ALERT_COLUMNS.join(", ")})
VALUES (${ALERT_COLUMNS.map((_, i) => `$${i + 1}`).join(", ")})`;

/** $1-$17 ALERT_UPDATE_COLUMNS values, $18 id, $19 version read. */
const UPDATE_ALERT = `
UPDATE alerts SET ${ALERT_UPDATE_COLUMNS.map((c, i) => `${c} = $${i + 1}`).join(", ")}
WHERE id = $${ALERT_UPDATE_COLUMNS.length + 1} AND version = $${ALERT_UPDATE_COLUMNS.length + 2}`;

/** $1 alert id, $2 step, $3 round, $4 target, $5 now. */
const INSERT_NOTIFICATION = `
INSERT INTO alert_notifications (alert_id, step, round, target, at, status, error, updated_at)
VALUES ($1, $2, $3, $4, $5, 'planned', NULL, $5) RETURNING *`;

/** $1 status, $2 error, $3 now, $4 id, $5 receipt (JSON) or NULL. */
const UPDATE_NOTIFICATION = `
UPDATE alert_notifications SET status = $1, error = $2, updated_at = $3, receipt = $5 WHERE id = $4 RETURNING *`;

/** $1 alert id. */
const LIST_NOTIFICATIONS = "SELECT * FROM alert_notifications WHERE alert_id = $1 ORDER BY id";
/** $1 limit: planned notifications of open alerts, oldest first (index alert_notifications_planned). */
const LIST_PLANNED = `
SELECT n.* FROM alert_notifications n JOIN alerts a ON a.id = n.alert_id
WHERE n.status = 'planned' AND a.is_open = 1 ORDER BY n.id LIMIT $1`;

/** $1 now, $2 limit: open alerts with something due, soonest first, locked; those held elsewhere are skipped. */
const DUE = `
SELECT * FROM alerts WHERE is_open = 1 AND next_escalation_at IS NOT NULL AND next_escalation_at <= $1
ORDER BY next_escalation_at, id LIMIT $2 FOR UPDATE SKIP LOCKED`;

const NEXT_DUE =
  "SELECT min(next_escalation_at) AS at FROM alerts WHERE is_open = 1 AND next_escalation_at IS NOT NULL";

/** $1 statuses, $2 source or NULL, $3 cursor is_open or NULL, $4 cursor created_at, $5 cursor id, $6 limit. */
const LIST = `
SELECT * FROM alerts WHERE status = ANY($1::text[]) AND ($2::text IS NULL OR source = $2)
  AND ($3::int IS NULL OR (is_open, created_at, id) < ($3, $4::bigint, $5::text))
ORDER BY is_open DESC, created_at DESC, id DESC LIMIT $6`;

export async function raiseAlert(tx: Tx, input: NewAlert): Promise<RaiseAlertResult> {
  checkNewAlert(input);
  const now = tx.now;
  let open: AlertRow | undefined;
  if (input.dedupKey !== null) {
    await tx.lock(LOCK.alerts, input.dedupKey);
    open = await tx.one<AlertRow>(OPEN_BY_KEY, [input.dedupKey]);
  }
  if (open) {
    const bumped = bump(toAlert(open), input, now);
    await write(tx, bumped, open.version);
    tx.event("alert.bumped", null, null, bumpedEventData(bumped));
    return { alert: bumped, created: false, notifications: [] };
  }
  const { alert, notify } = raise(input, now);
  await tx.run(INSERT_ALERT, alertValues(alert));
  tx.event("alert.raised", null, null, raisedEventData(alert));
  return { alert, created: true, notifications: await notice(tx, alert, notify, "escalator") };
}

export async function getAlert(conn: PgConnection, id: string): Promise<Alert | null> {
  const row = await conn.one<AlertRow>(GET_ALERT, [id]);
  return row ? toAlert(row) : null;
}

export async function listAlerts(conn: PgConnection, filter: AlertFilter): Promise<Alert[]> {
  const cursor = filter.afterId === undefined ? null : await conn.one<AlertRow>(GET_ALERT, [filter.afterId]);
  const plan = alertListing(filter, cursor);
  if (plan === null) return [];
  const [open, created, id] = plan.after ?? [null, null, ""];
  const rows = await conn.rows<AlertRow>(LIST, [plan.statuses, plan.source, open, created, id, plan.limit]);
  return rows.map(toAlert);
}

export async function acknowledgeAlert(tx: Tx, id: string, by: string, expectedVersion?: number): Promise<Alert> {
  const { alert } = await change(tx, id, expectedVersion, (a) => acknowledge(a, by, tx.now));
  tx.event("alert.acknowledged", null, null, { alertId: alert.id, by });
  return alert;
}

export async function closeAlert(
  tx: Tx,
  id: string,
  by: string,
  reason: string | null,
  expectedVersion?: number,
): Promise<Alert> {
  const { alert } = await change(tx, id, expectedVersion, (a) => close(a, by, reason, tx.now));
  tx.event("alert.closed", null, null, { alertId: alert.id, by, reason });
  return alert;
}

export async function escalateAlertNow(
  tx: Tx,
  id: string,
  by: string,
  expectedVersion?: number,
): Promise<AlertEscalation> {
  const { alert, notify } = await change(tx, id, expectedVersion, (a) => escalateNow(a, tx.now));
  const notifications = await notice(tx, alert, notify, by);
  return { alert, notice: notify, notifications, retriggered: false };
}

/** Whether anything is due; a read, so idle watchdogs open no write transaction. */
export async function anyDue(conn: PgConnection): Promise<boolean> {
  const next = await nextEscalationAt(conn);
  return next !== null && next <= (await conn.now());
}

/** Each due step exactly once across every node (see the module comment). */
export async function claimDueEscalations(tx: Tx, limit: number): Promise<AlertEscalation[]> {
  const applied: AlertEscalation[] = [];
  for (const row of await tx.rows<AlertRow>(DUE, [tx.now, limit])) {
    const due = dueAction(toAlert(row), tx.now);
    if (due === null || !(await write(tx, due.alert, row.version))) continue;
    if (due.transition === "retrigger") {
      tx.event("alert.retriggered", null, null, { alertId: row.id, acknowledgedBy: row.acknowledged_by });
    }
    const notifications = await notice(tx, due.alert, due.notify, "escalator");
    applied.push({ alert: due.alert, notice: due.notify, notifications, retriggered: due.transition === "retrigger" });
  }
  return applied;
}

export async function recordNotification(
  tx: Tx,
  id: number,
  status: "sent" | "failed",
  error: string | null | undefined,
  receipt?: NotificationReceipt | null,
): Promise<AlertNotification> {
  const [state, message, receiptJson] = notificationOutcome(status, error, receipt);
  const row = await tx.one<NotificationRow>(UPDATE_NOTIFICATION, [state, message, tx.now, id, receiptJson]);
  if (!row) throw notificationNotFound(id);
  return toNotification(row);
}

export async function nextEscalationAt(conn: PgConnection): Promise<number | null> {
  return (await conn.one<{ at: number | null }>(NEXT_DUE))?.at ?? null;
}

export async function listAlertNotifications(conn: PgConnection, alertId: string): Promise<AlertNotification[]> {
  return (await conn.rows<NotificationRow>(LIST_NOTIFICATIONS, [alertId])).map(toNotification);
}

export async function listPlannedNotifications(conn: PgConnection, limit: number): Promise<AlertNotification[]> {
  return (await conn.rows<NotificationRow>(LIST_PLANNED, [limit])).map(toNotification);
}

/** Locks and reads the alert, applies `decide` and writes it; refusals and version conflicts throw, writing nothing. */
async function change(
  tx: Tx,
  id: string,
  expectedVersion: number | undefined,
  decide: (alert: Alert) => AlertChange,
): Promise<{ alert: Alert; notify: StepNotice | null }> {
  const row = await tx.one<AlertRow>(GET_ALERT_FOR_UPDATE, [id]);
  if (!row) throw alertNotFound(id);
  const result = decide(toAlert(row));
  if (!result.ok) throw alertChangeError(id, result);
  checkVersion("alert", id, row.version, expectedVersion);
  await write(tx, result.alert, row.version);
  return { alert: result.alert, notify: result.notify };
}

/** Records a step's notifications as planned and appends `alert.escalated`; none for no step. */
async function notice(tx: Tx, alert: Alert, notify: StepNotice | null, by: string): Promise<AlertNotification[]> {
  if (notify === null) return [];
  const rows: NotificationRow[] = [];
  for (const values of plannedValues(alert.id, notify, tx.now)) {
    rows.push((await tx.one<NotificationRow>(INSERT_NOTIFICATION, values)) as NotificationRow);
  }
  tx.event("alert.escalated", null, null, escalatedEventData(alert, notify, by));
  return rows.map(toNotification);
}

/** Writes a changed alert if it is still at the version read; whether it was. */
async function write(tx: Tx, alert: Alert, readVersion: number): Promise<boolean> {
  return (await tx.run(UPDATE_ALERT, alertUpdateValues(alert, readVersion))) === 1;
}
