import { describe, expect, it } from "vitest";
import type { StepRecord } from "./durable.js";
import { type StepTimelineContext, stepTimeline } from "./step-timeline.js";
import type { OverseerEvent } from "./types.js";

let seq = 0;
function event(kind: string, at: string, data: Record<string, unknown>): OverseerEvent {
  seq += 1;
  return { seq, at, kind, jobId: "j", runId: null, workerId: null, data } as OverseerEvent;
}
const T = (s: number) => new Date(Date.UTC(2030, 0, 1, 0, 0, s)).toISOString();
const record = (
  name: string,
  resultJson: string,
  createdAt: string,
  kind: StepRecord["kind"] = "step",
): StepRecord => ({
  name,
  kind,
  resultJson,
  createdAt,
});
/** The job runs its first attempt, at T(100). */
const RUNNING: StepTimelineContext = { jobState: "running", jobAttempts: 1, now: Date.parse(T(100)) };
const at = (jobState: StepTimelineContext["jobState"], jobAttempts: number): StepTimelineContext => ({
  ...RUNNING,
  jobState,
  jobAttempts,
});

describe("stepTimeline", () => {
  it("is empty for a job without steps", () => {
    expect(stepTimeline([], [], RUNNING)).toEqual([]);
  });

  it("shows a completed step with its attempt, timing and result size", () => {
    const steps = stepTimeline(
      [
        event("step.started", T(1), { name: "fetch", attempt: 1 }),
        event("step.completed", T(3), { name: "fetch", attempt: 1, durationMs: 2_000, resultBytes: 11 }),
      ],
      [record("fetch", '{"rows":12}', T(3))],
      RUNNING,
    );
    expect(steps).toEqual([
      {
        name: "fetch",
        kind: "step",
        status: "completed",
        attempt: 1,
        starts: 1,
        startedAt: T(1),
        finishedAt: T(3),
        durationMs: 2_000,
        resultBytes: 11,
        error: null,
      },
    ]);
  });

  it("shows a step running, then failed with its error, then completed on a later attempt", () => {
    const started = event("step.started", T(1), { name: "apply", attempt: 1 });
    expect(stepTimeline([started], [], RUNNING)[0]).toMatchObject({ status: "running", attempt: 1, finishedAt: null });

    const failed = event("step.failed", T(2), {
      name: "apply",
      attempt: 1,
      durationMs: 900,
      error: { code: "ECONNRESET", message: "socket hang up" },
    });
    expect(stepTimeline([started, failed], [], at("scheduled", 1))[0]).toMatchObject({
      status: "failed",
      attempt: 1,
      starts: 1,
      durationMs: 900,
      error: { code: "ECONNRESET", message: "socket hang up" },
      resultBytes: null,
    });

    const again = [
      started,
      failed,
      event("step.started", T(10), { name: "apply", attempt: 2 }),
      event("step.completed", T(11), { name: "apply", attempt: 2, durationMs: 1_000 }),
    ];
    expect(stepTimeline(again, [record("apply", "true", T(11))], at("succeeded", 2))[0]).toMatchObject({
      status: "completed",
      attempt: 2,
      starts: 2,
      startedAt: T(10),
      finishedAt: T(11),
      durationMs: 1_000,
      error: null,
      resultBytes: 4,
    });
  });

  it.each<[string, StepTimelineContext, string]>([
    ["its attempt still runs", RUNNING, "running"],
    ["a later attempt runs", at("running", 2), "interrupted"],
    ["the job waits to run again", at("queued", 1), "interrupted"],
    ["the job is dead", at("dead", 1), "interrupted"],
  ])("a step begun and never ended is %s → %s", (_, context, status) => {
    const steps = stepTimeline([event("step.started", T(1), { name: "s", attempt: 1 })], [], context);
    expect(steps[0]?.status).toBe(status);
  });

  it("ignores an end from an execution older than the step's last start", () => {
    const steps = stepTimeline(
      [
        event("step.started", T(1), { name: "s", attempt: 1 }),
        event("step.started", T(5), { name: "s", attempt: 2 }),
        event("step.failed", T(6), { name: "s", attempt: 1, error: { code: "LATE", message: "old execution" } }),
      ],
      [],
      at("running", 2),
    );
    expect(steps[0]).toMatchObject({ status: "running", attempt: 2, starts: 2, error: null });
  });

  it("orders steps by when they began, records and events together; gate markers are left out", () => {
    const steps = stepTimeline(
      [
        event("step.started", T(1), { name: "a", attempt: 1 }),
        event("step.completed", T(2), { name: "a", attempt: 1, durationMs: 1_000 }),
        event("step.started", T(9), { name: "b", attempt: 1 }),
      ],
      [
        record("a", "1", T(2)),
        record("sleep#1", JSON.stringify(T(4)), T(3), "sleep"),
        record("gate:deploy#1", "true", T(5)),
        record("wait:approval#1", "null", T(6), "wait"),
        record("old", "0", T(0)),
      ],
      RUNNING,
    );
    expect(steps.map((s) => [s.name, s.kind, s.status])).toEqual([
      ["old", "step", "completed"],
      ["a", "step", "completed"],
      ["sleep#1", "sleep", "completed"],
      ["wait:approval#1", "wait", "completed"],
      ["b", "step", "running"],
    ]);
    expect(steps[2]).toMatchObject({ startedAt: T(3), finishedAt: T(4), attempt: null, starts: 0 });
  });

  it("shows a sleep whose wake time is ahead as waiting", () => {
    const sleeping = record("sleep#1", JSON.stringify(T(500)), T(50), "sleep");
    expect(stepTimeline([], [sleeping], at("scheduled", 1))[0]).toMatchObject({
      status: "waiting",
      startedAt: T(50),
      finishedAt: null,
    });
  });

  it("counts a stored step as completed even when its completed event is missing", () => {
    const steps = stepTimeline(
      [event("step.started", T(1), { name: "x", attempt: 3 })],
      [record("x", '"ok"', T(2))],
      at("succeeded", 3),
    );
    expect(steps[0]).toMatchObject({ status: "completed", attempt: 3, finishedAt: T(2), resultBytes: 4 });
  });

  it("ignores step events without a name and ends without a start", () => {
    const steps = stepTimeline(
      [event("step.started", T(1), {}), event("step.completed", T(2), { name: "never-started" })],
      [],
      RUNNING,
    );
    expect(steps).toEqual([]);
  });
});
