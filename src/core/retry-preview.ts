/**
 * What the retry policy says about a job now, for a person about to click Retry: the decision
 * its last failure gets under the current policy, and what a manual retry would do. Pure: the
 * caller passes the job as stored and the policy (the task's, or the default).
 */
import { canTransition } from "./job-state.js";
import {
  backoffDelay,
  classifyError,
  type ErrorClass,
  type RetryDecision,
  type RetryPolicy,
  shouldRetry,
} from "./retry-policy.js";
import type { Job, JobState } from "./types.js";

export interface RetryPreview {
  job: string;
  state: JobState;
  attempts: number;
  maxAttempts: number;
  /** `task`: the task's own policy, defined in this process; `default`: this process does not define the task. */
  policy: "task" | "default";
  /** The class of the last error and the rule that gave it, or null without an error. */
  classification: { errorClass: ErrorClass; rule: string } | null;
  /** The decision for the last failure, or null when there is nothing to decide (see `summary`). */
  decision: RetryDecision | null;
  /** When a scheduled retry starts (the job's runAt), if the decision is auto_retry and the job waits for it. */
  retryAt: string | null;
  /**
   * The backoff (without jitter) before each retry still possible after the next attempt, should
   * the attempts fail: after attempt `attempts + 1`, then `+ 2`, up to the last that may retry (at
   * most MAX_NEXT_DELAYS). A retry schedule's remaining steps, for instance.
   */
  nextDelaysMs: number[];
  manualRetry: { allowed: boolean; reason: "fresh_attempts" | "not_finished" | "succeeded"; message: string };
  /** One line for people: "retrying automatically at ... (auto_retry)", "dead: max_attempts_exceeded ...". */
  summary: string;
}

export function previewRetry(job: Job, policy: RetryPolicy, source: "task" | "default"): RetryPreview {
  const failed = job.lastError !== null && job.attempts > 0;
  // A running, succeeded or cancelled job has no failure waiting on a decision; a queued one
  // was put back by hand or after a lost lease, and its next failure is decided when it comes.
  const decides = failed && (job.state === "scheduled" || job.state === "dead");
  const decision = decides && job.lastError ? shouldRetry(job.attempts, job.lastError, policy) : null;
  const classification = job.lastError ? classifyError(job.lastError, policy.classification) : null;
  const retryAt = decision?.retry && job.state === "scheduled" ? job.runAt : null;
  const manualRetry = manual(job);
  return {
    job: job.id,
    state: job.state,
    attempts: job.attempts,
    maxAttempts: job.maxAttempts,
    policy: source,
    classification,
    decision,
    retryAt,
    nextDelaysMs: nextDelays(job.attempts, policy),
    manualRetry,
    summary: summarise(job, decision, retryAt, policy),
  };
}

/** Delays listed in `nextDelaysMs` at most. */
export const MAX_NEXT_DELAYS = 100;

function nextDelays(attempts: number, policy: RetryPolicy): number[] {
  const out: number[] = [];
  for (let n = attempts + 1; n < policy.maxAttempts && out.length < MAX_NEXT_DELAYS; n++) {
    out.push(backoffDelay(policy.backoff, n, 0));
  }
  return out;
}

function manual(job: Job): RetryPreview["manualRetry"] {
  if (canTransition("retry", job.state)) {
    return {
      allowed: true,
      reason: "fresh_attempts",
      message: `Retry queues the job again with a fresh set of ${job.maxAttempts} attempt${job.maxAttempts === 1 ? "" : "s"}.`,
    };
  }
  if (job.state === "succeeded") {
    return { allowed: false, reason: "succeeded", message: "The job succeeded; there is nothing to retry." };
  }
  return {
    allowed: false,
    reason: "not_finished",
    message: `Only dead or cancelled jobs can be retried by hand; this one is ${job.state}.`,
  };
}

function summarise(job: Job, decision: RetryDecision | null, retryAt: string | null, policy: RetryPolicy): string {
  if (decision === null) {
    if (job.state === "running") return "running: nothing to preview until this attempt ends";
    if (job.state === "succeeded") return "succeeded: nothing to retry";
    if (job.state === "cancelled") return "cancelled: not a failure, so no automatic retry";
    return `${job.state}: no failure to decide on yet`;
  }
  if (decision.retry) {
    return `will retry automatically${retryAt ? ` at ${retryAt}` : ` after ${decision.delayMs} ms`} (auto_retry), attempt ${job.attempts + 1} of ${policy.maxAttempts}`;
  }
  if (job.state === "scheduled") {
    return `scheduled for ${job.runAt}, though under the current policy its last failure would be final: ${decision.reason}`;
  }
  const prefix = "dead";
  const why: Record<typeof decision.reason, string> = {
    permanent_error: "the last error is permanent",
    retry_disabled: "retries are disabled for this task",
    low_confidence: `the attempt's confidence was below the task's floor of ${policy.minConfidence}`,
    max_attempts_exceeded: `all ${policy.maxAttempts} attempts are used`,
    lease_expired: "the worker vanished during the last attempt",
  };
  return `${prefix}: ${decision.reason} (${why[decision.reason]})`;
}
