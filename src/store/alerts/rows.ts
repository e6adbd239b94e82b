/**
 * Alerts as both backends store them (same tables and columns, see migration 009), their mapping
 * to domain records, and what every write shares: the row a changed alert writes back (guarded
 * by the version it read), the events to append, the notification rows a step plans, and how a
 * listing page is read. Pure: operations.ts reads rows in its transaction, calls these (and the
 * rules of core/alert.ts) with the transaction's `now`, and writes what comes back.
 */
import type {
  Alert,
  AlertNotification,
  AlertSource,
  AlertStatus,
  EscalationPolicy,
  NotificationReceipt,
  NotificationStatus,
  StepNotice,
} from "../../core/alert.js";
import { OverseerError } from "../../core/errors.js";
import { iso } from "../rows.js";
import type { AlertFilter } from "../store.js";

export interface AlertRow {
  id: string;
  source: AlertSource;
  summary: string;
  /** JSON. */
  details: string;
  dedup_key: string | null;
  status: AlertStatus;
  is_open: number;
  count: number;
  policy_name: string | null;
  /** JSON EscalationPolicy, or null. */
  policy: string | null;
  esc_step: number;
  esc_round: number;
  next_escalation_at: number | null;
  acknowledged_by: string | null;
  acknowledged_at: number | null;
  closed_by: string | null;
  closed_at: number | null;
  close_reason: string | null;
  created_at: number;
  updated_at: number;
  version: number;
}

/** The alerts table's columns, in insert order. */
export const ALERT_COLUMNS = [
  "id",
  "source",
  "summary",
  "details",
  "dedup_key",
  "status",
  "is_open",
  "count",
  "policy_name",
  "policy",
  "esc_step",
  "esc_round",
  "next_escalation_at",
  "acknowledged_by",
  "acknowledged_at",
  "closed_by",
  "closed_at",
  "close_reason",
  "created_at",
  "updated_at",
  "version",
] as const satisfies ReadonlyArray<keyof AlertRow>;

/** The columns a changed alert writes back (all but id, source, dedup key and created_at). */
export const ALERT_UPDATE_COLUMNS = ALERT_COLUMNS.filter(
  (c) => c !== "id" && c !== "source" && c !== "dedup_key" && c !== "created_at",
);

export interface NotificationRow {
  id: number;
  alert_id: string;
  step: number;
  round: number;
  target: string;
  at: number;
  status: NotificationStatus;
  error: string | null;
  /** JSON NotificationReceipt (migration 014), or null. */
  receipt: string | null;
  /** Migration 026. */
  fallback_for: number | null;
  updated_at: number;
}

const ms = (at: string | null): number | null => (at === null ? null : Date.parse(at));
const isoOrNull = (at: number | null): string | null => (at === null ? null : iso(at));

export function toAlert(row: AlertRow): Alert {
  return {
    id: row.id,
    source: row.source,
    summary: row.summary,
    details: JSON.parse(row.details) as unknown,
    dedupKey: row.dedup_key,
    status: row.status,
    count: row.count,
    policy: row.policy === null ? null : (JSON.parse(row.policy) as EscalationPolicy),
    escalation: { step: row.esc_step, round: row.esc_round },
    nextEscalationAt: isoOrNull(row.next_escalation_at),
    acknowledgedBy: row.acknowledged_by,
    acknowledgedAt: isoOrNull(row.acknowledged_at),
    closedBy: row.closed_by,
    closedAt: isoOrNull(row.closed_at),
    closeReason: row.close_reason,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    version: row.version,
  };
}

export function toAlertRow(alert: Alert): AlertRow {
  return {
    id: alert.id,
    source: alert.source,
    summary: alert.summary,
    details: JSON.stringify(alert.details ?? null),
    dedup_key: alert.dedupKey,
    status: alert.status,
    is_open: alert.status === "closed" ? 0 : 1,
    count: alert.count,
    policy_name: alert.policy?.name ?? null,
    policy: alert.policy === null ? null : JSON.stringify(alert.policy),
    esc_step: alert.escalation.step,
    esc_round: alert.escalation.round,
    next_escalation_at: ms(alert.nextEscalationAt),
    acknowledged_by: alert.acknowledgedBy,
    acknowledged_at: ms(alert.acknowledgedAt),
    closed_by: alert.closedBy,
    closed_at: ms(alert.closedAt),
    close_reason: alert.closeReason,
    created_at: Date.parse(alert.createdAt),
    updated_at: Date.parse(alert.updatedAt),
    version: alert.version,
  };
}

