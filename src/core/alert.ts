/**
 * Alerts: something needs a person (an approval waiting, jobs dying, a worker lost, a queue
 * backing up, a heartbeat gone quiet). An alert is raised once per open dedup key (a second raise
 * bumps its count and pages nobody), then escalated up its policy's steps until someone
 * acknowledges or closes it. This file holds the shapes, the status machine and the escalation
 * timing as pure rules every store applies inside its transaction; `now` is always passed in.
 * Invariant: a closed alert never changes, and never pages anyone again.
 */
import { OverseerError } from "./errors.js";
import { type OnCallPaged, type OncallOverride, type PolicyOncall, resolveRotationTargets } from "./oncall.js";
import {
  ALERT_SOURCES,
  ALERT_STATUSES,
  type AlertSource,
  type AlertStatus,
  type NotificationStatus,
} from "./states.js";
import { conditionHolds, describeCondition, type WindowCondition } from "./time-window.js";

export {
  ALERT_SOURCES,
  ALERT_STATUSES,
  type AlertSource,
  type AlertStatus,
  NOTIFICATION_STATUSES,
  type NotificationStatus,
} from "./states.js";

/** The open statuses: at most one alert per dedup key is in one of them. */
export const OPEN_ALERT_STATUSES: readonly AlertStatus[] = ["triggered", "acknowledged"];

/**
 * A status filter as people write it: `triggered`, `acknowledged,closed`, or `open` (triggered and
 * acknowledged). INVALID_STATE_FILTER names an unknown status, after `label` when given (`--status`).
 */
export function parseAlertStatuses(text: string, label?: string): AlertStatus[] {
  const statuses = new Set<AlertStatus>();
  for (const raw of text.split(",")) {
    const s = raw.trim();
    if (s === "") continue;
    if (s === "open") for (const open of OPEN_ALERT_STATUSES) statuses.add(open);
    else if ((ALERT_STATUSES as readonly string[]).includes(s)) statuses.add(s as AlertStatus);
    else {
      throw new OverseerError(
        "INVALID_STATE_FILTER",
        `${label === undefined ? "" : `${label}: `}unknown alert status "${s}"; the statuses are ${ALERT_STATUSES.join(", ")} (or open)`,
        { field: "status" },
      );
    }
  }
  return [...statuses];
}

/**
 * Every status change is one of these named transitions, with the statuses it may start from,
 * as for runs (core/run-state.ts). `trigger` creates the alert, so it starts from nothing.
 */
export const ALERT_TRANSITIONS = {
  /** A new alert (no open alert has its dedup key). */
  trigger: { from: [], to: "triggered" },
  /** A person has it: escalation stops (and the ack timeout, if any, starts). */
  acknowledge: { from: ["triggered"], to: "acknowledged" },
  /** Done, for good. */
  close: { from: ["triggered", "acknowledged"], to: "closed" },
  /** The acknowledgement timed out without a close: escalation starts again from the first step. */
  retrigger: { from: ["acknowledged"], to: "triggered" },
  /** "Escalate now": the next step is notified at once; an acknowledged alert is triggered again. */
  escalate: { from: ["triggered", "acknowledged"], to: "triggered" },
} as const satisfies Record<string, { from: readonly AlertStatus[]; to: AlertStatus }>;

export type AlertTransitionName = keyof typeof ALERT_TRANSITIONS;

export function canTransitionAlert(name: AlertTransitionName, from: AlertStatus): boolean {
  return (ALERT_TRANSITIONS[name].from as readonly AlertStatus[]).includes(from);
}

export interface EscalationStep {
  /** How long after the previous step (or the trigger, for the first) this step is notified. */
  delayMs: number;
  /** Channel names, people or rotations. */
  notify: string[];
  /**
   * Pages only during (or outside) a time window: a step due while its window is shut pages
   * nobody, and escalation goes on to the next step as if it had. Absent: always.
   */
  window?: WindowCondition;
}

export interface EscalationPolicy {
  name: string;
  /** At least one. */
  steps: EscalationStep[];
  /** Times to loop back to the first step after the last; 0: once through. */
  repeat: number;
  /**
   * Gap between the last step of a round and the first step of the next; it replaces the first
   * step's own delay in repeated rounds (which is usually 0: "at once").
   */
  repeatDelayMs: number;
  /** An acknowledged alert that is not closed within this is triggered again; null: never. */
  ackTimeoutMs: number | null;
  /** The rotations its steps page, resolved to whoever is on call when each step is due. */
  oncall?: PolicyOncall;
}

/** Where an alert is in its policy: the step last notified (-1: none yet) in round `round` (0-based). */
export interface EscalationPosition {
  step: number;
  round: number;
}

