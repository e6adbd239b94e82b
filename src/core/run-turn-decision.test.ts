import { describe, expect, it } from "vitest";
import { RUN_STATES, type RunState } from "./run-state.js";
import { decideAfterTurn, type TurnDecision, type TurnEnd } from "./run-turn-decision.js";

const SPEC = {
  maxTurns: 5,
  turnTimeoutMs: 1_000,
  completion: { stopFile: ".stop", pattern: "DONE", exitCode: 3 },
  onTurnFailure: "fail" as const,
};

const clean: TurnEnd = {
  turn: 2,
  exitCode: 0,
  signal: null,
  spawnError: null,
  timedOut: false,
  patternLine: null,
  stopFile: null,
};

const kind = (d: TurnDecision) => (d.transition === "fail" ? `fail ${d.error.code}` : String(d.transition));

describe("decideAfterTurn", () => {
  it.each<[string, Partial<TurnEnd>, RunState, string]>([
    ["a clean turn continues", {}, "running", "null"],
    ["a pause asked for during the turn lands at its end", {}, "pausing", "pausedAtTurnEnd"],
    ["a cancel wins over everything", { patternLine: "DONE", spawnError: "ENOENT" }, "cancelling", "cancelled"],
    ["a frozen turn that died leaves a paused run paused", { signal: "SIGKILL" }, "paused", "null"],
    [
      "a command that cannot start fails the run",
      { spawnError: "ENOENT", exitCode: null },
      "running",
      "fail RUN_SPAWN_FAILED",
    ],
    ["the output pattern completes", { patternLine: "ALL DONE" }, "running", "complete"],
    ["the stop file completes", { stopFile: ".stop" }, "running", "complete"],
    ["the exit code completes", { exitCode: 3 }, "running", "complete"],
    [
      "completion wins over a timeout",
      { patternLine: "DONE", timedOut: true, signal: "SIGTERM" },
      "running",
      "complete",
    ],
    ["completion wins over the last turn", { turn: 5, stopFile: ".stop" }, "running", "complete"],
    ["completion wins over a pending pause", { patternLine: "DONE" }, "pausing", "complete"],
    [
      "a timeout fails the run",
      { timedOut: true, exitCode: null, signal: "SIGTERM" },
      "running",
      "fail RUN_TURN_TIMEOUT",
    ],
    ["a non-zero exit fails the run", { exitCode: 1 }, "running", "fail RUN_TURN_FAILED"],
    ["a signal fails the run", { exitCode: null, signal: "SIGSEGV" }, "running", "fail RUN_TURN_FAILED"],
    ["the last turn without completion fails the run", { turn: 5 }, "running", "fail RUN_MAX_TURNS"],
    ["the last turn fails even with a pause pending", { turn: 5 }, "pausing", "fail RUN_MAX_TURNS"],
    ["a turn that asked waits for the answer", { asked: true }, "running", "ask"],
    ["asking wins over a pending pause", { asked: true }, "pausing", "ask"],
    ["a failed turn fails the run rather than ask", { asked: true, exitCode: 1 }, "running", "fail RUN_TURN_FAILED"],
    ["completion wins over asking", { asked: true, stopFile: ".stop" }, "running", "complete"],
    [
      "the last turn fails rather than wait for an answer no turn could use",
      { asked: true, turn: 5 },
      "running",
      "fail RUN_MAX_TURNS",
    ],
    ["a cancel wins over asking", { asked: true }, "cancelling", "cancelled"],
  ])("%s", (_name, end, state, expected) => {
    expect(kind(decideAfterTurn(state, { ...clean, ...end }, SPEC))).toBe(expected);
  });

  it("records what completed the run", () => {
    expect(decideAfterTurn("running", { ...clean, patternLine: "ALL DONE" }, SPEC)).toEqual({
      transition: "complete",
      completion: { detected: "pattern", line: "ALL DONE", turn: 2 },
    });
    expect(decideAfterTurn("running", { ...clean, stopFile: ".stop" }, SPEC)).toEqual({
      transition: "complete",
      completion: { detected: "stop_file", line: ".stop", turn: 2 },
    });
    expect(decideAfterTurn("running", { ...clean, exitCode: 3 }, SPEC)).toEqual({
      transition: "complete",
      completion: { detected: "exit_code", line: "exit code 3", turn: 2 },
    });
  });

  it("says which failures are worth retrying", () => {
    const retryable = (end: Partial<TurnEnd>) => {
      const d = decideAfterTurn("running", { ...clean, ...end }, SPEC);
      return d.transition === "fail" ? d.error.retryable : null;
    };
    expect(retryable({ spawnError: "ENOENT" })).toBe(false);
    expect(retryable({ timedOut: true })).toBe(true);
    expect(retryable({ exitCode: 2 })).toBe(true);
    expect(retryable({ turn: 5 })).toBe(false);
  });

  it("continues after a failed turn when the profile says so", () => {
    const spec = { ...SPEC, onTurnFailure: "continue" as const };
    expect(decideAfterTurn("running", { ...clean, exitCode: 1 }, spec)).toEqual({ transition: null });
    expect(kind(decideAfterTurn("running", { ...clean, exitCode: 1, turn: 5 }, spec))).toBe("fail RUN_MAX_TURNS");
  });

  it("a zero exit is not completion unless the rule says exit code 0", () => {
    const spec = { ...SPEC, completion: { exitCode: 0 } };
    expect(kind(decideAfterTurn("running", clean, spec))).toBe("complete");
    expect(kind(decideAfterTurn("running", clean, { ...SPEC, completion: { pattern: "x" } }))).toBe("null");
  });

  it("only running and pausing runs move on from a turn's end (besides a cancel)", () => {
    for (const state of RUN_STATES) {
      const d = decideAfterTurn(state, { ...clean, patternLine: "DONE" }, SPEC);
      const expected =
        state === "cancelling" ? "cancelled" : state === "running" || state === "pausing" ? "complete" : "null";
      expect(kind(d), state).toBe(expected);
    }
  });

  it("asks after a failed turn when the profile continues after failed turns", () => {
    const continuing = { ...SPEC, onTurnFailure: "continue" as const };
    expect(kind(decideAfterTurn("running", { ...clean, asked: true, exitCode: 1 }, continuing))).toBe("ask");
    expect(kind(decideAfterTurn("running", { ...clean, exitCode: 1 }, continuing))).toBe("null");
  });

  it("a spent budget fails or pauses the run, after completion and the turn's own failure, before max turns", () => {
    const spent = { code: "RUN_BUDGET_EXCEEDED" as const, message: "spent", retryable: false as const };
    const failing = { ...SPEC, budget: { maxTokens: 1, onExceeded: "fail" as const } };
    const pausing = { ...SPEC, budget: { maxTokens: 1, onExceeded: "pause" as const } };
    expect(decideAfterTurn("running", clean, failing, spent)).toEqual({ transition: "fail", error: spent });
    expect(decideAfterTurn("pausing", clean, pausing, spent)).toEqual({ transition: "budgetPaused", error: spent });
    expect(kind(decideAfterTurn("running", { ...clean, turn: 5 }, failing, spent))).toBe("fail RUN_BUDGET_EXCEEDED");
    expect(kind(decideAfterTurn("running", { ...clean, turn: 5 }, pausing, spent))).toBe("budgetPaused");
    expect(kind(decideAfterTurn("running", { ...clean, patternLine: "DONE" }, failing, spent))).toBe("complete");
    expect(kind(decideAfterTurn("running", { ...clean, exitCode: 1 }, failing, spent))).toBe("fail RUN_TURN_FAILED");
    expect(kind(decideAfterTurn("running", { ...clean, asked: true }, failing, spent))).toBe(
      "fail RUN_BUDGET_EXCEEDED",
    );
    expect(kind(decideAfterTurn("cancelling", clean, failing, spent))).toBe("cancelled");
    expect(kind(decideAfterTurn("running", clean, failing, null))).toBe("null");
  });
});
