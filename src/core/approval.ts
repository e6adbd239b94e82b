/**
 * Approvals: a job asks a person before doing something risky. The request is stored before
 * the job parks in `awaiting_approval` (its worker slot is free while it waits); people decide
 * through the API, the CLI or the dashboard; the first decision that settles the request wins;
 * a watchdog applies the timeout. This file holds the shapes and the pure rules every store
 * applies inside its transaction: who may decide, and what a decision does to a request.
 */
import { type Duration, parseDuration } from "./duration.js";
import { OverseerError } from "./errors.js";
import { EXECUTION_MODES, type ExecutionMode } from "./execution.js";
import { RISKS, type Risk } from "./gate-policy.js";
import { serializePayload } from "./job-options.js";
import type { RunState } from "./run-state.js";
import type { ApprovalState } from "./states.js";
import type { JobState } from "./types.js";

export { RISKS, type Risk } from "./gate-policy.js";
export { APPROVAL_STATES, type ApprovalState } from "./states.js";

/**
 * What happens when nobody decides in time. `escalate`: the request stays pending and its alert
 * (the `approval.pending` rule's) is escalated to the next step of its policy (docs/approvals.md).
 */
export type OnTimeout = "deny" | "approve" | "escalate";

/** Where a decision came from. */
export type DecisionChannel = "api" | "cli" | "dashboard" | "telegram" | "watchdog";

export interface ApprovalDecision {
  decision: "approve" | "deny";
  /** A token name, `telegram:<id>`, or `watchdog` for a timeout. */
  by: string;
  channel: DecisionChannel;
  reason: string | null;
  at: string;
}

/** What `ctx.requestApproval` returns once the request is settled. */
export interface ApprovalOutcome {
  approved: boolean;
  /** Who settled it: the deciders whose decisions counted, comma-separated for a quorum; `watchdog` on a timeout. */
  decidedBy: string;
  channel: DecisionChannel;
  reason: string | null;
  at: string;
  /** True when nobody decided in time and `onTimeout` applied. */
  timedOut: boolean;
  /**
   * What the approved action may do (core/execution.ts): `enabled` only if the request was made
   * in enabled mode, is not a test item, and the job's mode is still enabled when it resumes.
   * Absent on a request the switch does not govern (one made without `execution`, a run's).
   */
  execution?: ExecutionMode;
}

/** What the request asks: a yes or no (`approval`), or a `question` whose answer is the approval's reason. */
export type ApprovalKind = "approval" | "question";
export const APPROVAL_KINDS: readonly ApprovalKind[] = ["approval", "question"];

export interface Approval {
  id: string;
  /** The job that asked, or null when a run did. */
  jobId: string | null;
  /** The run that asked, or null when a job did. */
  runId: string | null;
  kind: ApprovalKind;
  /** The job's step that holds the outcome; for a run, the turn that asked (`turn-3`) or `before-first-turn`. */
  step: string;
  title: string;
  details: unknown;
  risk: Risk;
  /** Who may decide: token names, `group:<name>` (from the config) and `telegram:<user id>`; empty: any operator. */
  approvers: string[];
  /** Distinct approvals needed to approve; one denial denies. */
  quorum: number;
  /** Who asked, if known: they may not decide. */
  requestedBy: string | null;
  onTimeout: OnTimeout;
  /** The mode of the action it gates when it was asked (`dry-run` shows as DRY RUN); null when the switch does not govern it. */
  execution: ExecutionMode | null;
  /** A test item: shown as such, and its approval never lets a real action run. */
  test: boolean;
  state: ApprovalState;
  decisions: ApprovalDecision[];
  outcome: ApprovalOutcome | null;
  createdAt: string;
  expiresAt: string;
  settledAt: string | null;
  version: number;
}

/** A request with the job or the run that asked (each null where the other asked, or where it is gone). */
export interface ApprovalDetail {
  approval: Approval;
  job: { id: string; state: JobState; task: string } | null;
  run: { id: string; state: RunState; profile: string | null } | null;
}

