/**
 * The job rollups part of the store conformance suite (see suite.ts, which calls it with its
 * `test`): a pass counts the whole minutes older than its grace once, however often and from
 * however many callers it runs; minutes past the watermark are read live from the jobs; rollups
 * outlive job retention and go after 7 days; bulk rows add to stored ones; reads narrow to a
 * queue or a task and break totals down by both. Times come from the manual clock.
 */
import { describe, expect } from "vitest";
import { bucketEstimate, histogramPercentile, latencyBucket, type RollupCounts } from "../../core/job-rollup.js";
import type { JobError } from "../../core/types.js";
import type { JobRollupQuery } from "../store.js";
import type { ConformanceTest } from "./runs.js";
import type { Ctx } from "./suite.js";

const MIN = 60_000;
const DAY = 86_400_000;
const HOUR = 3_600_000;
const RETRYABLE: JobError = { code: "E_TIMEOUT", message: "timed out", retryable: true };
const PERMANENT: JobError = { code: "E_REFUSED", message: "card refused", retryable: false };

interface Finish {
  queue?: string;
  task?: string;
  waitMs: number;
  runMs: number;
  outcome?: "succeeded" | "dead";
  /** Attempts that fail (and are retried at once) before the last one. */
  retries?: number;
}

/** Enqueues a job due now and runs it: each attempt waits `waitMs`, then runs `runMs`. Nothing else may be ready. */
async function finish(ctx: Ctx, f: Finish): Promise<void> {
  const job = await ctx.add({ queue: f.queue ?? "default" }, { task: f.task ?? "t" });
  for (let attempt = 0; attempt <= (f.retries ?? 0); attempt++) {
    ctx.clock.advance(f.waitMs);
    const { lease } = await ctx.claimOne({ tasks: [job.task], queues: [job.queue] });
    ctx.clock.advance(f.runMs);
    const last = attempt === (f.retries ?? 0);
    const applied = !last
      ? await ctx.finishOne({ lease, outcome: "retry", error: RETRYABLE, delayMs: 0 })
      : f.outcome === "dead"
        ? await ctx.finishOne({ lease, outcome: "dead", error: PERMANENT, reason: "permanent_error" })
        : await ctx.finishOne({ lease, outcome: "succeeded", resultJson: "null" });
    expect(applied).toBe(true);
  }
}

/** A histogram with `n` in the bucket of `ms`. */
function histogram(entries: Array<[ms: number, n: number]>): number[] {
  const h = new Array<number>(56).fill(0);
  for (const [ms, n] of entries) h[latencyBucket(ms)] = (h[latencyBucket(ms)] ?? 0) + n;
  return h;
}

function summary(c: RollupCounts) {
  return {
    succeeded: c.succeeded,
    dead: c.dead,
    cancelled: c.cancelled,
    retries: c.retries,
    waitP50: histogramPercentile(c.wait, 50),
    runP95: histogramPercentile(c.run, 95),
  };
}

function range(ctx: Ctx, extra: Partial<JobRollupQuery> = {}): JobRollupQuery {
  return { from: ctx.clock.now - 10 * MIN, to: ctx.clock.now, bucketMs: MIN, top: 10, ...extra };
}

