import { describe, expect, it } from "vitest";
import { parseBackoff } from "../../core/job-options.js";
import { parseBackoffFlag } from "./enqueue.js";

describe("--backoff", () => {
  it.each([
    ["1m,5m,15m", { type: "schedule", delaysMs: [60_000, 300_000, 900_000], jitter: 0 }],
    [" 30s ", { type: "schedule", delaysMs: [30_000], jitter: 0 }],
    ["1m, 5m", { type: "schedule", delaysMs: [60_000, 300_000], jitter: 0 }],
    ["fixed:30s", { type: "fixed", delayMs: 30_000, jitter: 0 }],
    ["exponential", { type: "exponential", baseMs: 1_000, capMs: 3_600_000, jitter: 0.2 }],
    ["exponential:2s", { type: "exponential", baseMs: 2_000, capMs: 3_600_000, jitter: 0.2 }],
    ["exponential:2s:10m", { type: "exponential", baseMs: 2_000, capMs: 600_000, jitter: 0.2 }],
  ])("reads %j", (spec, policy) => {
    expect(parseBackoff(parseBackoffFlag(spec))).toEqual(policy);
  });

  it.each([
    ["", "--backoff must be"],
    ["fixed", "--backoff must be"],
    ["fixed:1s:2s", "--backoff must be"],
    ["exponential:1s:1h:2h", "--backoff must be"],
    ["linear:1s", "--backoff must be"],
    ["1m,soon", "backoff[1] must be a duration"],
    ["1m,,5m", "backoff[1] must be a duration"],
    ["fixed:soon", "backoff.delay must be a duration"],
  ])("refuses %j with INVALID_ARGUMENT", (spec, message) => {
    let err: unknown;
    try {
      parseBackoff(parseBackoffFlag(spec));
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: "INVALID_ARGUMENT" });
    expect((err as Error).message).toContain(message);
  });
});
