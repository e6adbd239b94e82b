/**
 * Alerts, written once for both backends (see ../tx.ts): raises with dedup, acknowledgements,
 * closes, escalations and their notifications, each verb one transaction. Decided by
 * `core/alert.ts` and the pure functions of rows.ts; each write is still guarded by the version
 * it read.
 *
 * A raise with a dedup key first takes the key's lock, then looks for the open alert: raisers of
 * one key queue on that lock, so two can never both find it missing (the partial unique index
 * would refuse the second insert anyway). A person's action locks the alert's row. The watchdog
 * locks the due alerts it reads and skips those another transaction holds, and writes each only
 * if it is still at the version read: however many nodes run it at the same moment, each due
 * step is applied exactly once. On SQLite those locks are nothing to take: one writer at a time
 * across every process on the file gives the same guarantees.
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
  pageStep,
  raise,
  type StepNotice,
} from "../../core/alert.js";
import { rotationsNamed } from "../../core/oncall.js";
import type { OverseerEvent } from "../../core/types.js";
import { LOCK } from "../locks.js";
import { currentOverrides } from "../oncall/operations.js";
import { type EventRow, toEvent } from "../rows.js";
import type { AlertEscalation, AlertFilter, RaiseAlertResult } from "../store.js";
import type { Db, Op, Tx } from "../tx.js";
import { checkVersion } from "../versions.js";
import {
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
} from "./rows.js";
import * as q from "./statements.js";

/** Stores a new alert, or bumps the open one with its dedup key (see the module comment). */
export function* raiseAlert(tx: Tx, input: NewAlert): Op<RaiseAlertResult> {
  checkNewAlert(input);
  let open: AlertRow | undefined;
  if (input.dedupKey !== null) {
    yield* tx.lock(LOCK.alerts, input.dedupKey);
    open = yield* tx.one<AlertRow>(q.OPEN_BY_KEY, [input.dedupKey]);
  }
  if (open) {
    const bumped = bump(toAlert(open), input, tx.at);
    yield* write(tx, bumped, open.version);
    tx.event("alert.bumped", null, null, bumpedEventData(bumped));
    return { alert: bumped, created: false, notifications: [] };
  }
  const { alert, notify } = raise(input, tx.at);
  yield* tx.run(q.INSERT_ALERT, alertValues(alert));
  tx.event("alert.raised", null, null, raisedEventData(alert));
  return { alert, created: true, notifications: (yield* notice(tx, alert, notify, "escalator")).notifications };
}

export function* getAlert(db: Db, id: string): Op<Alert | null> {
  const row = yield* db.one<AlertRow>(q.GET_ALERT, [id]);
  return row ? toAlert(row) : null;
}

export function* listAlerts(db: Db, filter: AlertFilter): Op<Alert[]> {
  const cursor = filter.afterId === undefined ? null : yield* db.one<AlertRow>(q.GET_ALERT, [filter.afterId]);
  const plan = alertListing(filter, cursor);
  if (plan === null) return [];
  const [open, created, id] = plan.after ?? [null, null, ""];
  const range = [filter.createdAfter ?? null, filter.createdBefore ?? null];
  const params = [db.list(plan.statuses), plan.source, open, created, id, plan.limit, ...range];
  return (yield* db.rows<AlertRow>(q.LIST, params)).map(toAlert);
}

/** The alert's events (its lifecycle), oldest first, at most `limit`. */
export function* alertEvents(db: Db, id: string, limit: number): Op<OverseerEvent[]> {
  return (yield* db.rows<EventRow>(q.ALERT_EVENTS, [id, limit])).map(toEvent);
}

export function* countAlerts(db: Db, filter: AlertFilter): Op<number> {
  const { statuses, source } = alertListing({ ...filter, afterId: undefined }, null) ?? { statuses: [], source: null };
  const params = [db.list(statuses), source, filter.createdAfter ?? null, filter.createdBefore ?? null];
  return Number((yield* db.one<{ n: number | string }>(q.COUNT_MATCHING, params))?.n ?? 0);
}