export function runRollupConformance(test: ConformanceTest): void {
  describe("job rollups", () => {
    test("a pass rolls up the whole minutes older than its grace, with outcomes, retries and histograms", async (ctx) => {
      const t0 = ctx.clock.now;
      ctx.clock.set(t0 + 10_000);
      await finish(ctx, { queue: "mail", task: "a", waitMs: 500, runMs: 2_000 });
      await finish(ctx, { queue: "mail", task: "b", waitMs: 40, runMs: 3_000, retries: 2 });
      ctx.clock.set(t0 + MIN + 5_000);
      await finish(ctx, { queue: "sms", task: "a", waitMs: 0, runMs: 100, outcome: "dead" });
      ctx.clock.set(t0 + 3 * MIN + 30_000);
      // Grace of two minutes: minutes [t0, t0 + 1m) only; t0 + 1m is still within its grace.
      expect(await ctx.store.rollUpJobs()).toMatchObject({ rows: 2, jobs: 2, through: t0 + MIN, deleted: 0 });
      expect(await ctx.store.rollUpJobs()).toMatchObject({ rows: 0, jobs: 0, minutes: 0, through: t0 + MIN });
      ctx.clock.set(t0 + 4 * MIN);
      expect(await ctx.store.rollUpJobs()).toMatchObject({ rows: 1, jobs: 1, minutes: 1, through: t0 + 2 * MIN });

      const read = await ctx.store.readJobRollups({ from: t0, to: t0 + 4 * MIN, bucketMs: MIN, top: 10 });
      expect(read.rolledUpThrough).toBe(t0 + 2 * MIN);
      expect(read.truncated).toBe(false);
      expect(read.buckets).toHaveLength(4);
      expect(read.buckets[0]).toEqual({
        succeeded: 2,
        dead: 0,
        cancelled: 0,
        retries: 2,
        wait: histogram([
          [500, 1],
          [40, 1],
        ]),
        run: histogram([
          [2_000, 1],
          [3_000, 1],
        ]),
      });
      // A retried job's wait and run are its last attempt's.
      expect(summary(read.buckets[1] as RollupCounts)).toEqual({
        succeeded: 0,
        dead: 1,
        cancelled: 0,
        retries: 0,
        waitP50: 0,
        runP95: bucketEstimate(latencyBucket(100)),
      });
      expect(summary(read.total)).toEqual({
        succeeded: 2,
        dead: 1,
        cancelled: 0,
        retries: 2,
        waitP50: bucketEstimate(latencyBucket(40)),
        runP95: bucketEstimate(latencyBucket(3_000)),
      });
      expect(read.byQueue.map((q) => [q.queue, q.counts.succeeded + q.counts.dead])).toEqual([
        ["mail", 2],
        ["sms", 1],
      ]);
      expect(read.byTask.map((t) => [t.task, t.counts.succeeded, t.counts.dead])).toEqual([
        ["a", 1, 1],
        ["b", 1, 0],
      ]);
    });

    test("the minutes past the watermark are read live, and read the same once rolled up", async (ctx) => {
      const t0 = ctx.clock.now;
      await finish(ctx, { queue: "mail", task: "a", waitMs: 1_000, runMs: 1_000 });
      ctx.clock.set(t0 + 2 * MIN + 10_000);
      await finish(ctx, { queue: "mail", task: "b", waitMs: 10, runMs: 10 });
      // The current minute is partial: its job counts already.
      const query = { from: t0, to: t0 + 3 * MIN, bucketMs: MIN, top: 10 };
      const live = await ctx.store.readJobRollups(query);
      expect(live.rolledUpThrough).toBe(0);
      expect(live.buckets.map((b) => b.succeeded)).toEqual([1, 0, 1]);
      ctx.clock.set(t0 + 5 * MIN);
      await ctx.store.rollUpJobs();
      const rolled = await ctx.store.readJobRollups(query);
      expect(rolled.rolledUpThrough).toBe(t0 + 3 * MIN);
      expect(rolled.buckets).toEqual(live.buckets);
      expect(rolled.byTask).toEqual(live.byTask);
    });

    test("passes running at once count each minute once", async (ctx) => {
      const t0 = ctx.clock.now;
      for (let i = 0; i < 5; i++) {
        ctx.clock.set(t0 + i * MIN);
        await finish(ctx, { queue: "q", task: "a", waitMs: 5, runMs: 5 });
      }
      ctx.clock.set(t0 + 10 * MIN);
      const passes = await Promise.all([ctx.store.rollUpJobs(), ctx.store.rollUpJobs(), ctx.store.rollUpJobs()]);
      expect(passes.reduce((n, p) => n + p.jobs, 0)).toBe(5);
      await ctx.store.rollUpJobs();
      const read = await ctx.store.readJobRollups({ from: t0, to: t0 + 8 * MIN, bucketMs: 4 * MIN, top: 10 });
      expect(read.rolledUpThrough).toBe(t0 + 8 * MIN);
      expect(read.buckets.map((b) => b.succeeded)).toEqual([4, 1]);
      expect(read.total.succeeded).toBe(5);
    });

    test("retention rolls up the jobs it deletes; rollups go after 7 days", async (ctx) => {
      const t0 = ctx.clock.now;
      await finish(ctx, { queue: "q", task: "a", waitMs: 5, runMs: 5 });
      ctx.clock.set(t0 + 2 * DAY);
      const pruned = await ctx.store.prune({ jobs: { succeeded: { maxAgeMs: DAY } } });
      expect(pruned.jobs.succeeded).toBe(1);
      const kept = await ctx.store.readJobRollups({ from: t0, to: t0 + MIN, bucketMs: MIN, top: 5 });
      expect(kept.total.succeeded).toBe(1);
      expect(await ctx.store.oldestJobRollup()).toBe(t0);
      ctx.clock.set(t0 + 7 * DAY + MIN);
      expect(await ctx.store.rollUpJobs()).toMatchObject({ deleted: 1 });
      expect(await ctx.store.oldestJobRollup()).toBeNull();
      // The hour's row went with the hour.
      ctx.clock.set(t0 + 7 * DAY + 2 * HOUR);
      await ctx.store.rollUpJobs();
      const week = await ctx.store.readJobRollups({ from: t0, to: t0 + 2 * HOUR, bucketMs: HOUR, top: 5 });
      expect(week.total.succeeded).toBe(0);
      // And the quarter hour's row with the quarter hour.
      const day = await ctx.store.readJobRollups({ from: t0, to: t0 + 2 * HOUR, bucketMs: 15 * MIN, top: 5 });
      expect(day.total.succeeded).toBe(0);
    });

    test("bulk rows add to the stored ones; reads narrow to a queue, a task or both, and keep the top N", async (ctx) => {
      const t0 = ctx.clock.now;
      const row = (minute: number, queue: string, task: string, succeeded: number) => ({
        minute,
        queue,
        task,
        succeeded,
        dead: 1,
        cancelled: 0,
        retries: 2,
        wait: histogram([[100, succeeded + 1]]),
        run: histogram([[1_000, succeeded + 1]]),
      });
      await ctx.store.writeJobRollups([row(t0, "mail", "a", 3), row(t0, "mail", "b", 5), row(t0 + MIN, "sms", "a", 7)]);
      await ctx.store.writeJobRollups([row(t0, "mail", "a", 1)]);
      ctx.clock.set(t0 + 5 * MIN);
      // Rolled up past these minutes, so they are read from the rows alone.
      await ctx.store.rollUpJobs();
      const all = await ctx.store.readJobRollups(range(ctx, { from: t0, to: t0 + 2 * MIN }));
      expect(all.buckets.map((b) => [b.succeeded, b.dead, b.retries])).toEqual([
        [9, 3, 6],
        [7, 1, 2],
      ]);
      expect(all.byQueue.map((q) => [q.queue, q.counts.succeeded])).toEqual([
        ["mail", 9],
        ["sms", 7],
      ]);
      const mail = await ctx.store.readJobRollups(range(ctx, { from: t0, to: t0 + 2 * MIN, queue: "mail" }));
      expect(mail.total.succeeded).toBe(9);
      const taskA = await ctx.store.readJobRollups(range(ctx, { from: t0, to: t0 + 2 * MIN, task: "a" }));
      expect(taskA.total.succeeded).toBe(11);
      const both = await ctx.store.readJobRollups(range(ctx, { from: t0, to: t0 + 2 * MIN, queue: "sms", task: "a" }));
      expect(both.total.succeeded).toBe(7);
      expect(both.byTask).toEqual([{ task: "a", counts: both.total }]);
      // In whole hours the hourly rows are read: the same sums.
      const hourly = await ctx.store.readJobRollups({ from: t0, to: t0 + 60 * MIN, bucketMs: 60 * MIN, top: 10 });
      expect(hourly.buckets).toEqual([all.total]);
      expect(hourly.byQueue).toEqual(all.byQueue);
      const hourlySms = await ctx.store.readJobRollups({
        from: t0,
        to: t0 + 60 * MIN,
        bucketMs: 60 * MIN,
        top: 10,
        queue: "sms",
      });
      expect(hourlySms.total.succeeded).toBe(7);
      // In whole quarter hours, whether or not on the hour, the quarter-hourly rows: the same sums.
      for (const from of [t0, t0 - 15 * MIN]) {
        const quarters = await ctx.store.readJobRollups({ from, to: from + 30 * MIN, bucketMs: 15 * MIN, top: 10 });
        expect(quarters.total).toEqual(all.total);
        expect(quarters.buckets[(t0 - from) / (15 * MIN)]).toEqual(all.total);
        expect(quarters.byQueue).toEqual(all.byQueue);
        expect(quarters.byTask).toEqual(all.byTask);
        const quartersMailB = await ctx.store.readJobRollups({
          from,
          to: from + 30 * MIN,
          bucketMs: 15 * MIN,
          top: 10,
          queue: "mail",
          task: "b",
        });
        expect(quartersMailB.total.succeeded).toBe(5);
      }
      const top1 = await ctx.store.readJobRollups(range(ctx, { from: t0, to: t0 + 2 * MIN, top: 1 }));
      expect(top1.byTask.map((t) => t.task)).toEqual(["a"]);
      expect(top1.total.wait[latencyBucket(100)]).toBe(20);
    });
  });
}
