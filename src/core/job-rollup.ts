/**
 * Job rollups: the jobs that finished in one minute, of one queue and task, summed into one row:
 * counts by outcome, retries, and histograms of wait and run time in fixed log-spaced buckets.
 * Because every row has the same buckets, the rows of any range merge by adding their counts, and
 * percentiles over an hour or a week come from the merged histogram, not from the jobs.
 *
 * Buckets (`LATENCY_BUCKETS` of them, in milliseconds): bucket 0 holds [0, 1); bucket k, from 1 to
 * 54, holds [2^((k-1)/2), 2^(k/2)), each √2 wider than the one before; bucket 55 holds 2^27 ms
 * (about 37 hours) and more. A percentile is reported as the geometric middle of the bucket its
 * rank falls in, so it is within a factor of 2^(1/4) (±19%) of the true value; from the last
 * bucket, it is 2^27 ms, a lower bound.
 *
 * Wait time runs from a job's run time (when it became due) to the start of its last attempt; run
 * time from that start to its finish (not counted for cancelled jobs). Retries are the attempts
 * a finished job used before its last one, counted in the minute the job finished.
 *
 * Pure: no clock, no I/O.
 */

export const LATENCY_BUCKETS = 56;
const LAST = LATENCY_BUCKETS - 1;
export const MINUTE_MS = 60_000;

/** The histogram bucket a duration in milliseconds falls in. */
export function latencyBucket(ms: number): number {
  if (!(ms >= 1)) return 0;
  return Math.min(LAST, Math.floor(2 * Math.log2(ms)) + 1);
}

/** The lowest duration bucket `k` holds, in ms. */
export function bucketLower(k: number): number {
  return k <= 0 ? 0 : 2 ** ((k - 1) / 2);
}

/** What a percentile that falls in bucket `k` is reported as, in whole ms. */
export function bucketEstimate(k: number): number {
  if (k <= 0) return 0;
  if (k >= LAST) return 2 ** 27;
  return Math.round(2 ** ((k - 1) / 2 + 0.25));
}

/** Counts of finished jobs and their latency histograms: one rollup row's numbers, or a sum of them. */
export interface RollupCounts {
  succeeded: number;
  dead: number;
  cancelled: number;
  /** Attempts that failed and were retried (each finished job's attempts before its last). */
  retries: number;
  /** `LATENCY_BUCKETS` counts of wait times. */
  wait: number[];
  /** `LATENCY_BUCKETS` counts of run times. */
  run: number[];
}

/** One stored row: the jobs of `queue` and `task` that finished in the minute starting at `minute` (epoch ms). */
export interface JobRollupRow extends RollupCounts {
  minute: number;
  queue: string;
  task: string;
}

/** What a rollup needs of a finished job. */
export interface FinishedJobTimes {
  queue: string;
  task: string;
  state: "succeeded" | "dead" | "cancelled";
  attempts: number;
  runAt: number;
  startedAt: number | null;
  finishedAt: number;
}

export function emptyCounts(): RollupCounts {
  return {
    succeeded: 0,
    dead: 0,
    cancelled: 0,
    retries: 0,
    wait: new Array<number>(LATENCY_BUCKETS).fill(0),
    run: new Array<number>(LATENCY_BUCKETS).fill(0),
  };
}

/** Adds `b` into `a`. */
export function addCounts(a: RollupCounts, b: RollupCounts): RollupCounts {
  a.succeeded += b.succeeded;
  a.dead += b.dead;
  a.cancelled += b.cancelled;
  a.retries += b.retries;
  for (let k = 0; k < LATENCY_BUCKETS; k++) {
    a.wait[k] = (a.wait[k] ?? 0) + (b.wait[k] ?? 0);
    a.run[k] = (a.run[k] ?? 0) + (b.run[k] ?? 0);
  }
  return a;
}

/** Counts one finished job into `c`. */
export function countJob(c: RollupCounts, job: FinishedJobTimes): void {
  c[job.state]++;
  c.retries += Math.max(0, job.attempts - 1);
  if (job.startedAt === null) return;
  const wait = c.wait;
  const w = latencyBucket(job.startedAt - job.runAt);
  wait[w] = (wait[w] ?? 0) + 1;
  if (job.state === "cancelled") return;
  const run = c.run;
  const r = latencyBucket(job.finishedAt - job.startedAt);
  run[r] = (run[r] ?? 0) + 1;
}

/** The rows finished jobs make: one per (minute, queue, task) that had any, in that order. */
export function rollUp(jobs: readonly FinishedJobTimes[]): JobRollupRow[] {
  const rows = new Map<string, JobRollupRow>();
  for (const job of jobs) {
    const minute = Math.floor(job.finishedAt / MINUTE_MS) * MINUTE_MS;
    const key = JSON.stringify([minute, job.queue, job.task]);
    let row = rows.get(key);
    if (row === undefined) {
      row = { minute, queue: job.queue, task: job.task, ...emptyCounts() };
      rows.set(key, row);
    }
    countJob(row, job);
  }
  return [...rows.values()].sort((a, b) => a.minute - b.minute || cmp(a.queue, b.queue) || cmp(a.task, b.task));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The nearest-rank percentile `p` (0–100) of a histogram, as its bucket's estimate; null when empty. */
export function histogramPercentile(counts: readonly number[], p: number): number | null {
  const total = counts.reduce((s, n) => s + n, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * total));
  let seen = 0;
  for (let k = 0; k < counts.length; k++) {
    seen += counts[k] ?? 0;
    if (seen >= rank) return bucketEstimate(k);
  }
  return bucketEstimate(LAST);
}
