/**
 * `wait_for_decision`: watches a job until a person has settled its approval request and the
 * job has finished, or the wait's time is up. Running out of time is an answer, not an error:
 * the agent gets the state so far and may call again, since a person may take hours.
 */
import type { Approval, Job } from "../client/index.js";
import { FINISHED_STATES } from "../core/types.js";
import type { McpBackend } from "./backend.js";

/** How often a wait looks again when nothing woke it: a person's decision needs no faster. */
const POLL_MS = 1_000;

export interface DecisionView {
  /** True once the job has finished: `job.result` holds what it did with the decision. */
  done: boolean;
  /** True when the wait's time ran out first; call again to go on waiting. */
  waitTimedOut: boolean;
  job: {
    id: string;
    task: string;
    state: Job["state"];
    attempts: number;
    result: unknown;
    error: Job["lastError"];
  };
  /** The job's latest approval request (null until it has asked). */
  approval: ApprovalView | null;
}

export interface ApprovalView {
  id: string;
  title: string;
  state: Approval["state"];
  risk: Approval["risk"];
  outcome: Approval["outcome"];
  expiresAt: string;
}

export function approvalView(a: Approval): ApprovalView {
  return { id: a.id, title: a.title, state: a.state, risk: a.risk, outcome: a.outcome, expiresAt: a.expiresAt };
}

export function jobView(job: Job): DecisionView["job"] {
  return {
    id: job.id,
    task: job.task,
    state: job.state,
    attempts: job.attempts,
    result: job.result,
    error: job.lastError,
  };
}

/** The latest request: pending ones come first in a listing, then settled ones newest first. */
function latest(approvals: readonly Approval[]): Approval | null {
  return approvals.reduce<Approval | null>((a, b) => (a === null || b.createdAt >= a.createdAt ? b : a), null);
}

export async function waitForDecision(
  backend: McpBackend,
  jobId: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<DecisionView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await backend.getJob(jobId);
    const approval = latest(await backend.jobApprovals(jobId));
    const done = FINISHED_STATES.includes(job.state);
    const left = deadline - Date.now();
    if (done || left <= 0 || signal.aborted) {
      return {
        done,
        waitTimedOut: !done,
        job: jobView(job),
        approval: approval && approvalView(approval),
      };
    }
    await backend.nextChange(Math.min(POLL_MS, left), signal);
  }
}