export interface Alert {
  id: string;
  source: AlertSource;
  summary: string;
  /** Anything JSON. The newest raise's details (a bump replaces them). */
  details: unknown;
  /** Raises with the same key while this alert is open bump it; null: never deduplicated. */
  dedupKey: string | null;
  status: AlertStatus;
  /** How many raises this alert stands for (1 + bumps). */
  count: number;
  /** The policy as it was when the alert was raised (a later config change does not alter it); null: nobody is paged. */
  policy: EscalationPolicy | null;
  escalation: EscalationPosition;
  /** When the next step is due (triggered), or the ack timeout ends (acknowledged); null: nothing more. */
  nextEscalationAt: string | null;
  acknowledgedBy: string | null;
  acknowledgedAt: string | null;
  closedBy: string | null;
  closedAt: string | null;
  closeReason: string | null;
  createdAt: string;
  updatedAt: string;
  version: number;
}

export interface NewAlert {
  id: string;
  source: AlertSource;
  summary: string;
  details: unknown;
  dedupKey: string | null;
  policy: EscalationPolicy | null;
}

/** One step's notification of one target: the escalation timeline. */
export interface AlertNotification {
  id: number;
  alertId: string;
  step: number;
  round: number;
  /** A channel name or a person. */
  target: string;
  /** When the step was due and claimed. */
  at: string;
  status: NotificationStatus;
  error: string | null;
  /**
   * Where a sent message with buttons went, so its copies can be updated once the alert or its
   * approval is settled (see alerts/settled-copies.ts); null for other messages and channels.
   */
  receipt: NotificationReceipt | null;
  /**
   * The notification this one stands in for: it went to a channel's \`fallback\` because that one
   * failed for good. Null for a notification its step planned.
   */
  fallbackFor: number | null;
  updatedAt: string;
}

/** A sent Telegram message: the chat and the message id the Bot API gave it. */
export interface NotificationReceipt {
  chatId: string | number;
  messageId: number;
}

/** A step to notify now. */
export interface StepNotice {
  step: number;
  round: number;
  targets: string[];
}

export interface EscalationPlan {
  /** The step to notify now, or null (nothing is due yet, or the policy is done). */
  notify: StepNotice | null;
  position: EscalationPosition;
  /** Epoch ms when the next step is due, or null when none is left. */
  nextEscalationAt: number | null;
}

/**
 * A due step as it is paged at `atMs`: nobody while the step's time window is shut (`skipped`
 * says which), else its targets with each rotation resolved to whoever is on call then
 * (`onCall` says who, and through which override). `overrides`: those in force at `atMs`.
 * A person's "escalate now" (`byHand`) pages the step whatever its window says.
 */
export function pageStep(
  policy: EscalationPolicy | null,
  notice: StepNotice,
  atMs: number,
  overrides: readonly OncallOverride[],
  byHand = false,
): { notice: StepNotice; skipped: string | null; onCall: OnCallPaged[] } {
  const window = policy?.steps[notice.step]?.window;
  if (!byHand && window !== undefined && !conditionHolds(window, atMs)) {
    return { notice: { ...notice, targets: [] }, skipped: `only ${describeCondition(window)}`, onCall: [] };
  }
  const { targets, paged } = resolveRotationTargets(notice.targets, policy?.oncall, overrides, atMs);
  return { notice: { ...notice, targets }, skipped: null, onCall: paged };
}

const BEFORE_FIRST: EscalationPosition = { step: -1, round: 0 };

/** The position after `position`, or null when the policy (with its repeats) is done. */
export function positionAfter(position: EscalationPosition, policy: EscalationPolicy): EscalationPosition | null {
  if (position.step + 1 < policy.steps.length) return { step: position.step + 1, round: position.round };
  if (position.round < policy.repeat) return { step: 0, round: position.round + 1 };
  return null;
}

/** How long after the step at `from` was notified (or the trigger, from -1) the step at `to` is due. */
function delayOf(to: EscalationPosition, policy: EscalationPolicy): number {
  if (to.step === 0 && to.round > 0) return policy.repeatDelayMs;
  return (policy.steps[to.step] as EscalationStep).delayMs;
}

/** The plan once the step at `position` was notified at `at`: when the next one is due, if any. */
function afterNotified(position: EscalationPosition, policy: EscalationPolicy, at: number): EscalationPlan {
  const next = positionAfter(position, policy);
  const notify = { step: position.step, round: position.round, targets: stepTargets(policy, position.step) };
  return { notify, position, nextEscalationAt: next === null ? null : at + delayOf(next, policy) };
}

function stepTargets(policy: EscalationPolicy, step: number): string[] {
  return [...(policy.steps[step] as EscalationStep).notify];
}