/** Open alerts by status; a status no open alert has counts 0. */
export function* countOpenAlerts(db: Db): Op<Record<"triggered" | "acknowledged", number>> {
  const counts = { triggered: 0, acknowledged: 0 };
  for (const r of yield* db.rows<{ status: string; n: number }>(q.COUNT_OPEN)) {
    if (r.status === "triggered" || r.status === "acknowledged") counts[r.status] = Number(r.n);
  }
  return counts;
}

export function* acknowledgeAlert(
  tx: Tx,
  id: string,
  by: string,
  expectedVersion?: number,
  note: string | null = null,
): Op<Alert> {
  const { alert } = yield* change(tx, id, expectedVersion, (a) => acknowledge(a, by, tx.at));
  // The note lives on the event only: the alert keeps who and when, its timeline says why.
  tx.event(
    "alert.acknowledged",
    null,
    null,
    note === null ? { alertId: alert.id, by } : { alertId: alert.id, by, note },
  );
  return alert;
}

export function* closeAlert(
  tx: Tx,
  id: string,
  by: string,
  reason: string | null,
  expectedVersion?: number,
): Op<Alert> {
  const { alert } = yield* change(tx, id, expectedVersion, (a) => close(a, by, reason, tx.at));
  tx.event("alert.closed", null, null, { alertId: alert.id, by, reason });
  return alert;
}

export function* escalateAlertNow(tx: Tx, id: string, by: string, expectedVersion?: number): Op<AlertEscalation> {
  const { alert, notify } = yield* change(tx, id, expectedVersion, (a) => escalateNow(a, tx.at));
  const { notice: paged, notifications } = yield* notice(tx, alert, notify, by, true);
  return { alert, notice: paged, notifications, retriggered: false };
}

/** Whether any step is due: a read, so idle watchdogs take no write lock just to find nothing due. */
export function* anyEscalationDue(db: Db): Op<boolean> {
  const next = yield* nextEscalationAt(db);
  return next !== null && next <= (yield* db.now());
}

/** Each due step exactly once across every node (see the module comment). */
export function* claimDueEscalations(tx: Tx, limit: number): Op<AlertEscalation[]> {
  const applied: AlertEscalation[] = [];
  for (const row of yield* tx.rows<AlertRow>(q.DUE, [tx.at, limit])) {
    const due = dueAction(toAlert(row), tx.at);
    if (due === null || !(yield* write(tx, due.alert, row.version))) continue;
    const retriggered = due.transition === "retrigger";
    if (retriggered) {
      tx.event("alert.retriggered", null, null, { alertId: row.id, acknowledgedBy: row.acknowledged_by });
    }
    const { notice: paged, notifications } = yield* notice(tx, due.alert, due.notify, "escalator");
    applied.push({ alert: due.alert, notice: paged, notifications, retriggered });
  }
  return applied;
}

export function* recordNotification(
  tx: Tx,
  id: number,
  status: "sent" | "failed",
  error: string | null | undefined,
  receipt?: NotificationReceipt | null,
): Op<AlertNotification> {
  const [state, message, receiptJson] = notificationOutcome(status, error, receipt);
  const row = yield* tx.one<NotificationRow>(q.UPDATE_NOTIFICATION, [state, message, tx.at, id, receiptJson]);
  if (!row) throw notificationNotFound(id);
  // In the same transaction, so every server's event reader counts each send once (see http/metrics.ts).
  tx.event(`alert.notification_${status}`, null, null, {
    alertId: row.alert_id,
    notificationId: row.id,
    target: row.target,
    ...(status === "failed" ? { error: message } : {}),
  });
  return toNotification(row);
}

/**
 * Plans the fallback of notification `id`, whose send failed for good: the same step and round,
 * to `target`, at once, with `alert.fallback`. Once per failed notification (a second call returns
 * the first's), under the alert's lock; null when the alert is no longer open.
 */
