/**
 * The states and statuses of approvals, alerts, their notifications and heartbeats, as the API
 * shows them. A leaf module with no imports, so the HTTP contract, which the dashboard bundles
 * for the browser, can use them without the rules around them (alert.ts, approval.ts, heartbeat.ts).
 */

/** `cancelled`: its job was cancelled while it waited; nobody can decide it any more. */
export const APPROVAL_STATES = ["pending", "approved", "denied", "timed_out", "cancelled"] as const;
export type ApprovalState = (typeof APPROVAL_STATES)[number];

export const ALERT_SOURCES = [
  "approval",
  "job.dead",
  "worker.lost",
  "queue.depth",
  "queue.age",
  "schedule.missed",
  "queue.breaker",
  "run.failed",
  "run.stalled",
  "run.budget",
  "heartbeat",
  "manual",
] as const;
export type AlertSource = (typeof ALERT_SOURCES)[number];

/** `triggered` and `acknowledged` are "open": at most one open alert per dedup key. */
export const ALERT_STATUSES = ["triggered", "acknowledged", "closed"] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

/** One step's notification of one target: the escalation timeline. */
export const NOTIFICATION_STATUSES = ["planned", "sent", "failed"] as const;
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];

export const HEARTBEAT_STATES = ["ok", "late"] as const;
export type HeartbeatState = (typeof HEARTBEAT_STATES)[number];

/**
 * A triggered alert whose escalation policy has nobody left to page: every step (and repeat)
 * was notified and nothing more is due. Nobody is woken again unless someone escalates it.
 */
export function escalationExhausted(alert: {
  status: AlertStatus;
  policy: unknown;
  escalation: { step: number };
  nextEscalationAt: string | null;
}): boolean {
  return (
    alert.status === "triggered" &&
    alert.policy !== null &&
    alert.escalation.step >= 0 &&
    alert.nextEscalationAt === null
  );
}
