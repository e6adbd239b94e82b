/** The execution mode's rules as tables: every combination, since a wrong cell would run a command nobody meant to run. */
import { describe, expect, it } from "vitest";
import {
  approvedExecution,
  checkExecutionChange,
  EXECUTION_MODES,
  executionState,
  parseExecutionMode,
} from "./execution.js";

describe("execution mode", () => {
  it("an approved action may run only when asked in enabled mode, not a test item, and enabled now", () => {
    for (const asked of EXECUTION_MODES) {
      for (const test of [false, true]) {
        for (const now of EXECUTION_MODES) {
          const expected = asked === "enabled" && !test && now === "enabled" ? "enabled" : "dry-run";
          expect(approvedExecution({ execution: asked, test }, now), `${asked}/${test}/${now}`).toBe(expected);
        }
      }
    }
  });

  it("parses a mode and refuses anything else naming the field", () => {
    expect(parseExecutionMode("enabled", "mode")).toBe("enabled");
    for (const bad of ["on", "ENABLED", "", null, true, 1]) {
      expect(() => parseExecutionMode(bad, "execution")).toThrow('execution must be "dry-run" or "enabled"');
    }
  });

  it("checks a change: who, and a reason of at most 500 characters, blank meaning none", () => {
    expect(checkExecutionChange({ mode: "enabled", by: "root", reason: "  go  " })).toEqual({
      mode: "enabled",
      by: "root",
      reason: "go",
    });
    expect(checkExecutionChange({ mode: "dry-run", by: "root", reason: "   " }).reason).toBeNull();
    expect(() => checkExecutionChange({ mode: "enabled", by: "", reason: null })).toThrow(/by must name/);
    expect(() => checkExecutionChange({ mode: "enabled", by: "root", reason: "x".repeat(501) })).toThrow(
      /reason must be at most 500/,
    );
  });

  it("the state of a switch never set is the config's, at version 0", () => {
    expect(executionState(null, "enabled")).toEqual({
      mode: "enabled",
      source: "config",
      changedBy: null,
      changedAt: null,
      reason: null,
      version: 0,
    });
    const stored = {
      mode: "dry-run" as const,
      changedBy: "ana",
      changedAt: "2030-01-01T00:00:00.000Z",
      reason: null,
      version: 3,
    };
    expect(executionState(stored, "enabled")).toEqual({ ...stored, source: "switch" });
  });
});
