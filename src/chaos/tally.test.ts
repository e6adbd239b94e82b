import { describe, expect, it } from "vitest";
import type { Attempt, Job } from "../core/types.js";
import type { LogLine } from "../test-support/execution-log.js";
import { tally } from "./tally.js";

const job = (id: string, state: Job["state"]): Job => ({ id, state }) as Job;
const attempt = (workerId: string, outcome: Attempt["outcome"]): Attempt => ({ workerId, outcome }) as Attempt;
const line = (what: LogLine["what"], jobId: string, at: number): LogLine => ({ what, jobId, at });

describe("chaos tally", () => {
  it("counts a clean crash: a rerun is counted, nothing is judged", () => {
    const result = tally(
      ["j1", "j2"],
      new Map([
        ["j1", job("j1", "succeeded")],
        ["j2", job("j2", "succeeded")],
      ]),
      new Map([
        ["j1", [attempt("wA", "lost"), attempt("wB", "succeeded")]],
        ["j2", [attempt("wA", "released"), attempt("wB", "succeeded")]],
      ]),
      [
        { name: "A", workerId: "wA", lines: [line("start", "j1", 10)], diedAt: 20 },
        {
          name: "B",
          workerId: "wB",
          lines: [line("start", "j1", 30), line("end", "j1", 40), line("start", "j2", 41), line("end", "j2", 42)],
          diedAt: 50,
        },
      ],
    );
    expect(result).toEqual({
      counts: { jobs: 2, lost: 0, ranTwice: 1, overlapping: 0, chargedNeverRan: 0 },
      problems: [],
    });
  });

  it("counts a lost job, an overlap and an attempt charged for a job that never ran", () => {
    const result = tally(
      ["j1", "j2", "j3"],
      new Map<string, Job | null>([
        ["j1", job("j1", "dead")],
        ["j2", job("j2", "succeeded")],
        ["j3", null],
      ]),
      new Map([
        ["j1", [attempt("wA", "lost")]],
        ["j2", [attempt("wA", "lost"), attempt("wB", "succeeded")]],
      ]),
      [
        { name: "A", workerId: "wA", lines: [line("start", "j2", 10)], diedAt: 100 },
        { name: "B", workerId: "wB", lines: [line("start", "j2", 50), line("end", "j2", 60)], diedAt: 200 },
      ],
    );
    expect(result.counts).toEqual({ jobs: 3, lost: 2, ranTwice: 1, overlapping: 1, chargedNeverRan: 1 });
    expect(result.problems).toEqual([
      "lost: job j1 is dead",
      "lost: job j3 is missing",
      "overlap: job j2: B started at 50 while A ran it until 100",
      "charged: job j1 was charged 1 attempt(s) by wA (lost) it never ran",
    ]);
  });
});
