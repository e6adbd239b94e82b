/**
 * Metrics over time (GET /api/v1/stats/series): a range cut into buckets sized to it, ending with
 * the bucket that holds now (still filling), and each bucket's, each queue's and each task's
 * counts summarized: finished jobs by outcome, failures, and wait and run p50/p95 from the merged
 * histograms (see core/job-rollup.ts for their precision). Pure: takes the store's read and now.
 */
import { histogramPercentile, MINUTE_MS, type RollupCounts } from "../core/job-rollup.js";
import type { JobRollupRead } from "../store/store.js";

/** The ranges a series covers, each with its bucket length: 60 to 168 buckets. */
export const SERIES_RANGES = {
  "1h": { rangeMs: 60 * MINUTE_MS, bucketMs: MINUTE_MS },
  "6h": { rangeMs: 6 * 60 * MINUTE_MS, bucketMs: 5 * MINUTE_MS },
  "24h": { rangeMs: 24 * 60 * MINUTE_MS, bucketMs: 15 * MINUTE_MS },
  "7d": { rangeMs: 7 * 24 * 60 * MINUTE_MS, bucketMs: 60 * MINUTE_MS },
} as const;

export type SeriesRange = keyof typeof SERIES_RANGES;
export const SERIES_RANGE_NAMES = Object.keys(SERIES_RANGES) as SeriesRange[];
/** Queues and tasks in the breakdowns, the most finished jobs first. */
export const SERIES_TOP = 10;

/** [from, to): whole buckets, the last one holding `now`. */
export function seriesWindow(range: SeriesRange, now: number): { from: number; to: number; bucketMs: number } {
  const { rangeMs, bucketMs } = SERIES_RANGES[range];
  const to = Math.floor(now / bucketMs) * bucketMs + bucketMs;
  return { from: to - rangeMs, to, bucketMs };
}

export interface SeriesSummary {
  succeeded: number;
  dead: number;
  cancelled: number;
  retries: number;
  /** Dead jobs plus retried attempts: every attempt that failed. */
  failures: number;
  waitMs: { p50: number | null; p95: number | null };
  runMs: { p50: number | null; p95: number | null };
}

export function summarize(c: RollupCounts): SeriesSummary {
  return {
    succeeded: c.succeeded,
    dead: c.dead,
    cancelled: c.cancelled,
    retries: c.retries,
    failures: c.dead + c.retries,
    waitMs: { p50: histogramPercentile(c.wait, 50), p95: histogramPercentile(c.wait, 95) },
    runMs: { p50: histogramPercentile(c.run, 50), p95: histogramPercentile(c.run, 95) },
  };
}

export interface Series {
  range: SeriesRange;
  bucketMs: number;
  from: string;
  to: string;
  queue: string | null;
  task: string | null;
  /** Everything finished before this came from rollups, the rest from the jobs table; null before the first rollup. */
  rolledUpThrough: string | null;
  truncated: boolean;
  buckets: Array<{ start: string } & SeriesSummary>;
  total: SeriesSummary & { perMinute: number };
  byQueue: Array<{ name: string } & SeriesSummary>;
  byTask: Array<{ name: string } & SeriesSummary>;
}

/**
 * The answer for a read of `seriesWindow(range, now)`. `dataFrom` is when the data begins (the
 * oldest rollup or event): the total's rate per minute divides by the part of the range since
 * then, up to now, not by the whole range.
 */
export function buildSeries(
  range: SeriesRange,
  window: { from: number; to: number; bucketMs: number },
  read: JobRollupRead,
  filter: { queue: string | null; task: string | null },
  now: number,
  dataFrom: number | null,
): Series {
  const iso = (t: number) => new Date(t).toISOString();
  const total = summarize(read.total);
  const finished = total.succeeded + total.dead + total.cancelled;
  return {
    range,
    bucketMs: window.bucketMs,
    from: iso(window.from),
    to: iso(window.to),
    ...filter,
    rolledUpThrough: read.rolledUpThrough > 0 ? iso(read.rolledUpThrough) : null,
    truncated: read.truncated,
    buckets: read.buckets.map((b, i) => ({ start: iso(window.from + i * window.bucketMs), ...summarize(b) })),
    total: { ...total, perMinute: perMinute(finished, coveredMs(window.from, now, dataFrom)) },
    byQueue: read.byQueue.map((q) => ({ name: q.queue, ...summarize(q.counts) })),
    byTask: read.byTask.map((t) => ({ name: t.task, ...summarize(t.counts) })),
  };
}

/** How much of [windowStart, now] has data: from the later of the window's start and `dataFrom`; at least a second. */
export function coveredMs(windowStart: number, now: number, dataFrom: number | null): number {
  const start = Math.max(windowStart, dataFrom ?? now);
  return Math.max(1_000, now - start);
}

/** `n` over `ms`, per minute, to two decimals. */
export function perMinute(n: number, ms: number): number {
  return Math.round((n / (ms / MINUTE_MS)) * 100) / 100;
}
