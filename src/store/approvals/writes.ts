/**
 * The writes of one approval request, whoever asked (a job or a run): store a new one, write a
 * changed one back under the version it was read at, cancel one, each with its event on the
 * asker's stream. The verbs (operations.ts for jobs, ../runs/operations.ts for runs) lock the
 * asker's row first and call these inside their transaction.
 */
import type { Approval } from "../../core/approval.js";
import type { Op, Tx } from "../tx.js";
import {
  type ApprovalRow,
  approvalUpdate,
  approvalValues,
  cancelledApproval,
  cancelledEventData,
  requestedEventData,
} from "./rows.js";
import * as q from "./statements.js";

/** Stores a new pending request and appends `approval.requested`. */
export function* insertApproval(tx: Tx, row: ApprovalRow, workerId: string | null): Op<void> {
  yield* tx.run(q.INSERT_APPROVAL, approvalValues(row));
  tx.event("approval.requested", row.job_id, workerId, requestedEventData(row), row.run_id);
}

/** Appends an event about the request to its job's or its run's stream. */
export function approvalEvent(tx: Tx, kind: string, approval: Approval, data: Record<string, unknown>): void {
  tx.event(kind, approval.jobId, null, data, approval.runId);
}

/** Writes a changed request if it is still at the version read; whether it was. */
export function* writeApproval(tx: Tx, approval: Approval, readVersion: number): Op<boolean> {
  return (yield* tx.run(q.UPDATE_APPROVAL, approvalUpdate(approval, readVersion))) === 1;
}

/** The request once its asker was cancelled: nobody can decide it any more. */
export function* cancelApproval(tx: Tx, approval: Approval): Op<Approval> {
  const cancelled = cancelledApproval(approval, tx.at);
  yield* writeApproval(tx, cancelled, approval.version);
  approvalEvent(tx, "approval.cancelled", approval, cancelledEventData(cancelled));
  return cancelled;
}
