import { describe, expect, it } from "vitest";
import { HOLD_MS, MAX_HELD, MAX_HELD_PER_SLOT, nextMeanRunMs, plannedRunMs, prefetchFor } from "./prefetch.js";

describe("prefetchFor", () => {
  it("takes a number as given, whatever the run times", () => {
    for (const mean of [null, 0.01, 10_000]) {
      expect(prefetchFor(0, 10, mean)).toBe(0);
      expect(prefetchFor(37, 10, mean)).toBe(37);
    }
  });

  it('"auto" holds nothing before any run time is known', () => {
    expect(prefetchFor("auto", 10, null)).toBe(0);
  });

  it('"auto" holds what the slots finish in HOLD_MS, at most MAX_HELD_PER_SLOT per slot and MAX_HELD in all, none for long jobs', () => {
    expect(HOLD_MS).toBe(100);
    // 10 slots of 1 ms jobs finish 1,000 in 100 ms: capped at 50 a slot.
    expect(prefetchFor("auto", 10, 1)).toBe(10 * MAX_HELD_PER_SLOT);
    // Instant handlers too (no division by zero).
    expect(prefetchFor("auto", 10, 0)).toBe(10 * MAX_HELD_PER_SLOT);
    // 10 slots of 20 ms jobs: 50 in 100 ms.
    expect(prefetchFor("auto", 10, 20)).toBe(50);
    // 4 slots of 30 ms jobs: 13.3, rounded down.
    expect(prefetchFor("auto", 4, 30)).toBe(13);
    // Many slots of quick jobs: at most MAX_HELD in all.
    expect(prefetchFor("auto", 1_000, 0.01)).toBe(MAX_HELD);
    expect(prefetchFor("auto", 15, 1)).toBe(15 * MAX_HELD_PER_SLOT);
    // A job that takes longer than HOLD_MS on every slot: holding it would keep it from other workers.
    expect(prefetchFor("auto", 1, 101)).toBe(0);
    expect(prefetchFor("auto", 10, 60_000)).toBe(0);
  });
});

describe("plannedRunMs", () => {
  it("is the mean while nothing runs or nothing has finished yet", () => {
    expect(plannedRunMs(null, [])).toBeNull();
    expect(plannedRunMs(null, [5_000])).toBeNull();
    expect(plannedRunMs(2, [])).toBe(2);
  });

  it("is the median of the running handlers' times when that is longer than the mean", () => {
    // One slot: the one running handler is the median.
    expect(plannedRunMs(2, [500])).toBe(500);
    // Most handlers have run long: short jobs gave way to long ones.
    expect(plannedRunMs(2, [300, 1, 400, 350, 0])).toBe(300);
    // One slow job among quick ones changes nothing.
    expect(plannedRunMs(2, [5_000, 1, 0, 1, 1])).toBe(2);
    // Handlers younger than the mean do not lower it.
    expect(plannedRunMs(50, [1, 2, 3])).toBe(50);
    // With an even count, the upper of the two middle ones.
    expect(plannedRunMs(2, [1, 10, 20, 30])).toBe(20);
  });
});

describe("nextMeanRunMs", () => {
  it("starts at the first run time and moves a tenth of the way to each next one", () => {
    expect(nextMeanRunMs(null, 40)).toBe(40);
    expect(nextMeanRunMs(40, 140)).toBe(50);
    expect(nextMeanRunMs(50, 50)).toBe(50);
    let mean: number | null = null;
    for (let i = 0; i < 200; i++) mean = nextMeanRunMs(mean, 5);
    expect(mean).toBe(5);
  });
});
