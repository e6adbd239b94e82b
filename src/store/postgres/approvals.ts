/**
 * Approvals in the PostgreSQL store, as in SQLite's approvals.ts: requests, decisions, the
 * watchdog's timeouts and cancels, each verb one transaction. Every write that touches a request
 * locks its job's row first and the request's row second (FOR UPDATE), the order `cancelJob`
 * and `requestApproval` take too, so two of them never deadlock. The watchdog skips requests
 * whose job another transaction holds (SKIP LOCKED) and settles a request only if, once locked,
 * it is still pending: however many nodes run it at the same moment, each request times out
 * exactly once. Decided by `core/approval.ts` and the shared functions of `approval-rows.ts`.
 */
import type { Approval, Decider, DecisionChannel, NewApproval } from "../../core/approval.js";
import { timeOut } from "../../core/approval.js";
import type { StepRecord } from "../../core/durable.js";
import { OverseerError } from "../../core/errors.js";
import { TRANSITIONS } from "../../core/job-state.js";
import type { Lease } from "../../core/types.js";
import {
  APPROVAL_COLUMNS,
  type ApprovalRow,
  applyDecision,
  approvalUpdate,
  approvalValues,
  cancelledApproval,
  cancelledEventData,
  decidedEventData,
  listingPlan,
  newApprovalRow,
  outcomeStepJson,
  parkedOnApprovalData,
  requestDecision,
  requestedEventData,
  settledEventData,
  toApproval,
} from "../approval-rows.js";
import { parksOrCancels, type StepRow, toStep } from "../durable-rows.js";
import { iso, type JobRow } from "../rows.js";
import type { ApprovalFilter } from "../store.js";
import type { PgConnection, Tx } from "./connection.js";
import * as sql from "./statements.js";

/** $1 job id, $2 token: the job, locked, if this lease still runs it. */
const LEASED_JOB = "SELECT * FROM jobs WHERE id = $1 AND lease_token = $2 AND state = 'running' FOR UPDATE";

/** $1 job id: lock the job's row (first, before its requests). */
const LOCK_JOB = "SELECT id FROM jobs WHERE id = $1 FOR UPDATE";

/** $1 job id: lock the job's row unless another transaction holds it. */
const TRY_LOCK_JOB = "SELECT id FROM jobs WHERE id = $1 FOR UPDATE SKIP LOCKED";

/** $1 job id, $2 name. */
const GET_STEP = "SELECT * FROM job_steps WHERE job_id = $1 AND name = $2";

/** $1 job id, $2 name, $3 result JSON, $4 now. The first write of a name wins. */
const INSERT_APPROVAL_STEP = `
INSERT INTO job_steps (job_id, name, kind, result, created_at) VALUES ($1, $2, 'approval', $3, $4)
ON CONFLICT (job_id, name) DO NOTHING`;

/** $1 id. */
const GET_APPROVAL = "SELECT * FROM approvals WHERE id = $1";

/** $1 id: the request, locked (its job's row must be locked first). */
const GET_APPROVAL_FOR_UPDATE = "SELECT * FROM approvals WHERE id = $1 FOR UPDATE";

/** $1 job id, $2 step: the step's request that was not cancelled, if any. */
const LIVE_APPROVAL = "SELECT * FROM approvals WHERE job_id = $1 AND step = $2 AND state <> 'cancelled' FOR UPDATE";

/** $1 job id: the job's pending requests, locked (the job's row is locked already). */
const PENDING_OF_JOB = "SELECT * FROM approvals WHERE job_id = $1 AND state = 'pending' FOR UPDATE";

/** $1-$17: an approval row, in APPROVAL_COLUMNS order. */
const INSERT_APPROVAL = `
INSERT INTO approvals (${APPROVAL_COLUMNS.join(", ")})
VALUES (${APPROVAL_COLUMNS.map((_, i) => `$${i + 1}`).join(", ")})`;

/** $1 state, $2 decisions JSON, $3 outcome JSON, $4 settled at, $5 new version, $6 id, $7 version read. */
const UPDATE_APPROVAL = `
UPDATE approvals SET state = $1, decisions = $2, outcome = $3, settled_at = $4, version = $5
WHERE id = $6 AND version = $7`;

/** $1 job id, $2 token. The parked attempt is given back: max attempts + 1. */
const AWAIT_APPROVAL = `
UPDATE jobs SET state = '${TRANSITIONS.awaitApproval.to}', lease_owner = NULL, lease_expires_at = NULL,
  max_attempts = max_attempts + 1, version = version + 1
WHERE id = $1 AND lease_token = $2 AND state = '${TRANSITIONS.awaitApproval.from[0]}'`;

