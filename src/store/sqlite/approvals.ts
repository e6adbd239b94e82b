/**
 * Approvals in the SQLite store: requests, decisions, the watchdog's timeouts and cancels. Each
 * verb is one write transaction, and SQLite has one writer at a time across every process on the
 * file, so a decision, a timeout and a cancel of the same request are serialised: the first to
 * settle it wins and the others read it settled. That single writer is also what makes the
 * watchdog exactly-once on any number of processes. Decided by `core/approval.ts` and the shared
 * functions of `approval-rows.ts`; each write is still guarded by the version it read.
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
import type { SqliteConnection } from "./connection.js";
import * as sql from "./statements.js";

/** ?1 job id, ?2 token: the job, if this lease still runs it. */
const LEASED_JOB = "SELECT * FROM jobs WHERE id = ?1 AND lease_token = ?2 AND state = 'running'";

/** ?1 job id, ?2 name. */
const GET_STEP = "SELECT * FROM job_steps WHERE job_id = ?1 AND name = ?2";

/** ?1 job id, ?2 name, ?3 result JSON, ?4 now. The first write of a name wins. */
const INSERT_APPROVAL_STEP = `
INSERT INTO job_steps (job_id, name, kind, result, created_at) VALUES (?1, ?2, 'approval', ?3, ?4)
ON CONFLICT (job_id, name) DO NOTHING`;

/** ?1 id. */
const GET_APPROVAL = "SELECT * FROM approvals WHERE id = ?1";

/** ?1 job id, ?2 step: the step's request that was not cancelled, if any. */
const LIVE_APPROVAL = "SELECT * FROM approvals WHERE job_id = ?1 AND step = ?2 AND state <> 'cancelled'";

/** ?1 job id: the job's pending requests. */
const PENDING_OF_JOB = "SELECT * FROM approvals WHERE job_id = ?1 AND state = 'pending'";

/** ?1-?17: an approval row, in APPROVAL_COLUMNS order. */
const INSERT_APPROVAL = `
INSERT INTO approvals (${APPROVAL_COLUMNS.join(", ")})
VALUES (${APPROVAL_COLUMNS.map((_, i) => `?${i + 1}`).join(", ")})`;

/** ?1 state, ?2 decisions JSON, ?3 outcome JSON, ?4 settled at, ?5 new version, ?6 id, ?7 version read. */
const UPDATE_APPROVAL = `
UPDATE approvals SET state = ?1, decisions = ?2, outcome = ?3, settled_at = ?4, version = ?5
WHERE id = ?6 AND version = ?7`;

/** ?1 job id, ?2 token. The parked attempt is given back: max attempts + 1. */
const AWAIT_APPROVAL = `
UPDATE jobs SET state = '${TRANSITIONS.awaitApproval.to}', lease_owner = NULL, lease_expires_at = NULL,
  max_attempts = max_attempts + 1, version = version + 1
WHERE id = ?1 AND lease_token = ?2 AND state = '${TRANSITIONS.awaitApproval.from[0]}'`;

/** ?1 now, ?2 job id. The job runs again, in line from now, to read the outcome. */
const APPROVAL_SETTLED = `
UPDATE jobs SET state = '${TRANSITIONS.approvalSettled.to}', run_at = ?1, version = version + 1
WHERE id = ?2 AND state = '${TRANSITIONS.approvalSettled.from[0]}'`;

/**
 * ?1 now, ?2 limit: pending requests whose time is up, soonest first. `escalate` requests are not
 * the watchdog's: they stay pending and their alert escalates (alerts/sources.ts).
 */
const EXPIRED = `
SELECT * FROM approvals INDEXED BY approvals_pending WHERE state = 'pending' AND expires_at <= ?1
  AND on_timeout <> 'escalate'
ORDER BY expires_at, id LIMIT ?2`;

const NEXT_EXPIRY = `SELECT min(expires_at) AS at FROM approvals INDEXED BY approvals_pending
WHERE state = 'pending' AND on_timeout <> 'escalate'`;

