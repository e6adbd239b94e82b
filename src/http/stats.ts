/**
 * Throughput and latency over a recent window, computed from the jobs that finished in it.
 * Pure: takes the finished jobs' times (not whole jobs: a busy hour is tens of thousands of
 * them) and the window, returns numbers. Wait time is from a job's run
 * time (when it became due) to the start of its last attempt; run time is from that start to
 * its finish.
 */
import type { FinishedTimes } from "../store/store.js";

export interface Percentiles {
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

export interface WindowStats {
  minutes: number;
  /** How much of the window has data (see `windowStats`); the rates divide by it. */
  coveredMs: number;
  finished: { succeeded: number; dead: number; cancelled: number };
  /** Finished jobs per minute over the window, by outcome. */
  throughputPerMinute: { succeeded: number; dead: number; cancelled: number };
  waitMs: Percentiles;
  runMs: Percentiles;
  /** True when more jobs finished than were read: the counts are then lower bounds. */
  truncated: boolean;
}

/**
 * `coveredMs` is how much of the window has data: the whole window, or less when the store's
 * oldest event is younger (a new database), so that the first minutes' rate is not divided by
 * an hour nothing ran in.
 */
export function windowStats(
  jobs: readonly FinishedTimes[],
  minutes: number,
  truncated: boolean,
  coveredMs = minutes * 60_000,
): WindowStats {
  const finished = { succeeded: 0, dead: 0, cancelled: 0 };
  const waits: number[] = [];
  const runs: number[] = [];
  for (const job of jobs) {
    finished[job.state]++;
    if (job.startedAt === null) continue;
    waits.push(Math.max(0, job.startedAt - job.runAt));
    if (job.state !== "cancelled") runs.push(Math.max(0, job.finishedAt - job.startedAt));
  }
  const covered = Math.min(minutes * 60_000, Math.max(1_000, coveredMs));
  const perMinute = (n: number) => Math.round((n / (covered / 60_000)) * 100) / 100;
  return {
    minutes,
    coveredMs: covered,
    finished,
    throughputPerMinute: {
      succeeded: perMinute(finished.succeeded),
      dead: perMinute(finished.dead),
      cancelled: perMinute(finished.cancelled),
    },
    waitMs: percentiles(waits),
    runMs: percentiles(runs),
    truncated,
  };
}

/** Nearest-rank percentiles. */
export function percentiles(values: readonly number[]): Percentiles {
  if (values.length === 0) return { count: 0, p50: null, p95: null, p99: null, max: null };
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? null;
  return { count: sorted.length, p50: rank(50), p95: rank(95), p99: rank(99), max: sorted.at(-1) ?? null };
}

/** One minute of the window: the jobs that finished in it, by outcome, and their run times. */
export interface MinuteBucket {
  /** The minute's start (ISO, on a whole minute). */
  start: string;
  succeeded: number;
  dead: number;
  cancelled: number;
  /** Run time (started to finished) of the succeeded and dead jobs that finished in the minute; null when none did. */
  runMsP50: number | null;
  runMsP95: number | null;
}

/**
 * The window cut into whole minutes, oldest first, ending with the minute that holds `now`
 * (so it is still filling). Always `minutes` buckets, empty ones included, so a chart's x axis
 * does not depend on the traffic. Jobs finished before the first bucket are left out.
 */
export function minuteBuckets(jobs: readonly FinishedTimes[], minutes: number, now: number): MinuteBucket[] {
  const last = Math.floor(now / 60_000) * 60_000;
  const first = last - (minutes - 1) * 60_000;
  const counts = Array.from({ length: minutes }, () => ({ succeeded: 0, dead: 0, cancelled: 0, runs: [] as number[] }));
  for (const job of jobs) {
    const finished = job.finishedAt;
    const bucket = counts[Math.floor((finished - first) / 60_000)];
    if (finished < first || bucket === undefined) continue;
    bucket[job.state]++;
    if (job.startedAt !== null && job.state !== "cancelled") bucket.runs.push(Math.max(0, finished - job.startedAt));
  }
  return counts.map((c, i) => {
    const runs = percentiles(c.runs);
    return {
      start: new Date(first + i * 60_000).toISOString(),
      succeeded: c.succeeded,
      dead: c.dead,
      cancelled: c.cancelled,
      runMsP50: runs.p50,
      runMsP95: runs.p95,
    };
  });
}
