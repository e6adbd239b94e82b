/**
 * Approvals, written once for both backends (see ../tx.ts): requests, decisions, the watchdog's
 * timeouts and cancels, each verb one transaction. Decided by `core/approval.ts` and the pure
 * functions of rows.ts; each write is still guarded by the version it read.
 *
 * Every write that touches a request locks its asker's row (its job's, or its run's) first and
 * the request's row second, the order `cancelJob`, `requestApproval`, `controlRun` and a run's
 * `ask` take too, so two of them never deadlock on PostgreSQL; SQLite has one writer at a time,
 * which serialises them anyway. The watchdog skips requests whose asker another transaction
 * holds and settles a request only if, once locked, it is still due: however many nodes run it
 * at the same moment, each request times out exactly once.
 *
 * A settled request of a job becomes its step and queues the job; one of a run hands the run on
 * (`answerRun`): it is claimable again, or, denied before its first turn, cancelled.
 */
import type { Approval, Decider, DecisionChannel, NewApproval } from "../../core/approval.js";
import { timeOut } from "../../core/approval.js";
import type { StepRecord } from "../../core/durable.js";
import { OverseerError } from "../../core/errors.js";
import { APPROVAL_STATES } from "../../core/states.js";
import type { Lease } from "../../core/types.js";
import { parksOrCancels, type StepRow, toStep } from "../durable/rows.js";
import { GET_STEP } from "../durable/statements.js";
import { CANCEL_RUNNING_JOB, LOCK_LEASED_JOB, RECORD_ATTEMPT } from "../jobs/statements.js";
import { iso, type JobRow } from "../rows.js";
import { answerRun } from "../runs/operations.js";
import { LOCK_RUN } from "../runs/statements.js";
import type { ApprovalFilter } from "../store.js";
import type { Db, Op, Tx } from "../tx.js";
import {
  type ApprovalRow,
  applyDecision,
  decidedEventData,
  listingPlan,
  newApprovalRow,
  outcomeStepJson,
  parkedOnApprovalData,
  requestDecision,
  settledEventData,
  toApproval,
} from "./rows.js";
import * as q from "./statements.js";
import { approvalEvent, cancelApproval, insertApproval, writeApproval as write } from "./writes.js";

export type RequestResult = { kind: "settled"; step: StepRecord } | { kind: "parked"; approval: Approval } | null;

/** Stores the request and parks the job on it; or the outcome, if the step was settled before. Null if the lease is lost. */
export function* requestApproval(tx: Tx, lease: Lease, request: NewApproval): Op<RequestResult> {
  const { jobId, token, workerId } = lease;
  const job = yield* tx.one<JobRow>(LOCK_LEASED_JOB, [jobId, token]);
  if (!job) return null;
  const stored = yield* tx.one<StepRow>(GET_STEP, [jobId, request.step]);
  const live = yield* tx.one<ApprovalRow>(q.LIVE_APPROVAL, [jobId, request.step]);
  const decision = requestDecision(stored !== undefined, live);
  if (decision.kind === "stored") return { kind: "settled", step: toStep(stored as StepRow) };
  let row: ApprovalRow;
  if (decision.kind === "park_again") {
    row = decision.approval;
  } else {
    row = newApprovalRow({ jobId }, request, tx.at);
    yield* insertApproval(tx, row, workerId);
  }
  // The request is stored first; then the job parks on it, or is cancelled with it if a cancel is pending.
  if (parksOrCancels(job) === "cancel") {
    yield* tx.run(CANCEL_RUNNING_JOB, [tx.at, null, jobId, token]);
    yield* tx.run(RECORD_ATTEMPT, [tx.at, "cancelled", null, jobId, token, workerId]);
    tx.event("job.cancelled", jobId, workerId, { attempt: job.attempts, while: "running" });
    return { kind: "parked", approval: yield* cancelApproval(tx, toApproval(row)) };
  }
  yield* tx.run(q.AWAIT_APPROVAL, [jobId, token]);
  yield* tx.run(RECORD_ATTEMPT, [tx.at, "parked", null, jobId, token, workerId]);
  tx.event("job.parked", jobId, workerId, parkedOnApprovalData(row));
  return { kind: "parked", approval: toApproval(row) };
}

/** The decided request; a settled one queues its job to read the outcome, or hands its run on. */
export function* decideApproval(
  tx: Tx,
  id: string,
  decision: { decision: "approve" | "deny"; reason: string | null; channel: DecisionChannel },
  decider: Decider,
  expectedVersion: number | undefined,
): Op<Approval> {
  const found = yield* tx.one<ApprovalRow>(q.GET_APPROVAL, [id]);
  if (!found) throw notFound(id);
  if (found.run_id !== null) yield* tx.one(LOCK_RUN, [found.run_id]);
  else yield* tx.one(q.LOCK_JOB, [found.job_id]);
  const row = yield* tx.one<ApprovalRow>(q.LOCK_APPROVAL, [id]);
  if (!row) throw notFound(id);
  const { approval, settled } = applyDecision(row, decision, decider, expectedVersion, tx.at);
  yield* write(tx, approval, row.version);
  approvalEvent(tx, "approval.decided", approval, decidedEventData(approval));
  if (settled) yield* settle(tx, approval);
  return approval;
}

/** Whether any request is due for the watchdog: a read, so idle watchdogs take no write lock. */
export function* anyApprovalDue(db: Db): Op<boolean> {
  const next = yield* nextApprovalExpiry(db);
  return next !== null && next <= (yield* db.now());
}

