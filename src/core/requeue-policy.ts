/**
 * The re-queue policy: which dead jobs may be put back in their queue automatically. It is
 * conservative on purpose: only jobs that died recently (`maxAgeMs`), were re-queued fewer than
 * `maxRequeues` times already, and whose last error was not permanent; at most `max` per pass,
 * oldest death first so a job near the age limit is not starved by newer failures. Pure: the
 * caller counts past re-queues (the `job.requeued` events) and passes `now`.
 */
import { formatDuration } from "./duration.js";
import type { Job } from "./types.js";

export interface RequeueOptions {
  /** A job already re-queued this many times by the policy is left dead. */
  maxRequeues: number;
  /** Only jobs that died less than this long ago. */
  maxAgeMs: number;
  /** At most this many re-queues per pass. */
  max: number;
}

export interface RequeueCandidate {
  job: Job;
  /** How many times the policy re-queued this job before (its `job.requeued` events). */
  requeues: number;
}

export interface RequeueDecision {
  jobId: string;
  task: string;
  queue: string;
  requeues: number;
  requeue: boolean;
  /** Why, in words a person reads in the audit trail and in `--dry-run`. */
  reason: string;
}

/**
 * One decision per candidate, in the order they would be applied: oldest death first. A job is
 * re-queued when it is dead, died at most `maxAgeMs` before `now`, has fewer than `maxRequeues`
 * re-queues, its last error was retryable, and fewer than `max` were chosen before it.
 */
export function selectRequeues(
  candidates: readonly RequeueCandidate[],
  options: RequeueOptions & { now: number },
): RequeueDecision[] {
  const sorted = [...candidates].sort(
    (a, b) => finished(a.job) - finished(b.job) || (a.job.id < b.job.id ? -1 : a.job.id > b.job.id ? 1 : 0),
  );
  let chosen = 0;
  return sorted.map(({ job, requeues }) => {
    const decide = (requeue: boolean, reason: string): RequeueDecision => ({
      jobId: job.id,
      task: job.task,
      queue: job.queue,
      requeues,
      requeue,
      reason,
    });
    if (job.state !== "dead") return decide(false, `not dead (${job.state})`);
    if (job.finishedAt === null) return decide(false, "dead with no finish time: its age is unknown");
    const age = options.now - finished(job);
    if (age > options.maxAgeMs) {
      return decide(
        false,
        `dead for ${formatDuration(Math.max(0, age))}, longer than the max age ${formatDuration(options.maxAgeMs)}`,
      );
    }
    if (requeues >= options.maxRequeues) {
      return decide(
        false,
        `re-queued ${requeues} time${requeues === 1 ? "" : "s"} already (max ${options.maxRequeues})`,
      );
    }
    if (job.lastError && !job.lastError.retryable) {
      return decide(
        false,
        `its last error (${job.lastError.code}) is permanent: running it again would fail the same way`,
      );
    }
    if (chosen >= options.max)
      return decide(false, `over the max of ${options.max} re-queue${options.max === 1 ? "" : "s"} per pass`);
    chosen++;
    return decide(
      true,
      `re-queue ${requeues + 1} of ${options.maxRequeues}: dead for ${formatDuration(Math.max(0, age))}` +
        (job.lastError ? ` (${job.lastError.code})` : ""),
    );
  });
}

function finished(job: Job): number {
  return job.finishedAt === null ? Number.NEGATIVE_INFINITY : Date.parse(job.finishedAt);
}
