import { describe, expect, it } from "vitest";
import { emptyRunStats, type RunStats } from "./run.js";
import { applyTelemetry } from "./run-stats.js";
import type { TelemetryEvent } from "./run-telemetry.js";

const base = (): RunStats => ({
  ...emptyRunStats(),
  turns: 2,
  tokens: { input: 10, output: 5 },
  files: { read: 1, written: 2, deleted: 3 },
  tests: { runs: 1, passed: 4, failed: 1, skipped: 0, last: { passed: 4, failed: 1, skipped: 0 } },
  outputBytes: 99,
});

describe("applyTelemetry", () => {
  const cases: Array<[string, TelemetryEvent, (s: RunStats) => void]> = [
    [
      "file_read counts a read",
      { kind: "file_read", path: "a" },
      (s) => expect(s.files).toEqual({ read: 2, written: 2, deleted: 3 }),
    ],
    [
      "file_written counts a write",
      { kind: "file_written", path: "a" },
      (s) => expect(s.files).toEqual({ read: 1, written: 3, deleted: 3 }),
    ],
    [
      "file_deleted counts a delete",
      { kind: "file_deleted", path: "a" },
      (s) => expect(s.files).toEqual({ read: 1, written: 2, deleted: 4 }),
    ],
    [
      "token_usage sums both counts",
      { kind: "token_usage", input: 7, output: 3 },
      (s) => expect(s.tokens).toEqual({ input: 17, output: 8 }),
    ],
    [
      "test_run_completed adds to the totals and becomes the last run",
      { kind: "test_run_completed", passed: 2, failed: 0, skipped: 5 },
      (s) =>
        expect(s.tests).toEqual({
          runs: 2,
          passed: 6,
          failed: 1,
          skipped: 5,
          last: { passed: 2, failed: 0, skipped: 5 },
        }),
    ],
  ];
  it.each(cases)("%s", (_name, event, check) => {
    const before = base();
    const after = applyTelemetry(before, event);
    check(after);
    expect(before).toEqual(base());
    // Nothing else moves.
    expect(after.turns).toBe(2);
    expect(after.outputBytes).toBe(99);
  });

  const inert: TelemetryEvent[] = [
    { kind: "test_run_started" },
    { kind: "log_updated", path: "build.log", tail: "ok" },
    { kind: "progress", value: 0.5, message: "half" },
    { kind: "custom.mood", data: { level: "fine" } },
  ];
  it.each(inert)("$kind changes nothing", (event) => {
    const before = base();
    expect(applyTelemetry(before, event)).toBe(before);
  });

  it("folds a turn's telemetry from empty stats", () => {
    const events: TelemetryEvent[] = [
      { kind: "token_usage", input: 100, output: 20 },
      { kind: "token_usage", input: 50, output: 5 },
      { kind: "file_written", path: "x" },
      { kind: "test_run_started" },
      { kind: "test_run_completed", passed: 3, failed: 1, skipped: 2 },
      { kind: "test_run_completed", passed: 4, failed: 0, skipped: 0 },
    ];
    expect(events.reduce(applyTelemetry, emptyRunStats())).toEqual({
      ...emptyRunStats(),
      tokens: { input: 150, output: 25 },
      files: { read: 0, written: 1, deleted: 0 },
      tests: { runs: 2, passed: 7, failed: 1, skipped: 2, last: { passed: 4, failed: 0, skipped: 0 } },
    });
  });
});
