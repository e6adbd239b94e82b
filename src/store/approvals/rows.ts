/**
 * Approval requests as both backends store them (same table and columns, see migration 008),
 * their mapping to domain records, and the decisions every write shares: what `requestApproval`
 * does, a decision or timeout turned into the row to write and the events to append, and how a
 * listing page is read. Pure: the backends read rows in their transaction, call these (and the
 * rules of core/approval.ts) with the transaction's `now`, and write what comes back.
 */
import {
  type Approval,
  type ApprovalDecision,
  type ApprovalKind,
  type ApprovalOutcome,
  type ApprovalState,
  type Decider,
  type DecisionChannel,
  decide,
  type NewApproval,
  type OnTimeout,
  type Risk,
} from "../../core/approval.js";
import { OverseerError } from "../../core/errors.js";
import type { ExecutionMode } from "../../core/execution.js";
import { iso } from "../rows.js";
import type { ApprovalFilter } from "../store.js";
import { checkVersion } from "../versions.js";

export interface ApprovalRow {
  id: string;
  /** The job that asked, or null when a run did (exactly one of the two is set). */
  job_id: string | null;
  run_id: string | null;
  kind: ApprovalKind;
  step: string;
  title: string;
  /** JSON. */
  details: string;
  risk: Risk;
  /** JSON array of strings. */
  approvers: string;
  quorum: number;
  requested_by: string | null;
  on_timeout: OnTimeout;
  state: ApprovalState;
  /** The asking job's execution mode when it asked; null for a run's request (migration 029). */
  execution: ExecutionMode | null;
  /** 1 for a test item, 0 otherwise. */
  test: number;
  /** JSON array of ApprovalDecision. */
  decisions: string;
  /** JSON ApprovalOutcome, or null while pending (and when cancelled). */
  outcome: string | null;
  created_at: number;
  expires_at: number;
  settled_at: number | null;
  version: number;
}

/** The approvals table's columns, in insert order. */
export const APPROVAL_COLUMNS = [
  "id",
  "job_id",
  "run_id",
  "kind",
  "step",
  "title",
  "details",
  "risk",
  "approvers",
  "quorum",
  "requested_by",
  "on_timeout",
  "state",
  "decisions",
  "outcome",
  "created_at",
  "expires_at",
  "settled_at",
  "version",
  "execution",
  "test",
] as const satisfies ReadonlyArray<keyof ApprovalRow>;

export function toApproval(row: ApprovalRow): Approval {
  return {
    id: row.id,
    jobId: row.job_id,
    runId: row.run_id,
    kind: row.kind,
    step: row.step,
    title: row.title,
    details: JSON.parse(row.details) as unknown,
    risk: row.risk,
    approvers: JSON.parse(row.approvers) as string[],
    quorum: row.quorum,
    requestedBy: row.requested_by,
    onTimeout: row.on_timeout,
    state: row.state,
    decisions: JSON.parse(row.decisions) as ApprovalDecision[],
    outcome: row.outcome === null ? null : (JSON.parse(row.outcome) as ApprovalOutcome),
    createdAt: iso(row.created_at),
    expiresAt: iso(row.expires_at),
    settledAt: row.settled_at === null ? null : iso(row.settled_at),
    version: row.version,
    execution: row.execution,
    test: Number(row.test) === 1,
  };
}

/** Who asked: a job, or a run. */
export type ApprovalOwner = { jobId: string } | { runId: string };

/** The row of a new, pending request of its owner, expiring `timeoutMs` (whole ms, rounded up) after `now`. */
export function newApprovalRow(owner: ApprovalOwner, request: NewApproval, now: number): ApprovalRow {
  return {
    id: request.id,
    job_id: "jobId" in owner ? owner.jobId : null,
    run_id: "runId" in owner ? owner.runId : null,
    kind: request.kind ?? "approval",
    step: request.step,
    title: request.title,
    details: JSON.stringify(request.details ?? null),
    risk: request.risk,
    approvers: JSON.stringify(request.approvers),
    quorum: request.quorum,
    requested_by: request.requestedBy,
    on_timeout: request.onTimeout,
    state: "pending",
    decisions: "[]",
    outcome: null,
    created_at: now,
    expires_at: now + Math.max(0, Math.ceil(request.timeoutMs)),
    settled_at: null,
    version: 1,
    execution: request.execution ?? null,
    test: request.test === true ? 1 : 0,
  };
}

/** The values of `row` in APPROVAL_COLUMNS order, for an INSERT. */
export function approvalValues(row: ApprovalRow): unknown[] {
  return APPROVAL_COLUMNS.map((c) => row[c]);
}

/**
 * What a changed request writes back (state, decisions, outcome, settled_at, version), as the
 * parameters of UPDATE_APPROVAL in order, followed by its id and the version it was read at:
 * the write is guarded by that version, so it applies once.
 */
export function approvalUpdate(next: Approval, readVersion: number): unknown[] {
  return [
    next.state,
    JSON.stringify(next.decisions),
    next.outcome === null ? null : JSON.stringify(next.outcome),
    next.settledAt === null ? null : Date.parse(next.settledAt),
    next.version,
    next.id,
    readVersion,
  ];
}

export type RequestDecision =
  /** The step is stored (the request was settled before): return it. */
  | { kind: "stored" }
  /** This step's request is pending still (the job ran early): park again on it. */
  | { kind: "park_again"; approval: ApprovalRow }
  /** Nothing yet: store the request and park. */
  | { kind: "request" };

