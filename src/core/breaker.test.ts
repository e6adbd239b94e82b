import { describe, expect, it } from "vitest";
import {
  BREAKER_DEFAULTS,
  BREAKER_STATES,
  type BreakerEvent,
  type BreakerState,
  nextBreakerState,
  OutcomeWindow,
  parseBreaker,
  probeVerdict,
  shouldTrip,
} from "./breaker.js";
import { OverseerError } from "./errors.js";
import { JOB_STATES } from "./types.js";

const refusal = (value: unknown, code = "INVALID_ARGUMENT"): string => {
  try {
    parseBreaker(value, "breakers.calls");
  } catch (err) {
    expect(err).toBeInstanceOf(OverseerError);
    expect((err as OverseerError).code).toBe(code);
    return `${(err as OverseerError).details.field}: ${(err as Error).message}`;
  }
  throw new Error("expected a refusal");
};

describe("parseBreaker", () => {
  it("fills in the defaults and reads durations", () => {
    expect(parseBreaker({}, "b")).toEqual({ ...BREAKER_DEFAULTS, divertTo: null, ignoreErrors: new Set() });
    expect(
      parseBreaker(
        {
          failureRate: 1,
          minAttempts: 1,
          window: "5m",
          cooldown: 2_000,
          divertTo: "sms",
          ignoreErrors: ["NOT_ANSWERED"],
        },
        "b",
      ),
    ).toEqual({
      failureRate: 1,
      minAttempts: 1,
      windowMs: 300_000,
      cooldownMs: 2_000,
      divertTo: "sms",
      ignoreErrors: new Set(["NOT_ANSWERED"]),
    });
    expect(parseBreaker({ divertTo: { task: "sms", queue: "texts", priority: "high" } }, "b").divertTo).toEqual({
      task: "sms",
      queue: "texts",
      priority: "high",
    });
  });

  it("refuses every malformed option, naming its field", () => {
    expect(refusal(null)).toBe("breakers.calls: breakers.calls must be an object; got null");
    expect(refusal([])).toMatch(/^breakers\.calls: .* must be an object/);
    expect(refusal({ threshold: 0.5 })).toBe(
      "breakers.calls.threshold: breakers.calls.threshold is not a breaker option",
    );
    for (const rate of [0, -0.1, 1.01, "50%", Number.NaN]) {
      expect(refusal({ failureRate: rate })).toMatch(/^breakers\.calls\.failureRate: .* above 0 and at most 1/);
    }
    for (const min of [0, 1.5, "10", 2_000_000]) {
      expect(refusal({ minAttempts: min })).toMatch(/^breakers\.calls\.minAttempts: .* whole number from 1/);
    }
    expect(refusal({ window: "soon" })).toMatch(/^breakers\.calls\.window: /);
    expect(refusal({ window: true })).toMatch(/^breakers\.calls\.window: .* a duration/);
    expect(refusal({ cooldown: "500ms" })).toMatch(/^breakers\.calls\.cooldown: .* from 1s to 7d/);
    expect(refusal({ cooldown: "8d" })).toMatch(/^breakers\.calls\.cooldown: .* from 1s to 7d/);
    expect(refusal({ divertTo: "bad name" }, "INVALID_TASK_NAME")).toMatch(/^breakers\.calls\.divertTo: /);
    expect(refusal({ divertTo: 7 })).toMatch(/^breakers\.calls\.divertTo: /);
    for (const ignore of ["NOT_ANSWERED", [""], [7], Array(101).fill("E")]) {
      expect(refusal({ ignoreErrors: ignore })).toMatch(/^breakers\.calls\.ignoreErrors: .* at most 100 error codes/);
    }
  });
});

