import { describe, expect, it } from "vitest";
import { boundedDiff, MAX_DIFF_CHARS, watchedChanges } from "./run-watch.js";

const reading = (entries: Array<[string, string | null]>) => new Map(entries);

describe("watched files", () => {
  it("reports a file created, changed or deleted in the turn, in watch order, and nothing for the rest", () => {
    const before = reading([
      ["agent-log.md", "turn 1\n"],
      ["new.md", null],
      ["gone.md", "bye\n"],
      ["same.md", "same\n"],
      ["never.md", null],
    ]);
    const after = reading([
      ["agent-log.md", "turn 1\nturn 2\n"],
      ["new.md", "hello\n"],
      ["gone.md", null],
      ["same.md", "same\n"],
      ["never.md", null],
    ]);
    expect(watchedChanges(before, after)).toEqual([
      { kind: "log_updated", path: "agent-log.md", diff: "@@ -1,1 +1,2 @@\n turn 1\n+turn 2" },
      { kind: "log_updated", path: "new.md", diff: "@@ -0,0 +1,1 @@\n+hello" },
      { kind: "file_deleted", path: "gone.md" },
    ]);
  });

  it("treats a file missing from the first reading as absent", () => {
    expect(watchedChanges(reading([]), reading([["a.md", "x\n"]]))).toEqual([
      { kind: "log_updated", path: "a.md", diff: "@@ -0,0 +1,1 @@\n+x" },
    ]);
  });

  it("cuts a long diff at a line's end and says so", () => {
    const after = Array.from({ length: 2_000 }, (_, i) => `line ${i}`).join("\n");
    const { diff, truncated } = boundedDiff("big.md", "", after);
    expect(truncated).toBe(true);
    expect(diff.length).toBeLessThanOrEqual(MAX_DIFF_CHARS);
    expect(diff.endsWith("\n")).toBe(false);
    expect(diff.split("\n").at(-1)).toMatch(/^\+line \d+$/);
    const [event] = watchedChanges(reading([["big.md", ""]]), reading([["big.md", after]]));
    expect(event).toMatchObject({ kind: "log_updated", diffTruncated: true });
  });
});