/** The values of a new alert in ALERT_COLUMNS order, for an INSERT. */
export function alertValues(alert: Alert): unknown[] {
  const row = toAlertRow(alert);
  return ALERT_COLUMNS.map((c) => row[c]);
}

/**
 * A changed alert's values in ALERT_UPDATE_COLUMNS order, followed by its id and the version it
 * was read at: the write is guarded by that version, so it applies once.
 */
export function alertUpdateValues(next: Alert, readVersion: number): unknown[] {
  const row = toAlertRow(next);
  return [...ALERT_UPDATE_COLUMNS.map((c) => row[c]), next.id, readVersion];
}

export function toNotification(row: NotificationRow): AlertNotification {
  return {
    id: row.id,
    alertId: row.alert_id,
    step: row.step,
    round: row.round,
    target: row.target,
    at: iso(row.at),
    status: row.status,
    error: row.error,
    receipt:
      row.receipt === null || row.receipt === undefined ? null : (JSON.parse(row.receipt) as NotificationReceipt),
    fallbackFor: row.fallback_for ?? null,
    updatedAt: iso(row.updated_at),
  };
}

/** The notification rows a step plans (one per target), without their ids: (alert id, step, round, target, at). */
export function plannedValues(alertId: string, notice: StepNotice, now: number): unknown[][] {
  return notice.targets.map((target) => [alertId, notice.step, notice.round, target, now]);
}

export function alertNotFound(id: string): OverseerError {
  return new OverseerError("ALERT_NOT_FOUND", `no alert with id "${id}"`, { id });
}

export function notificationNotFound(id: number): OverseerError {
  return new OverseerError("ALERT_NOT_FOUND", `no alert notification with id ${id}`, { notificationId: id });
}

/**
 * A notification's outcome: `sent` (with the sent message's receipt, if any, as JSON) or `failed`
 * (with its error, at most 2 KB kept; never a receipt). Returns [status, error, receipt].
 */
export function notificationOutcome(
  status: NotificationStatus,
  error: string | null | undefined,
  receipt?: NotificationReceipt | null,
): [string, string | null, string | null] {
  if (status === "planned") {
    throw new OverseerError("INVALID_ARGUMENT", "a notification's outcome is sent or failed", { field: "status" });
  }
  if (status === "failed") return [status, (error ?? "failed").slice(0, 2_048), null];
  if (receipt === null || receipt === undefined) return [status, null, null];
  const { chatId, messageId } = receipt;
  if (!(typeof chatId === "number" || typeof chatId === "string") || !Number.isSafeInteger(messageId)) {
    throw new OverseerError("INVALID_ARGUMENT", "a receipt is { chatId: string | number, messageId: integer }", {
      field: "receipt",
    });
  }
  return [status, null, JSON.stringify({ chatId, messageId })];
}

// -- events -------------------------------------------------------------------------------

export function raisedEventData(alert: Alert): Record<string, unknown> {
  return {
    alertId: alert.id,
    source: alert.source,
    summary: alert.summary,
    dedupKey: alert.dedupKey,
    policy: alert.policy?.name ?? null,
  };
}

export function bumpedEventData(alert: Alert): Record<string, unknown> {
  return { alertId: alert.id, dedupKey: alert.dedupKey, count: alert.count };
}

export function escalatedEventData(alert: Alert, notice: StepNotice, by: string): Record<string, unknown> {
  return { alertId: alert.id, step: notice.step, round: notice.round, targets: notice.targets, by };
}

// -- listing ------------------------------------------------------------------------------

export const DEFAULT_ALERT_PAGE = 50;

/**
 * One page of `listAlerts`: open alerts first, then closed ones, each part newest first, by
 * (is_open, created_at, id) descending. `afterId` is a keyset cursor at that alert's current
 * place; an unknown one gives an empty page (null here). Statuses default to all.
 */
export function alertListing(
  filter: AlertFilter,
  cursor: AlertRow | undefined | null,
): { statuses: AlertStatus[]; source: string | null; after: [number, number, string] | null; limit: number } | null {
  if (filter.afterId !== undefined && (cursor === undefined || cursor === null)) return null;
  const statuses =
    filter.statuses && filter.statuses.length > 0 ? [...filter.statuses] : ["triggered", "acknowledged", "closed"];
  return {
    statuses: statuses as AlertStatus[],
    source: filter.source ?? null,
    after: cursor ? [cursor.is_open, cursor.created_at, cursor.id] : null,
    limit: filter.limit ?? DEFAULT_ALERT_PAGE,
  };
}
