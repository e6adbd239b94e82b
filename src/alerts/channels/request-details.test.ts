import { describe, expect, it } from "vitest";
import { requestBlocks, requestText, shellLine } from "./request-details.js";

describe("requestBlocks", () => {
  it("shows a command first, then one-line values as a list, then long and nested values as blocks", () => {
    const blocks = requestBlocks({
      repo: "acme/api",
      diff: "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b",
      command: ["gh", "pr", "merge", "42", "--squash"],
      retries: 3,
      dryRun: true,
      ticket: null,
      env: { REGION: "eu-1" },
      notes: "first line\nsecond line",
    });
    expect(blocks).toEqual([
      { kind: "code", label: "Command", language: "shell", text: "gh pr merge 42 --squash" },
      {
        kind: "fields",
        fields: [
          ["repo", "acme/api"],
          ["retries", "3"],
          ["dryRun", "true"],
          ["ticket", "null"],
        ],
      },
      { kind: "code", label: "Diff", language: "diff", text: "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b" },
      { kind: "code", label: "env", language: "json", text: '{\n  "REGION": "eu-1"\n}' },
      { kind: "code", label: "notes", language: "text", text: "first line\nsecond line" },
    ]);
  });

  it("takes `commands` as lines, a `patch` as a diff, and a string command as written", () => {
    expect(requestBlocks({ commands: ["make build", "make deploy"], patch: "+x", command: "rm -rf ./tmp" })).toEqual([
      { kind: "code", label: "Commands", language: "shell", text: "make build\nmake deploy" },
      { kind: "code", label: "Command", language: "shell", text: "rm -rf ./tmp" },
      { kind: "code", label: "Patch", language: "diff", text: "+x" },
    ]);
    // Not the conventional shapes: shown as data.
    expect(requestBlocks({ command: [1, 2] })).toEqual([
      { kind: "code", label: "command", language: "json", text: "[\n  1,\n  2\n]" },
    ]);
    expect(requestBlocks({ note: "x".repeat(121) })[0]).toMatchObject({ kind: "code", label: "note" });
  });

  it("shows a string as text, other values as JSON, and nothing for none", () => {
    expect(requestBlocks("Merge the release branch")).toEqual([{ kind: "text", text: "Merge the release branch" }]);
    expect(requestBlocks([1, "two"])).toEqual([
      { kind: "code", label: "Details", language: "json", text: '[\n  1,\n  "two"\n]' },
    ]);
    expect(requestBlocks(42)).toEqual([{ kind: "code", label: "Details", language: "json", text: "42" }]);
    for (const none of [null, undefined, "", "  ", {}]) expect(requestBlocks(none)).toEqual([]);
  });
});

describe("requestText", () => {
  it("writes each block's label, its text indented under it, and the list as key: value lines", () => {
    const text = requestText(requestBlocks({ command: "deploy --prod", cluster: "eu-1", diff: "-a\n+b" }));
    expect(text).toBe("Command:\n    deploy --prod\n\ncluster: eu-1\n\nDiff:\n    -a\n    +b");
  });
});

describe("shellLine", () => {
  it("quotes only the words that need it, so the line means what the argv did", () => {
    expect(shellLine(["git", "commit", "-m", "fix: it's done", "--author=Ana <a@b.c>", "a/b.c", ""])).toBe(
      `git commit -m 'fix: it'\\''s done' '--author=Ana <a@b.c>' a/b.c ''`,
    );
  });
});