export interface NewApproval {
  id: string;
  /** Default `approval`. */
  kind?: ApprovalKind;
  step: string;
  title: string;
  details: unknown;
  risk: Risk;
  approvers: string[];
  quorum: number;
  requestedBy: string | null;
  onTimeout: OnTimeout;
  timeoutMs: number;
  /** Default null: a request the execution switch does not govern (a run's). */
  execution?: ExecutionMode | null;
  /** Default false. */
  test?: boolean;
}

/** Who is asking to decide: the token's name and scope, plus the identities it also speaks for. */
export interface Decider {
  name: string;
  /** `group:<name>` memberships and `telegram:<id>`, resolved by the caller from the config. */
  identities: readonly string[];
  /** Whether the caller may operate at all (operator or admin scope, or a configured Telegram approver). */
  mayOperate: boolean;
}

export type DecideResult =
  | { ok: true; approval: Approval; settled: boolean }
  | {
      ok: false;
      code: "APPROVAL_SETTLED" | "APPROVAL_FORBIDDEN" | "APPROVAL_ALREADY_DECIDED";
      message: string;
      state: ApprovalState;
    };

/**
 * Applies one decision to a request, as the store does inside its transaction: refuses it if
 * the request is settled (409, with the state), if the decider may not decide (403: not among
 * the approvers, or the requester), or if they already approved (409: quorum needs distinct
 * approvers). A denial settles at once; approvals settle when `quorum` distinct deciders have
 * approved. Pure: `at` is the store's clock.
 */
export function decide(
  approval: Approval,
  decision: { decision: "approve" | "deny"; reason: string | null; channel: DecisionChannel },
  decider: Decider,
  at: string,
): DecideResult {
  if (approval.state !== "pending") {
    return {
      ok: false,
      code: "APPROVAL_SETTLED",
      message: `the request was already settled: ${approval.state}${approval.outcome ? ` by ${approval.outcome.decidedBy}` : ""}`,
      state: approval.state,
    };
  }
  const refusal = mayDecide(approval, decider);
  if (refusal !== null) return { ok: false, code: "APPROVAL_FORBIDDEN", message: refusal, state: approval.state };
  if (
    decision.decision === "approve" &&
    approval.decisions.some((d) => d.by === decider.name && d.decision === "approve")
  ) {
    return {
      ok: false,
      code: "APPROVAL_ALREADY_DECIDED",
      message: `${decider.name} has already approved; ${approval.quorum} different approvers are needed`,
      state: approval.state,
    };
  }
  const entry: ApprovalDecision = { ...decision, by: decider.name, at };
  const decisions = [...approval.decisions, entry];
  if (decision.decision === "deny") {
    return settle(approval, decisions, "denied", { approved: false, decidedBy: decider.name, ...rest(entry) });
  }
  const approvers = [...new Set(decisions.filter((d) => d.decision === "approve").map((d) => d.by))];
  if (approvers.length >= approval.quorum) {
    return settle(approval, decisions, "approved", { approved: true, decidedBy: approvers.join(", "), ...rest(entry) });
  }
  return { ok: true, approval: { ...approval, decisions, version: approval.version + 1 }, settled: false };
}

/**
 * The watchdog's decision for a request whose time is up; null if it is not pending, or if its
 * `onTimeout` is `escalate` (it stays pending: its alert escalates instead).
 */
export function timeOut(approval: Approval, at: string): { approval: Approval } | null {
  if (approval.state !== "pending" || approval.onTimeout === "escalate") return null;
  const approved = approval.onTimeout === "approve";
  const reason = `timed out; onTimeout is ${approval.onTimeout}`;
  const entry: ApprovalDecision = {
    decision: approved ? "approve" : "deny",
    by: "watchdog",
    channel: "watchdog",
    reason,
    at,
  };
  const settled = settle(approval, [...approval.decisions, entry], "timed_out", {
    approved,
    decidedBy: "watchdog",
    channel: "watchdog",
    reason,
    at,
  });
  return {
    approval: { ...settled.approval, outcome: { ...(settled.approval.outcome as ApprovalOutcome), timedOut: true } },
  };
}

