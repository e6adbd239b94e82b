/**
 * The counts every chaos scenario prints and judges, from two witnesses that do not share a
 * failure: the execution logs the worker processes append (a line written is on disk even if the
 * process is SIGKILLed right after) and the store's final record of each job and its attempts.
 *
 * - lost: jobs that had to succeed (acknowledged enqueues) and did not: missing from the store,
 *   or not `succeeded` when the scenario stopped waiting. Must be 0.
 * - ranTwice: jobs whose handler started more than once, across all processes. After a crash this
 *   is expected (at-least-once: a job whose worker died mid-run runs again); it is reported, not
 *   judged.
 * - overlapping: pairs of executions of one job whose time spans overlap, a killed process's
 *   executions lasting until its death. Must be 0: a job never runs twice at the same time.
 * - chargedNeverRan: attempts charged to a job (every outcome but `released` and `parked`, which
 *   do not count against `maxAttempts`) by a worker in whose log that job's handler never started
 *   as many times: per job and worker, charged attempts minus handler starts, when positive.
 *   Must be 0: a job claimed but never started (held by a prefetching worker) costs no attempt.
 */
import type { Attempt, Job } from "../core/types.js";
import { executions, type LogLine, overlaps } from "../test-support/execution-log.js";

export interface WorkerLog {
  /** A name for messages (A, B, ...). */
  name: string;
  /** The worker id it printed when ready: attempts name it. */
  workerId: string;
  lines: LogLine[];
  /** When the process died (epoch ms), or now if it still runs: its unfinished executions end here. */
  diedAt: number;
}

export interface Counts {
  jobs: number;
  lost: number;
  ranTwice: number;
  overlapping: number;
  chargedNeverRan: number;
}

export interface Tally {
  counts: Counts;
  /** What each nonzero judged count is made of, for the failure message. */
  problems: string[];
}

/** Attempt outcomes that do not count against `maxAttempts`. */
const UNCOUNTED = new Set(["released", "parked"]);

export function tally(
  expected: readonly string[],
  jobs: ReadonlyMap<string, Job | null>,
  attempts: ReadonlyMap<string, readonly Attempt[]>,
  logs: readonly WorkerLog[],
): Tally {
  const problems: string[] = [];
  const lost = expected.filter((id) => jobs.get(id)?.state !== "succeeded");
  for (const id of lost) problems.push(`lost: job ${id} is ${jobs.get(id)?.state ?? "missing"}`);

  const runs = logs.flatMap((log) => {
    const { runs, problems: logProblems } = executions(log.name, log.lines, log.diedAt);
    problems.push(...logProblems);
    return runs;
  });
  const overlapping = overlaps(runs);
  problems.push(...overlapping.map((o) => `overlap: ${o}`));

  const startsPerJob = new Map<string, number>();
  const startsPerWorkerJob = new Map<string, number>();
  for (const log of logs) {
    for (const line of log.lines) {
      if (line.what !== "start") continue;
      startsPerJob.set(line.jobId, (startsPerJob.get(line.jobId) ?? 0) + 1);
      const key = `${log.workerId} ${line.jobId}`;
      startsPerWorkerJob.set(key, (startsPerWorkerJob.get(key) ?? 0) + 1);
    }
  }
  const ranTwice = [...startsPerJob.values()].filter((n) => n > 1).length;

  let chargedNeverRan = 0;
  for (const [jobId, list] of attempts) {
    const charged = new Map<string, number>();
    for (const a of list) {
      if (UNCOUNTED.has(a.outcome)) continue;
      charged.set(a.workerId, (charged.get(a.workerId) ?? 0) + 1);
    }
    for (const [workerId, n] of charged) {
      const extra = n - (startsPerWorkerJob.get(`${workerId} ${jobId}`) ?? 0);
      if (extra <= 0) continue;
      chargedNeverRan += extra;
      const outcomes = list.filter((a) => a.workerId === workerId).map((a) => a.outcome);
      problems.push(`charged: job ${jobId} was charged ${extra} attempt(s) by ${workerId} (${outcomes}) it never ran`);
    }
  }
  return {
    counts: { jobs: expected.length, lost: lost.length, ranTwice, overlapping: overlapping.length, chargedNeverRan },
    problems,
  };
}

/** The line a scenario prints. */
export function formatCounts(scenario: string, c: Counts, extra: Record<string, number> = {}): string {
  const more = Object.entries(extra).map(([k, v]) => `, ${k} ${v}`);
  return (
    `chaos | ${scenario}: ${c.jobs} jobs, lost ${c.lost}, ran twice ${c.ranTwice}, ` +
    `overlapping ${c.overlapping}, never-ran-but-charged ${c.chargedNeverRan}${more.join("")}`
  );
}