/** ?1 job id or NULL, ?2 cursor created_at or NULL, ?3 cursor id, ?4 limit. */
const LIST_PENDING = `
SELECT * FROM approvals WHERE state = 'pending' AND (?1 IS NULL OR job_id = ?1)
  AND (?2 IS NULL OR (created_at, id) > (?2, ?3))
ORDER BY created_at, id LIMIT ?4`;

/** ?1 states (JSON array), ?2 job id or NULL, ?3 cursor created_at or NULL, ?4 cursor id, ?5 limit. */
const LIST_SETTLED = `
SELECT * FROM approvals WHERE state IN (SELECT value FROM json_each(?1)) AND (?2 IS NULL OR job_id = ?2)
  AND (?3 IS NULL OR (created_at, id) < (?3, ?4))
ORDER BY created_at DESC, id DESC LIMIT ?5`;

/** ?1 job id: a deleted job's requests. */
const DELETE_JOB_APPROVALS = "DELETE FROM approvals WHERE job_id = ?1";

export type RequestResult = { kind: "settled"; step: StepRecord } | { kind: "parked"; approval: Approval } | null;

export function requestApproval(conn: SqliteConnection, lease: Lease, request: NewApproval): RequestResult {
  return conn.write(() => {
    const now = conn.clock();
    const { jobId, token, workerId } = lease;
    const job = conn.stmt(LEASED_JOB).get(jobId, token) as JobRow | undefined;
    if (!job) return null;
    const stored = conn.stmt(GET_STEP).get(jobId, request.step) as StepRow | undefined;
    const live = conn.stmt(LIVE_APPROVAL).get(jobId, request.step) as ApprovalRow | undefined;
    const decision = requestDecision(stored !== undefined, live);
    if (decision.kind === "stored") return { kind: "settled", step: toStep(stored as StepRow) };
    let row: ApprovalRow;
    if (decision.kind === "park_again") {
      row = decision.approval;
    } else {
      row = newApprovalRow(jobId, request, now);
      conn.stmt(INSERT_APPROVAL).run(...approvalValues(row));
      conn.event(now, "approval.requested", jobId, workerId, requestedEventData(row));
    }
    // The request is stored first; then the job parks on it, or is cancelled with it if a cancel is pending.
    if (parksOrCancels(job) === "cancel") {
      conn.stmt(sql.CANCEL_RUNNING_JOB).run(now, null, jobId, token);
      conn.stmt(sql.FINISH_ATTEMPT).run(now, "cancelled", null, jobId, token);
      conn.event(now, "job.cancelled", jobId, workerId, { attempt: job.attempts, while: "running" });
      const cancelled = cancelApproval(conn, toApproval(row), now);
      return { kind: "parked", approval: cancelled };
    }
    conn.stmt(AWAIT_APPROVAL).run(jobId, token);
    conn.stmt(sql.FINISH_ATTEMPT).run(now, "parked", null, jobId, token);
    conn.event(now, "job.parked", jobId, workerId, parkedOnApprovalData(row));
    return { kind: "parked", approval: toApproval(row) };
  });
}

/** The decided request and whether a job was queued by it (the caller wakes workers). */
export function decideApproval(
  conn: SqliteConnection,
  id: string,
  decision: { decision: "approve" | "deny"; reason: string | null; channel: DecisionChannel },
  decider: Decider,
  expectedVersion: number | undefined,
): { approval: Approval; queued: boolean } {
  return conn.write(() => {
    const now = conn.clock();
    const row = conn.stmt(GET_APPROVAL).get(id) as ApprovalRow | undefined;
    if (!row) throw new OverseerError("APPROVAL_NOT_FOUND", `no approval request with id "${id}"`, { id });
    const { approval, settled } = applyDecision(row, decision, decider, expectedVersion, now);
    write(conn, approval, row.version);
    conn.event(now, "approval.decided", approval.jobId, null, decidedEventData(approval));
    const queued = settled && settle(conn, approval, now);
    return { approval, queued };
  });
}

