import { describe, expect, it } from "vitest";
import { formatSummary, showSummary } from "./summary.js";

const counts = { queued: 3, running: 2, scheduled: 1, succeeded: 40, dead: 1, cancelled: 0 };

describe("the status line of overseer start", () => {
  it("shows only when stdout is a terminal and --no-summary was not given", () => {
    expect(showSummary(undefined, true)).toBe(true);
    expect(showSummary(true, true)).toBe(true);
    expect(showSummary(false, true)).toBe(false);
    expect(showSummary(true, false)).toBe(false);
    expect(showSummary(undefined, undefined)).toBe(false);
  });

  it("is one line without a newline, cut to the terminal's width so that it never wraps", () => {
    const at = Date.UTC(2026, 0, 2, 3, 4, 5);
    const line = formatSummary(at, counts, 12.4, 2);
    expect(line).toBe(
      "03:04:05  queued 3  running 2  scheduled 1  succeeded 40 (+12/s)  dead 1  cancelled 0  workers 2",
    );
    expect(formatSummary(at, counts, 12.4, 2, 40)).toBe(line.slice(0, 39));
    expect(formatSummary(at, counts, 12.4, 2, 500)).toBe(line);
  });
});
