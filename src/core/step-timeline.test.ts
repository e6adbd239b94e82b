import { describe, expect, it } from "vitest";
import type { StepRecord } from "./durable.js";
import { stepTimeline } from "./step-timeline.js";
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

describe("stepTimeline", () => {
  it("is empty for a job without steps", () => {
    expect(stepTimeline([], [])).toEqual([]);
  });

  it("shows a completed step with its attempt, timing and result", () => {
    const steps = stepTimeline(
      [
        event("step.started", T(1), { name: "fetch", attempt: 1 }),
        event("step.completed", T(3), { name: "fetch", attempt: 1, durationMs: 2_000, resultBytes: 11 }),
      ],
      [record("fetch", '{"rows":12}', T(3))],
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
        result: { rows: 12 },
        error: null,
      },
    ]);
  });

  it("shows a step running, then failed with its error, then completed on a later attempt", () => {
    const started = event("step.started", T(1), { name: "apply", attempt: 1 });
    expect(stepTimeline([started], [])[0]).toMatchObject({ status: "running", attempt: 1, finishedAt: null });

    const failed = event("step.failed", T(2), {
      name: "apply",
      attempt: 1,
      durationMs: 900,
      error: { code: "ECONNRESET", message: "socket hang up" },
    });
    expect(stepTimeline([started, failed], [])[0]).toMatchObject({
      status: "failed",
      attempt: 1,
      starts: 1,
      durationMs: 900,
      error: { code: "ECONNRESET", message: "socket hang up" },
      result: null,
    });

    const again = [
      started,
      failed,
      event("step.started", T(10), { name: "apply", attempt: 2 }),
      event("step.completed", T(11), { name: "apply", attempt: 2, durationMs: 1_000 }),
    ];
    expect(stepTimeline(again, [record("apply", "true", T(11))])[0]).toMatchObject({
      status: "completed",
      attempt: 2,
      starts: 2,
      startedAt: T(10),
      finishedAt: T(11),
      durationMs: 1_000,
      error: null,
      result: true,
    });
  });

  it("keeps the order the steps began in, and adds sleeps, waits and older steps from their records", () => {
    const steps = stepTimeline(
      [
        event("step.started", T(5), { name: "b", attempt: 1 }),
        event("step.completed", T(6), { name: "b", attempt: 1, durationMs: 1_000 }),
        event("step.started", T(7), { name: "a", attempt: 1 }),
      ],
      [
        record("b", "2", T(6)),
        record("wait:approval#1", "null", T(4), "wait"),
        record("sleep#1", '"2030-01-01T00:00:02.000Z"', T(2), "sleep"),
      ],
    );
    expect(steps.map((s) => [s.name, s.kind, s.status])).toEqual([
      ["b", "step", "completed"],
      ["a", "step", "running"],
      ["sleep#1", "sleep", "completed"],
      ["wait:approval#1", "wait", "completed"],
    ]);
    expect(steps[2]).toMatchObject({ finishedAt: T(2), startedAt: null, attempt: null, starts: 0 });
  });

  it("counts a stored step as completed even when its completed event is missing", () => {
    const steps = stepTimeline([event("step.started", T(1), { name: "x", attempt: 3 })], [record("x", '"ok"', T(2))]);
    expect(steps[0]).toMatchObject({ status: "completed", attempt: 3, finishedAt: T(2), result: "ok", resultBytes: 4 });
  });

  it("ignores other events and step events without a name", () => {
    const steps = stepTimeline(
      [event("job.started", T(0), {}), event("step.started", T(1), {}), event("gate.decided", T(1), { name: "n" })],
      [],
    );
    expect(steps).toEqual([]);
  });
});
