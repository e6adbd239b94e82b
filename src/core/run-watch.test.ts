import { describe, expect, it } from "vitest";
import { boundedDiff, MAX_DIFF_CHARS, type WatchedWindow, watchedChanges } from "./run-watch.js";

/** A window of a file: the whole file unless told where it starts and how big the file is. */
const w = (text: string, start = 0, size = start + Buffer.byteLength(text)): WatchedWindow => ({ text, start, size });
const reading = (entries: Array<[string, WatchedWindow | null]>) => new Map(entries);

describe("watched files", () => {
  it("reports a file appended to, created, rewritten or deleted in the turn, in watch order, and nothing for the rest", () => {
    const before = reading([
      ["agent-log.md", w("turn 1\n")],
      ["new.md", null],
      ["plan.md", w("a\nb\nc\n")],
      ["gone.md", w("bye\n")],
      ["same.md", w("same\n")],
      ["never.md", null],
    ]);
    const after = reading([
      ["agent-log.md", w("turn 1\nturn 2\n")],
      ["new.md", w("hello\n")],
      ["plan.md", w("a\nB\nc\n")],
      ["gone.md", null],
      ["same.md", w("same\n")],
      ["never.md", null],
    ]);
    expect(watchedChanges(before, after)).toEqual([
      { kind: "log_updated", path: "agent-log.md", diff: "@@ -1,1 +1,2 @@\n turn 1\n+turn 2" },
      { kind: "log_updated", path: "new.md", diff: "@@ -0,0 +1,1 @@\n+hello" },
      { kind: "log_updated", path: "plan.md", diff: "@@ -1,3 +1,3 @@\n a\n-b\n+B\n c" },
      { kind: "file_deleted", path: "gone.md" },
    ]);
  });

  it("reports only the lines appended to a large log, from its window, and says when it read only part of the growth", () => {
    const old = `${"x".repeat(100)}\n`;
    const before = reading([["log.md", w(old, 300_000, 300_101)]]);
    const grown = reading([["log.md", w(`${old}one\ntwo\n`, 300_000, 300_109)]]);
    expect(watchedChanges(before, grown)).toEqual([
      { kind: "log_updated", path: "log.md", diff: `@@ -1,1 +1,3 @@\n ${"x".repeat(100)}\n+one\n+two` },
    ]);
    // More grew than was read: the diff says so.
    const more = reading([["log.md", w(`${old}one\n`, 300_000, 900_000)]]);
    expect(watchedChanges(before, more)).toEqual([
      { kind: "log_updated", path: "log.md", diff: `@@ -1,1 +1,2 @@\n ${"x".repeat(100)}\n+one`, diffTruncated: true },
    ]);
  });

  it("treats a file missing from the first reading as absent, and a last line continued as a change", () => {
    expect(watchedChanges(reading([]), reading([["a.md", w("x\n")]]))).toEqual([
      { kind: "log_updated", path: "a.md", diff: "@@ -0,0 +1,1 @@\n+x" },
    ]);
    expect(watchedChanges(reading([["a.md", w("ab")]]), reading([["a.md", w("abc\n")]]))).toEqual([
      { kind: "log_updated", path: "a.md", diff: "@@ -1,1 +1,1 @@\n-ab\n\\ No newline at end of file\n+abc" },
    ]);
  });

  it("cuts a long diff at a line's end and says so", () => {
    const added = Array.from({ length: 2_000 }, (_, i) => `line ${i}`).join("\n");
    const [event] = watchedChanges(reading([["big.md", w("")]]), reading([["big.md", w(`${added}\n`)]]));
    expect(event).toMatchObject({ kind: "log_updated", diffTruncated: true });
    const diff = (event as { diff: string }).diff;
    expect(diff.length).toBeLessThanOrEqual(MAX_DIFF_CHARS);
    expect(diff.split("\n").at(-1)).toMatch(/^\+line \d+$/);
  });

  it("gives up on a rewrite too different to diff cheaply, saying how the size changed", () => {
    const one = Array.from({ length: 20_000 }, (_, i) => `a${i}`).join("\n");
    const two = Array.from({ length: 20_000 }, (_, i) => `b${i}`).join("\n");
    expect(boundedDiff("f", one, two)).toBeNull();
    const [event] = watchedChanges(reading([["f", w(one)]]), reading([["f", w(two)]]));
    expect(event).toEqual({
      kind: "log_updated",
      path: "f",
      diff: `(rewritten: ${Buffer.byteLength(one)} bytes before, ${Buffer.byteLength(two)} after; too different to diff)`,
      diffTruncated: true,
    });
  });
});