/**
 * A new (or re-triggered) alert: the first step is due after its delay from `now`; with a delay
 * of 0 it is notified at once, and the plan says when the second is due. No policy: nothing.
 */
export function escalationAfterTrigger(policy: EscalationPolicy | null, now: number): EscalationPlan {
  if (policy === null || policy.steps.length === 0)
    return { notify: null, position: BEFORE_FIRST, nextEscalationAt: null };
  const first = { step: 0, round: 0 };
  const delay = delayOf(first, policy);
  if (delay > 0) return { notify: null, position: BEFORE_FIRST, nextEscalationAt: now + delay };
  return afterNotified(first, policy, now);
}

/**
 * A triggered alert's escalation at `now`: the next step if it is due (exactly at its time, not
 * a millisecond before), with the new position and when the step after it is due; `notify: null`
 * with the position unchanged when nothing is due yet or the policy is done. One step per call:
 * a caller that fell behind gets the missed steps one by one, each from `now`.
 */
export function nextEscalation(
  state: { escalation: EscalationPosition; nextEscalationAt: number | null },
  policy: EscalationPolicy | null,
  now: number,
): EscalationPlan {
  const idle = { notify: null, position: state.escalation, nextEscalationAt: state.nextEscalationAt };
  if (policy === null || state.nextEscalationAt === null || now < state.nextEscalationAt) return idle;
  const next = positionAfter(state.escalation, policy);
  if (next === null) return { ...idle, nextEscalationAt: null };
  return afterNotified(next, policy, now);
}

/**
 * "Escalate now": the next step is notified at once, whatever its delay. When the policy is done
 * (or all rounds are used up), the last step is notified again, so the press always pages someone.
 */
export function escalateAhead(
  state: { escalation: EscalationPosition },
  policy: EscalationPolicy | null,
  now: number,
): EscalationPlan {
  if (policy === null || policy.steps.length === 0)
    return { notify: null, position: state.escalation, nextEscalationAt: null };
  const next = positionAfter(state.escalation, policy);
  if (next === null) {
    const last = { step: policy.steps.length - 1, round: state.escalation.round };
    return {
      notify: { ...last, targets: stepTargets(policy, last.step) },
      position: state.escalation,
      nextEscalationAt: null,
    };
  }
  return afterNotified(next, policy, now);
}

// -- alert-level transitions --------------------------------------------------------------

export type AlertChange =
  | { ok: true; alert: Alert; notify: StepNotice | null }
  | { ok: false; code: "ALERT_INVALID_TRANSITION"; message: string; status: AlertStatus };

const iso = (ms: number): string => new Date(ms).toISOString();
const msOf = (at: string | null): number | null => (at === null ? null : Date.parse(at));

/** A new alert, triggered at `now`, and the first step to notify if it is due at once. */
export function raise(input: NewAlert, now: number): { alert: Alert; notify: StepNotice | null } {
  const plan = escalationAfterTrigger(input.policy, now);
  const at = iso(now);
  return {
    alert: {
      id: input.id,
      source: input.source,
      summary: input.summary,
      details: input.details,
      dedupKey: input.dedupKey,
      status: "triggered",
      count: 1,
      policy: input.policy,
      escalation: plan.position,
      nextEscalationAt: plan.nextEscalationAt === null ? null : iso(plan.nextEscalationAt),
      acknowledgedBy: null,
      acknowledgedAt: null,
      closedBy: null,
      closedAt: null,
      closeReason: null,
      createdAt: at,
      updatedAt: at,
      version: 1,
    },
    notify: plan.notify,
  };
}

/** A raise with the key of this open alert: it counts once more, takes the newest details, and pages nobody. */
export function bump(alert: Alert, input: Pick<NewAlert, "details">, now: number): Alert {
  return { ...alert, count: alert.count + 1, details: input.details, updatedAt: iso(now), version: alert.version + 1 };
}

function refused(alert: Alert, action: string, why: string): AlertChange {
  return {
    ok: false,
    code: "ALERT_INVALID_TRANSITION",
    message: `cannot ${action} alert ${alert.id}: ${why}`,
    status: alert.status,
  };
}

function refusal(alert: Alert, action: string): AlertChange {
  if (alert.status === "closed")
    return refused(alert, action, `it is closed${alert.closedBy ? ` (by ${alert.closedBy})` : ""}`);
  return refused(alert, action, `it is already ${alert.status}`);
}

