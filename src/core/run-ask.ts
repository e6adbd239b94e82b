/**
 * What a run asks people, as approval requests (core/approval.ts): the question or approval
 * request a turn printed, and the approval a profile wants before the first turn, each decided
 * under the run's `approvals` policy; and a settled request as the next turn's `{{answer}}`.
 * Pure: ids and the policy come from the caller.
 */
import { type Approval, buildNewApproval, type NewApproval } from "./approval.js";
import { DEFAULT_RUN_APPROVALS, type RunApprovalSpec, runApprovalStep } from "./run.js";
import type { RunAnswer } from "./run-input.js";
import type { TelemetryEvent } from "./run-telemetry.js";
import { clip } from "./text.js";

export type AskEvent = Extract<TelemetryEvent, { kind: "question" | "approval_request" }>;

/** Approval titles are at most this long; a longer question is shown whole in the details. */
const MAX_TITLE_CHARS = 300;

export function isAsk(event: TelemetryEvent): event is AskEvent {
  return event.kind === "question" || event.kind === "approval_request";
}

/** The request a turn's question or approval request makes. INVALID_ARGUMENT if the policy cannot take it. */
export function askRequest(
  event: AskEvent,
  policy: RunApprovalSpec | undefined,
  ids: { id: string; turn: number },
): NewApproval {
  const p = policy ?? DEFAULT_RUN_APPROVALS;
  const asked =
    event.kind === "question"
      ? {
          kind: "question" as const,
          title: clip(event.text, MAX_TITLE_CHARS),
          details:
            event.text.length > MAX_TITLE_CHARS
              ? { question: event.text, ...(event.details === undefined ? {} : { details: event.details }) }
              : (event.details ?? null),
          risk: "low" as const,
        }
      : { kind: "approval" as const, title: event.title, details: event.details ?? null, risk: event.risk ?? "medium" };
  return request(p, asked, { id: ids.id, step: runApprovalStep(ids.turn), requestedBy: null });
}

/** The approval before the first turn, or null when the policy wants none. The run's starter may not decide it. */
export function firstTurnRequest(
  policy: RunApprovalSpec | undefined,
  ids: { id: string; profile: string | null; params: Record<string, unknown>; createdBy: string | null },
): NewApproval | null {
  const title = policy?.beforeFirstTurn;
  if (policy === undefined || title === undefined) return null;
  return request(
    policy,
    { kind: "approval", title, details: { profile: ids.profile, params: ids.params }, risk: "medium" },
    { id: ids.id, step: runApprovalStep(null), requestedBy: ids.createdBy },
  );
}

/** Outcomes of turns that did not run to their end: an answer given before them is still owed. */
const CUT_SHORT: ReadonlySet<string> = new Set(["interrupted", "lost", "spawn_failed", "running"]);

/**
 * The step whose answer turn `turn` gets: that of the last earlier turn that ran to its end (a
 * turn asks only as it ends), or the approval before the first turn when none did. A turn cut
 * short after an answer (its node stopped or died) leaves the answer to the next one, as with
 * messages.
 */
export function answerStep(turns: ReadonlyArray<{ turn: number; outcome: string }>, turn: number): string {
  const ran = turns.filter((t) => t.turn < turn && !CUT_SHORT.has(t.outcome)).map((t) => t.turn);
  return runApprovalStep(ran.length === 0 ? null : Math.max(...ran));
}

/** A settled request as the next turn's input sees it. */
export function toRunAnswer(approval: Approval): RunAnswer | null {
  const outcome = approval.outcome;
  if (outcome === null) return null;
  const question = (approval.details as { question?: unknown } | null)?.question;
  return {
    kind: approval.kind,
    asked: approval.kind === "question" && typeof question === "string" ? question : approval.title,
    approved: outcome.approved,
    text: outcome.timedOut ? null : outcome.reason,
    by: outcome.decidedBy,
    timedOut: outcome.timedOut,
  };
}

function request(
  policy: RunApprovalSpec,
  asked: Pick<NewApproval, "title" | "details" | "risk"> & { kind: NewApproval["kind"] },
  ids: { id: string; step: string; requestedBy: string | null },
): NewApproval {
  const built = buildNewApproval(
    {
      title: asked.title,
      details: asked.details,
      risk: asked.risk,
      approvers: policy.approvers,
      quorum: policy.quorum,
      timeout: policy.timeoutMs,
      onTimeout: policy.onTimeout,
      ...(ids.requestedBy === null ? {} : { requestedBy: ids.requestedBy }),
    },
    { id: ids.id, step: ids.step, defaultTimeoutMs: policy.timeoutMs },
  );
  return { ...built, kind: asked.kind ?? "approval" };
}