/** The identities a person speaks for: `group:<g>` for each group (`approvals.groups`) listing `name`. */
export function identitiesOf(name: string, groups: Record<string, string[]>): string[] {
  return Object.entries(groups)
    .filter(([, members]) => members.includes(name))
    .map(([group]) => `group:${group}`);
}

/** Why `decider` may not decide this request, or null if they may. */
export function mayDecide(approval: Approval, decider: Decider): string | null {
  if (
    approval.requestedBy !== null &&
    (decider.name === approval.requestedBy || decider.identities.includes(approval.requestedBy))
  ) {
    return `${decider.name} asked for this approval and may not decide it`;
  }
  if (approval.approvers.length === 0) {
    return decider.mayOperate ? null : `${decider.name} may not decide approvals (operator scope needed)`;
  }
  const names = new Set([decider.name, ...decider.identities]);
  if (approval.approvers.some((a) => names.has(a))) return null;
  return `${decider.name} is not among the approvers of this request (${approval.approvers.join(", ")})`;
}

function settle(
  approval: Approval,
  decisions: ApprovalDecision[],
  state: Exclude<ApprovalState, "pending">,
  outcome: Omit<ApprovalOutcome, "timedOut">,
): { ok: true; approval: Approval; settled: true } {
  return {
    ok: true,
    settled: true,
    approval: {
      ...approval,
      state,
      decisions,
      outcome: {
        ...outcome,
        timedOut: false,
        ...(approval.test
          ? { execution: "dry-run" as const }
          : approval.execution === null
            ? {}
            : { execution: approval.execution }),
      },
      settledAt: outcome.at,
      version: approval.version + 1,
    },
  };
}

function rest(entry: ApprovalDecision): Pick<ApprovalOutcome, "channel" | "reason" | "at"> {
  return { channel: entry.channel, reason: entry.reason, at: entry.at };
}

/** What a handler passes to `ctx.requestApproval`. */
export interface ApprovalRequest {
  title: string;
  /** Anything JSON: shown to the deciders, readably. */
  details?: unknown;
  /** Default `medium`. */
  risk?: Risk;
  /** Token names, `group:<name>`, `telegram:<id>`; omit for any operator. */
  approvers?: readonly string[];
  /** Distinct approvals needed; default 1. */
  quorum?: number;
  /** Default: the config's `approvals.defaultTimeout` (24 h). */
  timeout?: Duration;
  /** Default `deny`. */
  onTimeout?: OnTimeout;
  /** Who is asking (a token name): they may not decide. */
  requestedBy?: string;
  /** A test item: shown as such on every card and message, and its approval never lets a real action run. */
  test?: boolean;
  /**
   * The mode the action this request gates runs under: pass `ctx.execution`. The request then
   * shows DRY RUN when approving runs nothing, and the outcome's `execution` says whether the
   * approved action may run. Leave it out for a request the execution switch does not govern.
   */
  execution?: ExecutionMode;
}

const MAX_TITLE = 300;
const MAX_DETAILS_BYTES = 64 * 1024;
const MAX_TIMEOUT_MS = 366 * 86_400_000;

/**
 * Validates a handler's request into what the store keeps. INVALID_ARGUMENT names the field.
 * With `groups` (the config's group names), a `group:` approver naming any other is refused:
 * nobody could ever decide for it.
 */
