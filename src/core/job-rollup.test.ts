import { describe, expect, it } from "vitest";
import {
  bucketEstimate,
  bucketLower,
  histogramPercentile,
  LATENCY_BUCKETS,
  latencyBucket,
  rollUp,
} from "./job-rollup.js";

describe("latency buckets", () => {
  it("are √2 wide from 1 ms, with one below and one from 2^27 ms up", () => {
    expect([0, 0.5, 1, 1.4, 1.5, 2, 3, 4].map(latencyBucket)).toEqual([0, 0, 1, 1, 2, 3, 4, 5]);
    expect(latencyBucket(2 ** 27)).toBe(LATENCY_BUCKETS - 1);
    expect(latencyBucket(Number.MAX_SAFE_INTEGER)).toBe(LATENCY_BUCKETS - 1);
    expect(latencyBucket(-5)).toBe(0);
    // Durations are whole milliseconds: each falls in the bucket whose bounds hold it.
    for (let ms = 1; ms < 2 ** 27; ms = Math.ceil(ms * 1.01)) {
      const k = latencyBucket(ms);
      expect(bucketLower(k)).toBeLessThanOrEqual(ms + 1e-9);
      expect(ms).toBeLessThan(bucketLower(k + 1));
    }
  });

  it("report a value within ±19% of any duration in the bucket", () => {
    for (let ms = 1; ms < 2 ** 27; ms = Math.ceil(ms * 1.07)) {
      const estimate = bucketEstimate(latencyBucket(ms));
      // Rounding to whole ms adds up to half a millisecond at the smallest durations.
      expect(Math.abs(estimate - ms)).toBeLessThanOrEqual(ms * (2 ** 0.25 - 1) + 0.5);
    }
  });

  it("give nearest-rank percentiles of merged histograms", () => {
    const h = new Array<number>(LATENCY_BUCKETS).fill(0);
    expect(histogramPercentile(h, 50)).toBeNull();
    h[latencyBucket(10)] = 90;
    h[latencyBucket(1_000)] = 10;
    expect(histogramPercentile(h, 50)).toBe(bucketEstimate(latencyBucket(10)));
    expect(histogramPercentile(h, 90)).toBe(bucketEstimate(latencyBucket(10)));
    expect(histogramPercentile(h, 95)).toBe(bucketEstimate(latencyBucket(1_000)));
  });

  it("roll finished jobs up per minute, queue and task", () => {
    const job = {
      queue: "q",
      task: "t",
      state: "succeeded" as const,
      attempts: 3,
      runAt: 0,
      startedAt: 100,
      finishedAt: 60_500,
    };
    const rows = rollUp([
      job,
      { ...job, task: "a" },
      { ...job, finishedAt: 59_000 },
      { ...job, state: "cancelled", startedAt: null },
    ]);
    expect(rows.map((r) => [r.minute, r.task, r.succeeded, r.cancelled, r.retries])).toEqual([
      [0, "t", 1, 0, 2],
      [60_000, "a", 1, 0, 2],
      [60_000, "t", 1, 1, 4],
    ]);
    // A cancelled job that never started has no wait or run time.
    expect(rows[2]?.wait.reduce((a, b) => a + b, 0)).toBe(1);
  });
});