export function* planFallback(tx: Tx, id: number, target: string): Op<AlertNotification | null> {
  const failed = yield* tx.one<NotificationRow>(q.GET_NOTIFICATION, [id]);
  if (!failed) throw notificationNotFound(id);
  const alert = yield* tx.one<AlertRow>(q.LOCK_ALERT, [failed.alert_id]);
  if (alert?.is_open !== 1) return null;
  const planned = yield* tx.one<NotificationRow>(q.FALLBACK_OF, [failed.alert_id, id]);
  if (planned) return toNotification(planned);
  const row = (yield* tx.one<NotificationRow>(q.INSERT_FALLBACK, [
    failed.alert_id,
    failed.step,
    failed.round,
    target,
    tx.at,
    id,
  ])) as NotificationRow;
  tx.event("alert.fallback", null, null, {
    alertId: failed.alert_id,
    notificationId: id,
    target: failed.target,
    fallback: target,
    fallbackId: row.id,
  });
  return toNotification(row);
}

export function* nextEscalationAt(db: Db): Op<number | null> {
  return (yield* db.one<{ at: number | null }>(q.NEXT_DUE))?.at ?? null;
}

export function* listAlertNotifications(db: Db, alertId: string): Op<AlertNotification[]> {
  return (yield* db.rows<NotificationRow>(q.LIST_NOTIFICATIONS, [alertId])).map(toNotification);
}

export function* listPlannedNotifications(db: Db, limit: number): Op<AlertNotification[]> {
  return (yield* db.rows<NotificationRow>(q.LIST_PLANNED, [limit])).map(toNotification);
}

/** Locks and reads the alert, applies `decide` and writes it; refusals and version conflicts throw, writing nothing. */
function* change(
  tx: Tx,
  id: string,
  expectedVersion: number | undefined,
  decide: (alert: Alert) => AlertChange,
): Op<{ alert: Alert; notify: StepNotice | null }> {
  const row = yield* tx.one<AlertRow>(q.LOCK_ALERT, [id]);
  if (!row) throw alertNotFound(id);
  const result = decide(toAlert(row));
  if (!result.ok) throw alertChangeError(id, result);
  checkVersion("alert", id, row.version, expectedVersion);
  yield* write(tx, result.alert, row.version);
  return { alert: result.alert, notify: result.notify };
}

/**
 * Records a step's notifications as planned and appends `alert.escalated`; none for no step.
 * The step is paged as it stands now (core/alert.ts `pageStep`): nobody while its time window
 * is shut (unless `byHand`: a person's escalate now), and each rotation it names through
 * whoever is on call, overrides read here. Returns the step as paged, and its notifications.
 */
function* notice(
  tx: Tx,
  alert: Alert,
  notify: StepNotice | null,
  by: string,
  byHand = false,
): Op<{ notice: StepNotice | null; notifications: AlertNotification[] }> {
  if (notify === null) return { notice: null, notifications: [] };
  const rotations = alert.policy?.oncall === undefined ? [] : rotationsNamed(notify.targets);
  const overrides = yield* currentOverrides(tx, rotations, tx.at);
  const paged = pageStep(alert.policy, notify, tx.at, overrides, byHand);
  const rows: NotificationRow[] = [];
  for (const values of plannedValues(alert.id, paged.notice, tx.at)) {
    rows.push((yield* tx.one<NotificationRow>(q.INSERT_NOTIFICATION, values)) as NotificationRow);
  }
  tx.event("alert.escalated", null, null, {
    ...escalatedEventData(alert, paged.notice, by),
    ...(paged.skipped === null ? {} : { skipped: paged.skipped }),
    ...(paged.onCall.length === 0 ? {} : { onCall: paged.onCall }),
  });
  return { notice: paged.notice, notifications: rows.map(toNotification) };
}

/** Writes a changed alert if it is still at the version read; whether it was. */
function* write(tx: Tx, alert: Alert, readVersion: number): Op<boolean> {
  return (yield* tx.run(q.UPDATE_ALERT, alertUpdateValues(alert, readVersion))) === 1;
}
