/**
 * The job state machine, in one place. Every state change is a named transition with the
 * states it may start from; stores compile `from` into the guard of their UPDATE statement,
 * so a transition that is not legal here cannot happen in any backend.
 */
import type { JobState } from "./types.js";

export const TRANSITIONS = {
  /** A delayed or retrying job whose time has come. */
  promote: { from: ["scheduled"], to: "queued" },
  /** A worker takes the job under a lease. */
  claim: { from: ["queued"], to: "running" },
  /** The task's rate limit is spent for this window: wait for the next one. */
  throttle: { from: ["queued"], to: "scheduled" },
  succeed: { from: ["running"], to: "succeeded" },
  /** A failed attempt with attempts left: wait for the backoff. */
  scheduleRetry: { from: ["running"], to: "scheduled" },
  /** Attempts exhausted or a permanent error. */
  die: { from: ["running"], to: "dead" },
  /** The lease expired (its worker is gone) with attempts left: run again. */
  recoverLost: { from: ["running"], to: "queued" },
  /** Graceful shutdown hands the job back without counting the attempt. */
  release: { from: ["running"], to: "queued" },
  /**
   * A durable handler's sleep or signal wait ends its execution: the job waits, leaseless, until
   * its `run_at` (or a signal's delivery, which promotes it). The attempt does not count.
   */
  park: { from: ["running"], to: "scheduled" },
  /**
   * `ctx.requestApproval` ends the execution: the job waits, leaseless, for its approval request
   * to be settled. The attempt does not count.
   */
  awaitApproval: { from: ["running"], to: "awaiting_approval" },
  /** A decision (or the watchdog's timeout) settled the request: the job runs again to read it. */
  approvalSettled: { from: ["awaiting_approval"], to: "queued" },
  /** Cancel a job that is not running: takes effect at once (a waiting job's approval request is cancelled with it). */
  cancel: { from: ["scheduled", "queued", "awaiting_approval"], to: "cancelled" },
  /** A running job whose handler stopped after a cancel request. */
  cancelRunning: { from: ["running"], to: "cancelled" },
  /** A person retries a finished job that did not succeed. */
  retry: { from: ["dead", "cancelled"], to: "queued" },
} as const satisfies Record<string, { from: readonly JobState[]; to: JobState }>;

export type TransitionName = keyof typeof TRANSITIONS;

export function canTransition(name: TransitionName, from: JobState): boolean {
  return (TRANSITIONS[name].from as readonly JobState[]).includes(from);
}

/** Every (from, to) pair that some transition allows. */
export function legalEdges(): Array<[JobState, JobState]> {
  const edges = new Map<string, [JobState, JobState]>();
  for (const t of Object.values(TRANSITIONS)) {
    for (const from of t.from) edges.set(`${from}->${t.to}`, [from, t.to]);
  }
  return [...edges.values()];
}

/** Jobs that can be discarded (deleted from the store) are those that are finished. */
export const DISCARDABLE: readonly JobState[] = ["succeeded", "dead", "cancelled"];