describe("OutcomeWindow", () => {
  it("counts the attempts of the last window, a twelfth at a time", () => {
    const window = new OutcomeWindow(12_000);
    window.record(0, true);
    window.record(500, false);
    window.record(5_999, true);
    expect(window.counts(6_000)).toEqual({ attempts: 3, failures: 2 });
    // At 12 s the first bucket [0, 1 s) has left the window; [5 s, 6 s) stays until 17 s.
    expect(window.counts(11_999)).toEqual({ attempts: 3, failures: 2 });
    expect(window.counts(12_000)).toEqual({ attempts: 1, failures: 1 });
    expect(window.counts(16_999)).toEqual({ attempts: 1, failures: 1 });
    expect(window.counts(17_000)).toEqual({ attempts: 0, failures: 0 });
  });

  it("reuses a bucket for a later time, forgetting what it held", () => {
    const window = new OutcomeWindow(12_000);
    window.record(0, true);
    window.record(12_000, false);
    expect(window.counts(12_000)).toEqual({ attempts: 1, failures: 0 });
  });

  it("forgets everything when cleared", () => {
    const window = new OutcomeWindow(60_000);
    for (let t = 0; t < 10; t++) window.record(t * 1_000, true);
    window.clear();
    expect(window.counts(10_000)).toEqual({ attempts: 0, failures: 0 });
  });
});

describe("shouldTrip", () => {
  const policy = parseBreaker({ failureRate: 0.5, minAttempts: 4 }, "b");
  it("trips at the rate once the window holds enough attempts", () => {
    expect(shouldTrip(policy, { attempts: 3, failures: 3 })).toBe(false);
    expect(shouldTrip(policy, { attempts: 4, failures: 1 })).toBe(false);
    expect(shouldTrip(policy, { attempts: 4, failures: 2 })).toBe(true);
    expect(shouldTrip(policy, { attempts: 10, failures: 4 })).toBe(false);
  });
});

describe("nextBreakerState", () => {
  const expected: Record<BreakerState, Record<BreakerEvent, BreakerState | null>> = {
    closed: { trip: "open", cooled: null, probe_ok: null, probe_failed: null, reset: null },
    open: { trip: null, cooled: "half_open", probe_ok: null, probe_failed: null, reset: "closed" },
    half_open: { trip: null, cooled: null, probe_ok: "closed", probe_failed: "open", reset: "closed" },
  };
  for (const state of BREAKER_STATES) {
    for (const [event, next] of Object.entries(expected[state]) as [BreakerEvent, BreakerState | null][]) {
      it(`${state} + ${event} → ${next ?? "refused"}`, () => {
        expect(nextBreakerState(state, event)).toBe(next);
      });
    }
  }
});

describe("probeVerdict", () => {
  it("reads every job state", () => {
    // Per state, the probe picked at token 2: no attempt since; then one that failed, was lost,
    // parked, or was handed back unrun.
    const later = (outcome: "failed" | "lost" | "parked" | "released") => ({ number: 3, outcome });
    const verdicts = Object.fromEntries(
      JOB_STATES.map((state) => [
        state,
        [
          probeVerdict({ state, lastAttempt: { number: 2, outcome: "failed" } }, 2),
          probeVerdict({ state, lastAttempt: later("failed") }, 2),
          probeVerdict({ state, lastAttempt: later("lost") }, 2),
          probeVerdict({ state, lastAttempt: later("parked") }, 2),
          probeVerdict({ state, lastAttempt: later("released") }, 2),
        ],
      ]),
    );
    expect(verdicts).toEqual({
      scheduled: ["pending", "failed", "failed", "ok", "pending"],
      queued: ["pending", "failed", "failed", "ok", "pending"],
      running: ["pending", "pending", "pending", "pending", "pending"],
      awaiting_approval: ["gone", "gone", "gone", "gone", "gone"],
      succeeded: ["ok", "ok", "ok", "ok", "ok"],
      dead: ["failed", "failed", "failed", "failed", "failed"],
      cancelled: ["gone", "gone", "gone", "gone", "gone"],
    });
    expect(probeVerdict({ state: "queued", lastAttempt: null }, 0)).toBe("pending");
    expect(probeVerdict(null, 0)).toBe("gone");
  });
});
