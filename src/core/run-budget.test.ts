import { describe, expect, it } from "vitest";
import { emptyRunStats, type RunStats } from "./run.js";
import { costOf, narrowBudget, progressAfterTurn, type RunBudget, spentBudget } from "./run-budget.js";

const stats = (change: (s: RunStats) => void = () => undefined): RunStats => {
  const s = structuredClone(emptyRunStats());
  change(s);
  return s;
};

describe("run budgets", () => {
  it("prices tokens per million, and has no cost without prices", () => {
    expect(costOf({ input: 2_000_000, output: 500_000 }, { input: 3, output: 15 })).toBe(13.5);
    expect(costOf({ input: 1, output: 1 }, undefined)).toBeNull();
  });

  it("counts a turn as progress when it changed a file or passed more tests than ever", () => {
    const before = stats((s) => {
      s.progress = { idleTurns: 2, bestPassed: 5 };
      s.tests.runs = 1;
    });
    const idle = progressAfterTurn(before, before);
    expect(idle).toEqual({ idleTurns: 3, bestPassed: 5 });
    const wrote = stats((s) => {
      s.files.written = 1;
      s.progress = before.progress;
      s.tests.runs = 1;
    });
    expect(progressAfterTurn(before, wrote)).toEqual({ idleTurns: 0, bestPassed: 5 });
    const deleted = stats((s) => {
      s.files.deleted = 1;
      s.tests.runs = 1;
    });
    expect(progressAfterTurn(before, deleted).idleTurns).toBe(0);
    const passedSame = stats((s) => {
      s.tests.runs = 2;
      s.tests.last = { passed: 5, failed: 1, skipped: 0 };
    });
    expect(progressAfterTurn(before, passedSame)).toEqual({ idleTurns: 3, bestPassed: 5 });
    const passedMore = stats((s) => {
      s.tests.runs = 2;
      s.tests.last = { passed: 6, failed: 0, skipped: 0 };
    });
    expect(progressAfterTurn(before, passedMore)).toEqual({ idleTurns: 0, bestPassed: 6 });
    // A turn that ran no tests keeps the last run's counts, which are not this turn's.
    const noRun = stats((s) => {
      s.tests.runs = 1;
      s.tests.last = { passed: 9, failed: 0, skipped: 0 };
    });
    expect(progressAfterTurn(before, noRun)).toEqual({ idleTurns: 3, bestPassed: 5 });
  });

  it("names the first budget spent: tokens, cost, deadline, then progress", () => {
    const budget: RunBudget = {
      maxTokens: 100,
      maxCostUsd: 1,
      prices: { input: 1_000_000, output: 0 },
      deadlineMs: 60_000,
      noProgressTurns: 2,
      onExceeded: "fail",
    };
    const all = stats((s) => {
      s.tokens = { input: 100, output: 0 };
      s.progress.idleTurns = 2;
    });
    expect(spentBudget(budget, all, 60_000)?.code).toBe("RUN_BUDGET_EXCEEDED");
    expect(spentBudget({ ...budget, maxTokens: undefined }, all, 60_000)).toMatchObject({
      code: "RUN_BUDGET_EXCEEDED",
      message: "the run cost $100.0000 in tokens; its budget is $1",
    });
    expect(spentBudget({ ...budget, maxTokens: undefined, maxCostUsd: undefined }, all, 61_000)).toEqual({
      code: "RUN_DEADLINE_EXCEEDED",
      message: "the run has been going for 61 s; its deadline is 60 s after its start",
      retryable: false,
    });
    expect(spentBudget({ noProgressTurns: 2, deadlineMs: 60_000, onExceeded: "fail" }, all, null)?.code).toBe(
      "RUN_NO_PROGRESS",
    );
    expect(spentBudget({ ...budget, noProgressTurns: 3 }, stats(), 59_999)).toBeNull();
    expect(spentBudget(undefined, all, 1e12)).toBeNull();
  });

  it("lets a run lower its profile's limits, never raise them or price tokens itself", () => {
    const profile: RunBudget = { maxTokens: 1000, maxCostUsd: 5, prices: { input: 1, output: 2 }, onExceeded: "fail" };
    expect(narrowBudget(profile, { maxTokens: 500, deadlineMs: 1000 })).toEqual({
      budget: { maxTokens: 500, maxCostUsd: 5, prices: { input: 1, output: 2 }, deadlineMs: 1000, onExceeded: "fail" },
    });
    // Pausing would let each resume spend past the limit: only a profile that pauses lets a run pause.
    expect(narrowBudget(profile, { onExceeded: "pause" })).toEqual({
      field: "onExceeded",
      problem: 'may not turn the profile\'s "fail" into "pause"',
    });
    expect(narrowBudget({ ...profile, onExceeded: "pause" }, { onExceeded: "fail" })).toMatchObject({
      budget: { onExceeded: "fail" },
    });
    expect(narrowBudget(profile, { maxTokens: 1001 })).toEqual({
      field: "maxTokens",
      problem: "may only lower the profile's limit of 1000; got 1001",
    });
    expect(narrowBudget(undefined, { maxCostUsd: 1 })).toMatchObject({ field: "maxCostUsd" });
    expect(narrowBudget(undefined, { noProgressTurns: 4 })).toEqual({
      budget: { noProgressTurns: 4, onExceeded: "fail" },
    });
  });
});