/** $1 now, $2 job id. The job runs again, in line from now, to read the outcome. */
const APPROVAL_SETTLED = `
UPDATE jobs SET state = '${TRANSITIONS.approvalSettled.to}', run_at = $1, version = version + 1
WHERE id = $2 AND state = '${TRANSITIONS.approvalSettled.from[0]}'`;

/**
 * $1 now, $2 limit: pending requests whose time is up, soonest first (read only; locked one by
 * one). `escalate` requests are not the watchdog's: they stay pending and their alert escalates.
 */
const EXPIRED = `
SELECT id, job_id FROM approvals WHERE state = 'pending' AND expires_at <= $1 AND on_timeout <> 'escalate'
ORDER BY expires_at, id LIMIT $2`;

/** $1 now or NULL (the database's clock): is any pending request due? */
const ANY_EXPIRED = `
SELECT EXISTS (SELECT 1 FROM approvals WHERE state = 'pending' AND on_timeout <> 'escalate'
  AND expires_at <= coalesce($1::bigint, (extract(epoch from clock_timestamp()) * 1000)::bigint)) AS due`;

const NEXT_EXPIRY = "SELECT min(expires_at) AS at FROM approvals WHERE state = 'pending' AND on_timeout <> 'escalate'";

/** $1 job id or NULL, $2 cursor created_at or NULL, $3 cursor id, $4 limit. */
const LIST_PENDING = `
SELECT * FROM approvals WHERE state = 'pending' AND ($1::text IS NULL OR job_id = $1)
  AND ($2::bigint IS NULL OR (created_at, id) > ($2, $3))
ORDER BY created_at, id LIMIT $4`;

/** $1 states, $2 job id or NULL, $3 cursor created_at or NULL, $4 cursor id, $5 limit. */
const LIST_SETTLED = `
SELECT * FROM approvals WHERE state = ANY($1::text[]) AND ($2::text IS NULL OR job_id = $2)
  AND ($3::bigint IS NULL OR (created_at, id) < ($3, $4))
ORDER BY created_at DESC, id DESC LIMIT $5`;

/** $1 job id: a deleted job's requests. */
const DELETE_JOB_APPROVALS = "DELETE FROM approvals WHERE job_id = $1";

export type RequestResult = { kind: "settled"; step: StepRecord } | { kind: "parked"; approval: Approval } | null;

export async function requestApproval(tx: Tx, lease: Lease, request: NewApproval): Promise<RequestResult> {
  const { jobId, token, workerId } = lease;
  const now = tx.now;
  const job = await tx.one<JobRow>(LEASED_JOB, [jobId, token]);
  if (!job) return null;
  const stored = await tx.one<StepRow>(GET_STEP, [jobId, request.step]);
  const live = await tx.one<ApprovalRow>(LIVE_APPROVAL, [jobId, request.step]);
  const decision = requestDecision(stored !== undefined, live);
  if (decision.kind === "stored") return { kind: "settled", step: toStep(stored as StepRow) };
  let row: ApprovalRow;
  if (decision.kind === "park_again") {
    row = decision.approval;
  } else {
    row = newApprovalRow(jobId, request, now);
    await tx.run(INSERT_APPROVAL, approvalValues(row));
    tx.event("approval.requested", jobId, workerId, requestedEventData(row));
  }
  // The request is stored first; then the job parks on it, or is cancelled with it if a cancel is pending.
  if (parksOrCancels(job) === "cancel") {
    await tx.run(sql.CANCEL_RUNNING_JOB, [now, null, jobId, token]);
    await tx.run(sql.FINISH_ATTEMPT, [now, "cancelled", null, jobId, token]);
    tx.event("job.cancelled", jobId, workerId, { attempt: job.attempts, while: "running" });
    return { kind: "parked", approval: await cancelApproval(tx, toApproval(row)) };
  }
  await tx.run(AWAIT_APPROVAL, [jobId, token]);
  await tx.run(sql.FINISH_ATTEMPT, [now, "parked", null, jobId, token]);
  tx.event("job.parked", jobId, workerId, parkedOnApprovalData(row));
  return { kind: "parked", approval: toApproval(row) };
}

/** The decided request and whether a job was queued by it (the caller wakes workers). */
export async function decideApproval(
  tx: Tx,
  id: string,
  decision: { decision: "approve" | "deny"; reason: string | null; channel: DecisionChannel },
  decider: Decider,
  expectedVersion: number | undefined,
): Promise<{ approval: Approval; queued: boolean }> {
  const found = await tx.one<ApprovalRow>(GET_APPROVAL, [id]);
  if (!found) throw notFound(id);
  await tx.run(LOCK_JOB, [found.job_id]);
  const row = await tx.one<ApprovalRow>(GET_APPROVAL_FOR_UPDATE, [id]);
  if (!row) throw notFound(id);
  const { approval, settled } = applyDecision(row, decision, decider, expectedVersion, tx.now);
  await write(tx, approval, row.version);
  tx.event("approval.decided", approval.jobId, null, decidedEventData(approval));
  const queued = settled && (await settle(tx, approval));
  return { approval, queued };
}