/**
 * What `requestApproval` does, in the order its contract gives. `live`: this step's request that
 * was not cancelled, if any (a cancelled one does not bind a job retried after its cancel: it asks
 * again). A settled request always has its step stored in the same transaction, so `live` is
 * pending here whenever the step is missing.
 */
export function requestDecision(stepStored: boolean, live: ApprovalRow | undefined): RequestDecision {
  if (stepStored) return { kind: "stored" };
  if (live !== undefined && live.state === "pending") return { kind: "park_again", approval: live };
  return { kind: "request" };
}

/**
 * Applies one person's decision with `decide`, as `decideApproval` documents: a settled request
 * is refused with its state before anything else (a late decider learns who won, whatever version
 * they read), then the version is checked, then who may decide. Throws the OverseerError to
 * return; otherwise the request to write and whether it settled.
 */
export function applyDecision(
  row: ApprovalRow,
  decision: { decision: "approve" | "deny"; reason: string | null; channel: DecisionChannel },
  decider: Decider,
  expectedVersion: number | undefined,
  now: number,
): { approval: Approval; settled: boolean } {
  const current = toApproval(row);
  if (current.state === "pending") checkVersion("approval", row.id, row.version, expectedVersion);
  const result = decide(current, decision, decider, iso(now));
  if (!result.ok) {
    throw new OverseerError(result.code, result.message, { id: row.id, state: result.state });
  }
  return { approval: result.approval, settled: result.settled };
}

/** The request once its job was cancelled: nobody can decide it any more. */
export function cancelledApproval(approval: Approval, now: number): Approval {
  return { ...approval, state: "cancelled", settledAt: iso(now), version: approval.version + 1 };
}

// -- events -------------------------------------------------------------------------------

export function requestedEventData(row: ApprovalRow): Record<string, unknown> {
  return {
    approvalId: row.id,
    title: row.title,
    risk: row.risk,
    expiresAt: iso(row.expires_at),
    step: row.step,
    ...(row.kind === "approval" ? {} : { kind: row.kind }),
    ...(row.execution === null ? {} : { execution: row.execution }),
    ...(Number(row.test) === 1 ? { test: true } : {}),
  };
}

/** `approval.decided`: the newest decision of `approval`. */
export function decidedEventData(approval: Approval): Record<string, unknown> {
  const d = approval.decisions.at(-1) as ApprovalDecision;
  return { approvalId: approval.id, decision: d.decision, by: d.by, channel: d.channel, reason: d.reason };
}

/** `approval.settled`, with the outcome's reason too: a timeout's says which action applied and why. */
export function settledEventData(approval: Approval): Record<string, unknown> {
  const o = approval.outcome as ApprovalOutcome;
  return {
    approvalId: approval.id,
    state: approval.state,
    approved: o.approved,
    decidedBy: o.decidedBy,
    channel: o.channel,
    timedOut: o.timedOut,
    reason: o.reason,
    // When it was asked: /metrics measures the time to the decision from this event alone.
    requestedAt: approval.createdAt,
  };
}

export function cancelledEventData(approval: Approval): Record<string, unknown> {
  return { approvalId: approval.id, step: approval.step, requestedAt: approval.createdAt };
}

/** The `job.parked` event's data when a job parks on a request. */
export function parkedOnApprovalData(row: ApprovalRow): Record<string, unknown> {
  return { step: row.step, kind: "approval", until: iso(row.expires_at), approvalId: row.id };
}

/** A settled request's step: its outcome, which `ctx.requestApproval` reads back. */
export function outcomeStepJson(approval: Approval): string {
  return JSON.stringify(approval.outcome);
}

// -- listing ------------------------------------------------------------------------------

export const SETTLED_STATES: readonly ApprovalState[] = ["approved", "denied", "timed_out", "cancelled"];
export const DEFAULT_APPROVAL_PAGE = 50;

/**
 * How one page of `listApprovals` is read: pending requests by (created_at, id) ascending, then
 * the settled ones by (created_at, id) descending, each part only if the state filter lets it in.
 * `afterId` is a keyset cursor: its request's current place (`cursor`) says where the page
 * starts. An unknown cursor gives an empty page; a request settled between two pages moves from
 * the pending part to the settled part, so a page may then repeat or skip one such request.
 */
export interface ListingPlan {
  /** Read pending requests after this (created_at, id), or from the start (null); undefined: skip the part. */
  pendingAfter?: { createdAt: number; id: string } | null;
  /** Read settled requests in these states before this (created_at, id), or from the start (null). */
  settled?: { states: ApprovalState[]; before: { createdAt: number; id: string } | null };
  limit: number;
}

export function listingPlan(filter: ApprovalFilter, cursor: ApprovalRow | undefined | null): ListingPlan | null {
  const limit = filter.limit ?? DEFAULT_APPROVAL_PAGE;
  const wanted = filter.states && filter.states.length > 0 ? filter.states : ["pending" as const, ...SETTLED_STATES];
  const settledStates = SETTLED_STATES.filter((s) => wanted.includes(s));
  const plan: ListingPlan = { limit };
  if (filter.afterId !== undefined) {
    if (cursor === undefined || cursor === null) return null;
    const at = { createdAt: cursor.created_at, id: cursor.id };
    if (cursor.state === "pending") {
      if (wanted.includes("pending")) plan.pendingAfter = at;
      if (settledStates.length > 0) plan.settled = { states: settledStates, before: null };
    } else if (settledStates.length > 0) {
      plan.settled = { states: settledStates, before: at };
    }
    return plan;
  }
  if (wanted.includes("pending")) plan.pendingAfter = null;
  if (settledStates.length > 0) plan.settled = { states: settledStates, before: null };
  return plan;
}