/** The requests it timed out (each exactly once: one writer at a time, and a version-guarded write). */
export function expireApprovals(conn: SqliteConnection, limit: number): { settled: Approval[]; queued: boolean } {
  // A read first, so idle watchdogs take no write lock just to find nothing due.
  const next = nextApprovalExpiry(conn);
  if (next === null || next > conn.clock()) return { settled: [], queued: false };
  return conn.write(() => {
    const at = conn.clock();
    const settled: Approval[] = [];
    let queued = false;
    for (const row of conn.stmt(EXPIRED).all(at, limit) as ApprovalRow[]) {
      const timed = timeOut(toApproval(row), iso(at));
      if (timed === null || !write(conn, timed.approval, row.version)) continue;
      queued = settle(conn, timed.approval, at) || queued;
      settled.push(timed.approval);
    }
    return { settled, queued };
  });
}

export function nextApprovalExpiry(conn: SqliteConnection): number | null {
  return (conn.stmt(NEXT_EXPIRY).get() as { at: number | null }).at;
}

export function getApproval(conn: SqliteConnection, id: string): Approval | null {
  const row = conn.stmt(GET_APPROVAL).get(id) as ApprovalRow | undefined;
  return row ? toApproval(row) : null;
}

export function listApprovals(conn: SqliteConnection, filter: ApprovalFilter): Approval[] {
  const cursor =
    filter.afterId === undefined ? null : (conn.stmt(GET_APPROVAL).get(filter.afterId) as ApprovalRow | undefined);
  const plan = listingPlan(filter, cursor);
  if (plan === null) return [];
  const jobId = filter.jobId ?? null;
  const rows: ApprovalRow[] = [];
  if (plan.pendingAfter !== undefined) {
    const after = plan.pendingAfter;
    rows.push(
      ...(conn.stmt(LIST_PENDING).all(jobId, after?.createdAt ?? null, after?.id ?? "", plan.limit) as ApprovalRow[]),
    );
  }
  if (plan.settled !== undefined && rows.length < plan.limit) {
    const { states, before } = plan.settled;
    rows.push(
      ...(conn
        .stmt(LIST_SETTLED)
        .all(
          JSON.stringify(states),
          jobId,
          before?.createdAt ?? null,
          before?.id ?? "",
          plan.limit - rows.length,
        ) as ApprovalRow[]),
    );
  }
  return rows.map(toApproval);
}

/**
 * Cancels the job's pending requests (call inside the transaction that cancels the job): its
 * waiting ended with the cancel, so nobody can decide them any more.
 */
export function cancelJobApprovals(conn: SqliteConnection, jobId: string, now: number): void {
  for (const row of conn.stmt(PENDING_OF_JOB).all(jobId) as ApprovalRow[]) {
    cancelApproval(conn, toApproval(row), now);
  }
}

/** Deletes a deleted job's requests (call inside the transaction that deletes the job). */
export function deleteJobApprovals(conn: SqliteConnection, jobId: string): void {
  conn.stmt(DELETE_JOB_APPROVALS).run(jobId);
}

function cancelApproval(conn: SqliteConnection, approval: Approval, now: number): Approval {
  const cancelled = cancelledApproval(approval, now);
  write(conn, cancelled, approval.version);
  conn.event(now, "approval.cancelled", approval.jobId, null, cancelledEventData(cancelled));
  return cancelled;
}

/** Writes a changed request if it is still at the version read; whether it was. */
function write(conn: SqliteConnection, approval: Approval, readVersion: number): boolean {
  return conn.stmt(UPDATE_APPROVAL).run(...approvalUpdate(approval, readVersion)).changes === 1;
}

/** A settled request: its outcome becomes the job's step and the job is queued to read it. Whether it was queued. */
function settle(conn: SqliteConnection, approval: Approval, now: number): boolean {
  conn.stmt(INSERT_APPROVAL_STEP).run(approval.jobId, approval.step, outcomeStepJson(approval), now);
  const queued = conn.stmt(APPROVAL_SETTLED).run(now, approval.jobId).changes === 1;
  conn.event(now, "approval.settled", approval.jobId, null, settledEventData(approval));
  return queued;
}