/** The requests it timed out, each exactly once across every node (see the module comment). */
export function* expireApprovals(tx: Tx, limit: number): Op<Approval[]> {
  const settled: Approval[] = [];
  for (const due of yield* tx.rows<Pick<ApprovalRow, "id" | "job_id" | "run_id">>(q.EXPIRED, [tx.at, limit])) {
    // Another node deciding, cancelling or timing out this request holds its asker's row: skip it.
    const asker = due.run_id === null ? tx.one(q.TRY_LOCK_JOB, [due.job_id]) : tx.one(q.TRY_LOCK_RUN, [due.run_id]);
    if ((yield* asker) === undefined) continue;
    const row = yield* tx.one<ApprovalRow>(q.LOCK_APPROVAL, [due.id]);
    if (!row || row.expires_at > tx.at) continue;
    const timed = timeOut(toApproval(row), iso(tx.at));
    if (timed === null || !(yield* write(tx, timed.approval, row.version))) continue;
    yield* settle(tx, timed.approval);
    settled.push(timed.approval);
  }
  return settled;
}

export function* nextApprovalExpiry(db: Db): Op<number | null> {
  return (yield* db.one<{ at: number | null }>(q.NEXT_EXPIRY))?.at ?? null;
}

export function* getApproval(db: Db, id: string): Op<Approval | null> {
  const row = yield* db.one<ApprovalRow>(q.GET_APPROVAL, [id]);
  return row ? toApproval(row) : null;
}

export function* countPendingApprovals(db: Db): Op<number> {
  return Number((yield* db.one<{ n: number }>(q.COUNT_PENDING))?.n ?? 0);
}

export function* countApprovals(db: Db, filter: ApprovalFilter): Op<number> {
  const states = filter.states && filter.states.length > 0 ? filter.states : APPROVAL_STATES;
  const params = [
    db.list(states),
    filter.jobId ?? null,
    filter.runId ?? null,
    filter.kind ?? null,
    filter.createdAfter ?? null,
    filter.createdBefore ?? null,
  ];
  return Number((yield* db.one<{ n: number | string }>(q.COUNT_MATCHING, params))?.n ?? 0);
}

export function* listApprovals(db: Db, filter: ApprovalFilter): Op<Approval[]> {
  const cursor = filter.afterId === undefined ? null : yield* db.one<ApprovalRow>(q.GET_APPROVAL, [filter.afterId]);
  const plan = listingPlan(filter, cursor);
  if (plan === null) return [];
  const jobId = filter.jobId ?? null;
  const runId = filter.runId ?? null;
  const range = [filter.kind ?? null, filter.createdAfter ?? null, filter.createdBefore ?? null];
  const rows: ApprovalRow[] = [];
  if (plan.pendingAfter !== undefined) {
    const after = plan.pendingAfter;
    const params = [jobId, runId, after?.createdAt ?? null, after?.id ?? "", plan.limit, ...range];
    rows.push(...(yield* db.rows<ApprovalRow>(q.LIST_PENDING, params)));
  }
  if (plan.settled !== undefined && rows.length < plan.limit) {
    const { states, before } = plan.settled;
    const params = [
      db.list(states),
      jobId,
      runId,
      before?.createdAt ?? null,
      before?.id ?? "",
      plan.limit - rows.length,
      ...range,
    ];
    rows.push(...(yield* db.rows<ApprovalRow>(q.LIST_SETTLED, params)));
  }
  return rows.map(toApproval);
}

/**
 * Cancels the job's pending requests (call inside the transaction that cancels the job, with its
 * row locked): its waiting ended with the cancel, so nobody can decide them any more.
 */
export function* cancelJobApprovals(tx: Tx, jobId: string): Op<void> {
  for (const row of yield* tx.rows<ApprovalRow>(q.PENDING_OF_JOB, [jobId])) {
    yield* cancelApproval(tx, toApproval(row));
  }
}

/** Deletes a deleted job's requests (call inside the transaction that deletes the job). */
export function* deleteJobApprovals(tx: Tx, jobId: string): Op<void> {
  yield* tx.run(q.DELETE_JOB_APPROVALS, [jobId]);
}

/** The run's settled request of this step (the turn that asked, see `runApprovalStep`), if any. */
export function* settledRunApproval(db: Db, runId: string, step: string): Op<Approval | null> {
  const row = yield* db.one<ApprovalRow>(q.SETTLED_OF_RUN_STEP, [runId, step]);
  return row ? toApproval(row) : null;
}

function notFound(id: string): OverseerError {
  return new OverseerError("APPROVAL_NOT_FOUND", `no approval request with id "${id}"`, { id });
}

/**
 * A settled request: a job's outcome becomes its step and the job is queued to read it (workers
 * woken); a run is handed on (`answerRun`). Its asker's row is locked already.
 */
function* settle(tx: Tx, approval: Approval): Op<void> {
  approvalEvent(tx, "approval.settled", approval, settledEventData(approval));
  if (approval.runId !== null) {
    yield* answerRun(tx, approval.runId, approval);
    return;
  }
  yield* tx.run(q.INSERT_APPROVAL_STEP, [approval.jobId, approval.step, outcomeStepJson(approval), tx.at]);
  if ((yield* tx.run(q.APPROVAL_SETTLED, [tx.at, approval.jobId])) === 1) tx.notify();
}