/** Stops escalation; with an ack timeout, the alert is due to re-trigger at now + timeout. */
export function acknowledge(alert: Alert, by: string, now: number): AlertChange {
  if (!canTransitionAlert("acknowledge", alert.status)) return refusal(alert, "acknowledge");
  const timeout = alert.policy?.ackTimeoutMs ?? null;
  return {
    ok: true,
    notify: null,
    alert: {
      ...alert,
      status: "acknowledged",
      acknowledgedBy: by,
      acknowledgedAt: iso(now),
      nextEscalationAt: timeout === null ? null : iso(now + timeout),
      updatedAt: iso(now),
      version: alert.version + 1,
    },
  };
}

/** Final: nothing is due any more, and every later action is refused. */
export function close(alert: Alert, by: string, reason: string | null, now: number): AlertChange {
  if (!canTransitionAlert("close", alert.status)) return refusal(alert, "close");
  return {
    ok: true,
    notify: null,
    alert: {
      ...alert,
      status: "closed",
      closedBy: by,
      closedAt: iso(now),
      closeReason: reason,
      nextEscalationAt: null,
      updatedAt: iso(now),
      version: alert.version + 1,
    },
  };
}

/** "Escalate now" (see `escalateAhead`); an acknowledged alert is triggered again and escalates from where it was. */
export function escalateNow(alert: Alert, now: number): AlertChange {
  if (!canTransitionAlert("escalate", alert.status)) return refusal(alert, "escalate");
  const plan = escalateAhead(alert, alert.policy, now);
  return { ok: true, notify: plan.notify, alert: withPlan(reopened(alert), plan, now) };
}

/**
 * What is due on an open alert at `now`, as the escalation watchdog applies it: a triggered alert's
 * next step (`escalate`), or an acknowledged alert's ack timeout (`retrigger`: triggered again,
 * escalating from the first step as a new alert would). Null when nothing is due.
 */
export function dueAction(
  alert: Alert,
  now: number,
): { transition: "escalate" | "retrigger"; alert: Alert; notify: StepNotice | null } | null {
  const due = msOf(alert.nextEscalationAt);
  if (due === null || now < due) return null;
  if (alert.status === "acknowledged") {
    const plan = escalationAfterTrigger(alert.policy, now);
    return { transition: "retrigger", alert: withPlan(reopened(alert), plan, now), notify: plan.notify };
  }
  if (alert.status !== "triggered") return null;
  const plan = nextEscalation({ escalation: alert.escalation, nextEscalationAt: due }, alert.policy, now);
  return { transition: "escalate", alert: withPlan(alert, plan, now), notify: plan.notify };
}

function reopened(alert: Alert): Alert {
  return { ...alert, status: "triggered", acknowledgedBy: null, acknowledgedAt: null };
}

function withPlan(alert: Alert, plan: EscalationPlan, now: number): Alert {
  return {
    ...alert,
    escalation: plan.position,
    nextEscalationAt: plan.nextEscalationAt === null ? null : iso(plan.nextEscalationAt),
    updatedAt: iso(now),
    version: alert.version + 1,
  };
}

/** A refusal as an error, for layers that throw: ALERT_INVALID_TRANSITION (409, details.status). */
export function alertChangeError(id: string, refusal: Extract<AlertChange, { ok: false }>): OverseerError {
  return new OverseerError(refusal.code, refusal.message, { id, status: refusal.status });
}

// -- validation of a raise ----------------------------------------------------------------

const MAX_SUMMARY = 300;
const MAX_DEDUP_KEY = 300;
const MAX_DETAILS_BYTES = 64 * 1024;

/** Checks a raise at the boundary; INVALID_ARGUMENT names the field. */
export function checkNewAlert(input: NewAlert): void {
  const bad = (field: string, message: string) =>
    new OverseerError("INVALID_ARGUMENT", `alert ${field} ${message}`, { field });
  if (!(ALERT_SOURCES as readonly string[]).includes(input.source)) {
    throw bad("source", `must be one of ${ALERT_SOURCES.join(", ")}`);
  }
  if (typeof input.summary !== "string" || input.summary.trim() === "" || input.summary.length > MAX_SUMMARY) {
    throw bad("summary", `must be 1-${MAX_SUMMARY} characters`);
  }
  if (
    input.dedupKey !== null &&
    (typeof input.dedupKey !== "string" || input.dedupKey === "" || input.dedupKey.length > MAX_DEDUP_KEY)
  ) {
    throw bad("dedupKey", `must be null or 1-${MAX_DEDUP_KEY} characters`);
  }
  let json: string | undefined;
  try {
    json = JSON.stringify(input.details ?? null);
  } catch (err) {
    throw bad("details", `cannot be stored as JSON: ${(err as Error).message}`);
  }
  if (Buffer.byteLength(json ?? "null") > MAX_DETAILS_BYTES) throw bad("details", "must be at most 64 KB as JSON");
}