export function buildNewApproval(
  request: ApprovalRequest,
  ids: { id: string; step: string; defaultTimeoutMs: number; groups?: readonly string[] | null },
): NewApproval {
  const bad = (field: string, message: string) =>
    new OverseerError("INVALID_ARGUMENT", `requestApproval: ${field} ${message}`, { field });
  if (request === null || typeof request !== "object") throw bad("request", "must be an object with a title");
  const { title, risk = "medium", approvers = [], quorum = 1, onTimeout = "deny", requestedBy = null } = request;
  if (typeof title !== "string" || title.trim() === "" || title.length > MAX_TITLE) {
    throw bad("title", `must be 1-${MAX_TITLE} characters`);
  }
  if (!(RISKS as readonly string[]).includes(risk)) throw bad("risk", `must be one of ${RISKS.join(", ")}`);
  if (!Array.isArray(approvers) || approvers.some((a) => typeof a !== "string" || a === "")) {
    throw bad("approvers", "must be a list of token names, group:<name> or telegram:<id>");
  }
  const unknownGroup = ids.groups ? undefinedGroup(approvers, ids.groups) : undefined;
  if (unknownGroup !== undefined) {
    const known = ids.groups && ids.groups.length > 0 ? ids.groups.join(", ") : "none";
    throw bad("approvers", `names ${unknownGroup}, a group the config does not define (approvals.groups: ${known})`);
  }
  if (!Number.isInteger(quorum) || quorum < 1 || quorum > 20)
    throw bad("quorum", "must be a whole number from 1 to 20");
  const short = quorumShortfall(approvers, quorum);
  if (short !== null) throw bad("quorum", short);
  if (!["deny", "approve", "escalate"].includes(onTimeout)) throw bad("onTimeout", "must be deny, approve or escalate");
  if (requestedBy !== null && (typeof requestedBy !== "string" || requestedBy === "")) {
    throw bad("requestedBy", "must be a token name");
  }
  if (request.test !== undefined && typeof request.test !== "boolean") throw bad("test", "must be true or false");
  if (request.execution !== undefined && !(EXECUTION_MODES as readonly unknown[]).includes(request.execution)) {
    throw bad("execution", 'must be "dry-run" or "enabled" (pass ctx.execution)');
  }
  const timeoutMs = request.timeout === undefined ? ids.defaultTimeoutMs : parseDuration(request.timeout, "timeout");
  if (timeoutMs < 1_000 || timeoutMs > MAX_TIMEOUT_MS) throw bad("timeout", "must be from 1 s to 366 days");
  const detailsJson = serializePayload(request.details ?? null);
  if (Buffer.byteLength(detailsJson) > MAX_DETAILS_BYTES) throw bad("details", "must be at most 64 KB as JSON");
  return {
    id: ids.id,
    step: ids.step,
    title: title.trim(),
    details: JSON.parse(detailsJson) as unknown,
    risk,
    approvers: [...approvers],
    quorum,
    requestedBy,
    onTimeout,
    timeoutMs,
    ...(request.test ? { test: true } : {}),
    ...(request.execution === undefined ? {} : { execution: request.execution }),
  };
}

/** The first `group:<name>` among `approvers` that `groups` (the config's group names) lacks: nobody could decide for it. */
export function undefinedGroup(approvers: readonly string[], groups: readonly string[]): string | undefined {
  return approvers.find((a) => a.startsWith("group:") && !groups.includes(a.slice("group:".length)));
}

/**
 * Why `quorum` cannot be met by the approvers named, or null: only named people count (a group
 * may hold any number of them).
 */
export function quorumShortfall(approvers: readonly string[], quorum: number): string | null {
  const named = new Set(approvers).size;
  if (approvers.length === 0 || approvers.some((a) => a.startsWith("group:")) || quorum <= named) return null;
  return `is ${quorum} but only ${named} approver(s) are listed`;
}

/** A run's approver naming a group the config does not define, said the same wherever it is found. */
export function undefinedGroupMessage(approver: string, groups: readonly string[]): string {
  const known = groups.length === 0 ? "it defines none" : `it defines ${groups.join(", ")}`;
  return `names ${approver}, a group approvals.groups does not define (${known})`;
}
