/**
 * How many jobs a worker claims ahead of its free slots when its `prefetch` is "auto" (the
 * default): as many as its slots would finish within `HOLD_MS`, judged by how long its handlers
 * have been taking. Many short jobs then cost one claim per batch instead of one per freed slot;
 * a held job waits about `HOLD_MS`, so other workers are not kept from work they could do now;
 * long jobs are not held at all, and when jobs turn long the worker hands back what it holds
 * beyond the new figure (`Worker.trimHeld`). On SQLite as on PostgreSQL: a held job's start is
 * recorded after its handler begins (see start-batcher.ts), mostly not at all, so holding costs
 * little, and the outcomes of the jobs a claim held are committed together rather than one
 * transaction per freed slot (SQLite drain at concurrency 10: 8,300 to 13,412 jobs/s, medians of
 * 3 alternated runs).
 */

/** How long, on average, a held job may wait for a slot. */
export const HOLD_MS = 100;
/** Jobs held per slot at most. */
export const MAX_HELD_PER_SLOT = 50;
/** Jobs held at most, whatever the concurrency: one claim takes no more than this many rows. */
export const MAX_HELD = 1_000;
/** Weight of the newest run time in the running mean. */
const WEIGHT = 0.1;

export type Prefetch = number | "auto";

/**
 * Jobs to hold beyond free slots. `meanRunMs` is the running mean of handler run times, null
 * before any has finished (nothing is held until the worker knows what its jobs take).
 */
export function prefetchFor(prefetch: Prefetch, concurrency: number, meanRunMs: number | null): number {
  if (prefetch !== "auto") return prefetch;
  if (meanRunMs === null) return 0;
  const finishing = Math.floor((concurrency * HOLD_MS) / Math.max(meanRunMs, 0.001));
  return Math.min(finishing, concurrency * MAX_HELD_PER_SLOT, MAX_HELD);
}

/**
 * The run time to plan with: the running mean, or the median of how long the handlers running
 * now have run, if that is longer. So a turn to long jobs counts at once, rather than when the
 * first of them ends, while one slow job among quick ones does not.
 */
export function plannedRunMs(meanRunMs: number | null, runningForMs: readonly number[]): number | null {
  if (meanRunMs === null || runningForMs.length === 0) return meanRunMs;
  const sorted = [...runningForMs].sort((a, b) => a - b);
  return Math.max(meanRunMs, sorted[Math.floor(sorted.length / 2)] as number);
}

/** The running mean after one more handler run time (exponentially weighted). */
export function nextMeanRunMs(mean: number | null, runMs: number): number {
  return mean === null ? runMs : mean + WEIGHT * (runMs - mean);
}
