/**
 * Event kinds. The log is append-only with a global sequence number; a kind is checked when it
 * is appended so a typo never lands in the log. Later capabilities add their kinds with
 * `defineEventKind` (runs, approvals, alerts...).
 */
import { CLAIM_EVENT_KINDS } from "./claim.js";
import { OverseerError } from "./errors.js";
import { RUN_EVENT_KINDS } from "./run.js";

const BUILT_IN = [
  "job.enqueued",
  "job.started",
  "job.progress",
  "job.log",
  "job.succeeded",
  "job.failed",
  "job.retry_scheduled",
  "job.dead",
  "job.cancel_requested",
  "job.cancelled",
  "job.lost",
  "job.released",
  "job.throttled",
  "job.retried",
  "job.discarded",
  "job.parked",
  "job.signalled",
  /** The re-queue policy put a dead job back (`data.reason`, `data.requeue`, `data.by`); counted per job. */
  "job.requeued",
  /**
   * An enqueue found this job under its idempotency key and returned it instead of a new one:
   * `data.task`, `data.queue`, `data.state` (the job's then), `data.enqueuedBy` (the repeat's).
   */
  "job.deduplicated",
  "signal.received",
  "gate.notified",
  /** ctx.gate decided (`data.decision`: auto, notify or approve; `data.reason`, `data.attempt`). */
  "gate.decided",
  /** A ctx.step began, completed or failed (`data.name`, `data.attempt`, `data.durationMs`; see core/step-timeline.ts). */
  "step.started",
  "step.completed",
  "step.failed",
  "approval.requested",
  "approval.decided",
  "approval.settled",
  "approval.cancelled",
  /** A Telegram user not listed as an approver pressed Approve or Deny: `data.userId`, `data.approvalId`. */
  "approval.refused",
  "alert.raised",
  "alert.bumped",
  "alert.acknowledged",
  "alert.closed",
  "alert.escalated",
  "alert.retriggered",
  /**
   * A notification's send failed for good and its channel names a fallback: the same step goes
   * there at once. \`data.alertId\`, \`data.notificationId\` (the failed one), \`data.target\` (where
   * it failed), \`data.fallback\` (the channel it goes to), \`data.fallbackId\` (the new notification).
   */
  "alert.fallback",
  /**
   * A planned notification's send was recorded: `data.alertId`, `data.notificationId`,
   * `data.target`; a failed one also `data.error` (failed for good: its last attempt, or a
   * permanent error).
   */
  "alert.notification_sent",
  "alert.notification_failed",
  /** A Telegram user not listed as an approver pressed Acknowledge: `data.userId`, `data.alertId`. */
  "alert.refused",
  /** Someone was put on call in a rotation's place (core/oncall.ts): the override, as stored. */
  "oncall.override_created",
  /** An override was cancelled before it ended: the override, with `cancelledBy` and `cancelledAt`. */
  "oncall.override_cancelled",
  /** The execution switch changed (core/execution.ts): `data.from`, `data.to`, `data.by`, `data.reason`. */
  "execution.changed",
  /** The built-in `overseer.command` ran an approved command: `data.command`, `data.exitCode`, `data.signal`, `data.output` (its tail). */
  "command.executed",
  /** It recorded an approved command as a dry run and ran nothing: `data.command`, `data.why`. */
  "command.executed.dryrun",
  /** An execution found the command started by an earlier one that never recorded its outcome, and ran nothing: `data.command`. */
  "command.interrupted",
  "queue.paused",
  "queue.resumed",
  /**
   * A queue's circuit breaker opened (core/breaker.ts): `data.queue`, `data.reason`
   * (`failure_rate`, with `attempts`, `failures`, `windowMs`, `divertTo`; or `probe_failed`, with
   * `probeJobId`), `data.probeAt`.
   */
  "queue.breaker_opened",
  /** Its cool-down ended: the next due job runs as its probe. */
  "queue.breaker_half_open",
  /** It picked `data.probeJobId` as its probe. */
  "queue.breaker_probe",
  /** It closed: `data.reason` `probe_succeeded` (`probeJobId`) or `reset` (`by`). */
  "queue.breaker_closed",
  "worker.started",
  "worker.stopped",
  "worker.lost",
  "worker.loop_failed",
  /** An operator asked the worker to quiet (claim nothing more): `data.by`. */
  "worker.quiet_requested",
  /** An operator asked the worker to stop (quiet, then stop gracefully): `data.by`. */
  "worker.stop_requested",
  /** An operator asked a quiet worker to claim again: `data.by`. */
  "worker.resume_requested",
  /** The worker went quiet: it claims nothing more and handed back `data.released` jobs it had not started. */
  "worker.quieted",
  /** A quiet worker claims again. */
  "worker.resumed",
  "schedule.added",
  "schedule.updated",
  "schedule.removed",
  "schedule.enabled",
  "schedule.disabled",
  "schedule.fired",
  "schedule.triggered",
  "schedule.fire_failed",
  /** Ticks passed with no scheduler running and were skipped (beyond `catchUp`): `data.schedule`, `data.missed`, `data.first`, `data.last`. */
  "schedule.missed",
  "token.created",
  "token.revoked",
  /** A lesson was stored (`data.lesson`, `data.title`, `data.tags`), on its job's or run's timeline. */
  "lesson.recorded",
  "lesson.deleted",
] as const;

export type BuiltInEventKind = (typeof BUILT_IN)[number];

const KIND_PATTERN = /^[a-z][a-z0-9_]*\.[a-z][a-z0-9_.]*$/;
const kinds = new Set<string>([...BUILT_IN, ...RUN_EVENT_KINDS, ...CLAIM_EVENT_KINDS]);

export function defineEventKind(kind: string): void {
  if (!KIND_PATTERN.test(kind)) {
    throw new OverseerError("INVALID_ARGUMENT", `event kind must look like "area.name" in lower case, got "${kind}"`, {
      field: "kind",
    });
  }
  kinds.add(kind);
}

export function assertEventKind(kind: string): void {
  if (!kinds.has(kind)) {
    throw new OverseerError(
      "UNKNOWN_EVENT_KIND",
      `unknown event kind "${kind}"; register it with defineEventKind first`,
      {
        kind,
      },
    );
  }
}

export function isEventKind(kind: string): boolean {
  return kinds.has(kind);
}