/** Whether any pending request is due; a read, so idle watchdogs open no write transaction. */
export async function anyExpired(conn: PgConnection): Promise<boolean> {
  return (await conn.one<{ due: boolean }>(ANY_EXPIRED, [conn.clock?.() ?? null]))?.due === true;
}

/** The requests it timed out, each exactly once across every node (see the module comment). */
export async function expireApprovals(tx: Tx, limit: number): Promise<{ settled: Approval[]; queued: boolean }> {
  const settled: Approval[] = [];
  let queued = false;
  for (const due of await tx.rows<{ id: string; job_id: string }>(EXPIRED, [tx.now, limit])) {
    // Another node deciding, cancelling or timing out this job's request holds its row: skip it.
    if ((await tx.run(TRY_LOCK_JOB, [due.job_id])) !== 1) continue;
    const row = await tx.one<ApprovalRow>(GET_APPROVAL_FOR_UPDATE, [due.id]);
    if (!row || row.expires_at > tx.now) continue;
    const timed = timeOut(toApproval(row), iso(tx.now));
    if (timed === null || !(await write(tx, timed.approval, row.version))) continue;
    queued = (await settle(tx, timed.approval)) || queued;
    settled.push(timed.approval);
  }
  return { settled, queued };
}

export async function nextApprovalExpiry(conn: PgConnection): Promise<number | null> {
  return (await conn.one<{ at: number | null }>(NEXT_EXPIRY))?.at ?? null;
}

export async function getApproval(conn: PgConnection, id: string): Promise<Approval | null> {
  const row = await conn.one<ApprovalRow>(GET_APPROVAL, [id]);
  return row ? toApproval(row) : null;
}

export async function listApprovals(conn: PgConnection, filter: ApprovalFilter): Promise<Approval[]> {
  const cursor = filter.afterId === undefined ? null : await conn.one<ApprovalRow>(GET_APPROVAL, [filter.afterId]);
  const plan = listingPlan(filter, cursor);
  if (plan === null) return [];
  const jobId = filter.jobId ?? null;
  const rows: ApprovalRow[] = [];
  if (plan.pendingAfter !== undefined) {
    const after = plan.pendingAfter;
    rows.push(
      ...(await conn.rows<ApprovalRow>(LIST_PENDING, [jobId, after?.createdAt ?? null, after?.id ?? "", plan.limit])),
    );
  }
  if (plan.settled !== undefined && rows.length < plan.limit) {
    const { states, before } = plan.settled;
    rows.push(
      ...(await conn.rows<ApprovalRow>(LIST_SETTLED, [
        states,
        jobId,
        before?.createdAt ?? null,
        before?.id ?? "",
        plan.limit - rows.length,
      ])),
    );
  }
  return rows.map(toApproval);
}

/**
 * Cancels the job's pending requests (call inside the transaction that cancels the job, with its
 * row locked): its waiting ended with the cancel, so nobody can decide them any more.
 */
export async function cancelJobApprovals(tx: Tx, jobId: string): Promise<void> {
  for (const row of await tx.rows<ApprovalRow>(PENDING_OF_JOB, [jobId])) {
    await cancelApproval(tx, toApproval(row));
  }
}

/** Deletes a deleted job's requests (call inside the transaction that deletes the job). */
export async function deleteJobApprovals(tx: Tx, jobId: string): Promise<void> {
  await tx.run(DELETE_JOB_APPROVALS, [jobId]);
}

function notFound(id: string): OverseerError {
  return new OverseerError("APPROVAL_NOT_FOUND", `no approval request with id "${id}"`, { id });
}

async function cancelApproval(tx: Tx, approval: Approval): Promise<Approval> {
  const cancelled = cancelledApproval(approval, tx.now);
  await write(tx, cancelled, approval.version);
  tx.event("approval.cancelled", approval.jobId, null, cancelledEventData(cancelled));
  return cancelled;
}

/** Writes a changed request if it is still at the version read; whether it was. */
async function write(tx: Tx, approval: Approval, readVersion: number): Promise<boolean> {
  return (await tx.run(UPDATE_APPROVAL, approvalUpdate(approval, readVersion))) === 1;
}

/** A settled request: its outcome becomes the job's step and the job is queued to read it. Whether it was queued. */
async function settle(tx: Tx, approval: Approval): Promise<boolean> {
  await tx.run(INSERT_APPROVAL_STEP, [approval.jobId, approval.step, outcomeStepJson(approval), tx.now]);
  const queued = (await tx.run(APPROVAL_SETTLED, [tx.now, approval.jobId])) === 1;
  tx.event("approval.settled", approval.jobId, null, settledEventData(approval));
  return queued;
}
