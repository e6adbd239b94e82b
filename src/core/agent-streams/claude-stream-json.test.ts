/**
 * The Claude Code adapter over a recorded-style session and over single lines. Where the format
 * comes from: the sample (samples/claude-stream-json.jsonl) was written by hand to match
 * `claude -p --output-format stream-json --verbose` as Anthropic documents it (the Agent SDK's
 * message types: system/init, assistant, user, result; the cost-tracking guide: one API call
 * printed as several assistant lines that share the message id and repeat the same usage, the
 * result's usage being the session's cumulative total) and as published transcripts show it. No
 * model was called to make it. One turn: init, a file read, two files edited, tests run and
 * failing, a fix, tests passing, the result with usage.
 */
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { replayLines, tokenTotals } from "../../test-support/agent-streams.js";
import type { TelemetryEvent } from "../run-telemetry.js";
import { MAX_PATH_CHARS } from "../run-telemetry.js";
import { ClaudeStreamJson } from "./claude-stream-json.js";

const SAMPLE = readFileSync(new URL("./samples/claude-stream-json.jsonl", import.meta.url), "utf8");
const ROOT = "/workspace/calc";

const replay = (lines: string[]) => replayLines(new ClaudeStreamJson(), lines);
const tokens = tokenTotals;

const assistant = (id: string | undefined, usage: unknown, content: unknown[] = [{ type: "text", text: "hi" }]) =>
  JSON.stringify({ type: "assistant", message: { ...(id === undefined ? {} : { id }), content, usage } });
const usage = (input: number, output: number, cacheRead = 0, cacheCreation = 0) => ({
  input_tokens: input,
  output_tokens: output,
  cache_read_input_tokens: cacheRead,
  cache_creation_input_tokens: cacheCreation,
});
const result = (u: unknown) => JSON.stringify({ type: "result", subtype: "success", num_turns: 1, usage: u });
const toolUse = (id: string, name: string, input: unknown) =>
  assistant(`m-${id}`, undefined, [{ type: "tool_use", id, name, input }]);
const toolResult = (id: string, content: unknown, isError = false) =>
  JSON.stringify({
    type: "user",
    message: {
      role: "user",
      content: [{ type: "tool_result", tool_use_id: id, content, ...(isError ? { is_error: true } : {}) }],
    },
  });

describe("claude-stream-json over the sample session", () => {
  const lines = SAMPLE.trimEnd().split("\n");
  const { events, text, passed } = replay(lines);
  const final = JSON.parse(lines.at(-1)!).usage;

  it("counts each message id once: the totals are exactly the result's usage", () => {
    const exact = {
      input: final.input_tokens + final.cache_creation_input_tokens + final.cache_read_input_tokens,
      output: final.output_tokens,
    };
    expect(exact).toEqual({ input: 115_514, output: 1_134 });
    expect(tokens(events)).toEqual(exact);
    // Summing every assistant line instead would count three messages twice.
    const naive = lines
      .map((l) => JSON.parse(l))
      .filter((o) => o.type === "assistant")
      .reduce(
        (t, o) => {
          const u = o.message.usage;
          return {
            input: t.input + u.input_tokens + u.cache_creation_input_tokens + u.cache_read_input_tokens,
            output: t.output + u.output_tokens,
          };
        },
        { input: 0, output: 0 },
      );
    expect(naive).toEqual({ input: 177_292, output: 1_701 });
    // The stream already held the whole total: the result line had nothing to add.
    const last = new ClaudeStreamJson();
    for (const line of lines.slice(0, -1)) last.parseLine(line);
    expect(last.parseLine(lines.at(-1)!)?.events).toEqual([]);
  });

  it("reports the file read and the files written, in order", () => {
    expect(events.filter((e) => e.kind.startsWith("file_"))).toEqual([
      { kind: "file_read", path: `${ROOT}/src/parser.ts` },
      { kind: "file_written", path: `${ROOT}/src/parser.ts` },
      { kind: "file_written", path: `${ROOT}/src/parser.test.ts` },
      { kind: "file_written", path: `${ROOT}/src/parser.ts` },
    ]);
  });

  it("reports both test runs with their counts", () => {
    expect(events.filter((e) => e.kind.startsWith("test_run"))).toEqual([
      { kind: "test_run_started" },
      { kind: "test_run_completed", passed: 12, failed: 1, skipped: 0 },
      { kind: "test_run_started" },
      { kind: "test_run_completed", passed: 13, failed: 0, skipped: 0 },
    ]);
  });

  it("stores readable text in place of the JSON, and passes no line through", () => {
    expect(passed).toEqual([]);
    expect(text).not.toContain('"type"');
    expect(text.split("\n").slice(0, 3)).toEqual([
      "session 6b0d7c1e-3f2a-4c55-9a47-1d2e8f90ab13: claude-sonnet-4-5-20250929, 17 tools",
      "I'll start by reading the parser to see how numbers are recognised.",
      `→ Read ${ROOT}/src/parser.ts`,
    ]);
    expect(text).toContain(`→ Edit ${ROOT}/src/parser.test.ts`);
    expect(text).toContain("Now let me run the tests.\n$ npm test\nExit code 1");
    expect(text).toContain("      Tests  1 failed | 12 passed (13)");
    expect(text).toContain("All 13 tests pass.");
    expect(text.endsWith("done (success): 8 turns, $0.0738")).toBe(true);
    // The file read is not copied into the output; the thinking block is not stored.
    expect(text).not.toContain("export function parse");
    expect(text).not.toContain("Read the parser first");
  });
});

describe("claude-stream-json tokens", () => {
  it.each<[string, string[], { input: number; output: number }]>([
    [
      "one id on several lines counts once",
      [assistant("a", usage(10, 5)), assistant("a", usage(10, 5))],
      {
        input: 10,
        output: 5,
      },
    ],
    ["cache reads and writes are input", [assistant("a", usage(3, 7, 1_000, 200))], { input: 1_203, output: 7 }],
    [
      "a later line of the same id with more output adds only the difference",
      [assistant("a", usage(10, 1)), assistant("a", usage(10, 40))],
      { input: 10, output: 40 },
    ],
    [
      "the result tops placeholder output up to its total",
      [assistant("a", usage(10, 1)), assistant("b", usage(20, 1)), result(usage(30, 90))],
      { input: 30, output: 90 },
    ],
    [
      "a result below the streamed counts takes nothing back",
      [assistant("a", usage(10, 5)), assistant("b", usage(20, 5)), result(usage(20, 4))],
      { input: 30, output: 10 },
    ],
    [
      "a turn stopped before its result keeps what it streamed",
      [assistant("a", usage(10, 5)), assistant("b", usage(20, 6))],
      { input: 30, output: 11 },
    ],
    ["a result alone counts in full", [result(usage(7, 3, 100))], { input: 107, output: 3 }],
    [
      "lines without an id cannot be told apart, so each counts",
      [assistant(undefined, usage(1, 1)), assistant(undefined, usage(1, 1))],
      { input: 2, output: 2 },
    ],
    [
      "bad counts are zero",
      [assistant("a", { input_tokens: -5, output_tokens: "7", cache_read_input_tokens: 1.5 }), result(null)],
      { input: 0, output: 0 },
    ],
  ])("%s", (_label, lines, expected) => {
    expect(tokens(replay(lines).events)).toEqual(expected);
  });
});

describe("claude-stream-json tools", () => {
  const long = `/${"d".repeat(MAX_PATH_CHARS + 50)}`;
  it.each<[string, string[], TelemetryEvent[], string]>([
    [
      "a Write that succeeded",
      [toolUse("t1", "Write", { file_path: "/w/a.ts", content: "x" }), toolResult("t1", "File created")],
      [{ kind: "file_written", path: "/w/a.ts" }],
      "→ Write /w/a.ts",
    ],
    [
      "an Edit that failed is no file written",
      [
        toolUse("t1", "Edit", { file_path: "/w/a.ts" }),
        toolResult("t1", "<tool_use_error>String to replace not found in file.</tool_use_error>", true),
      ],
      [],
      "→ Edit /w/a.ts\n✗ <tool_use_error>String to replace not found in file.</tool_use_error>",
    ],
    [
      "MultiEdit, and a result given as text blocks",
      [
        toolUse("t1", "MultiEdit", { file_path: "/w/b.ts", edits: [] }),
        toolResult("t1", [{ type: "text", text: "ok" }]),
      ],
      [{ kind: "file_written", path: "/w/b.ts" }],
      "→ MultiEdit /w/b.ts",
    ],
    [
      "NotebookEdit names its file notebook_path",
      [toolUse("t1", "NotebookEdit", { notebook_path: "/w/n.ipynb" }), toolResult("t1", "Updated cell")],
      [{ kind: "file_written", path: "/w/n.ipynb" }],
      "→ NotebookEdit /w/n.ipynb",
    ],
    [
      "a path past MAX_PATH_CHARS is cut, and still counts",
      [toolUse("t1", "Read", { file_path: long }), toolResult("t1", "...")],
      [{ kind: "file_read", path: long.slice(0, MAX_PATH_CHARS) }],
      `→ Read ${long.slice(0, 199)}…`,
    ],
    ["a Read without a path is nothing", [toolUse("t1", "Read", {}), toolResult("t1", "...")], [], "→ Read"],
    [
      "Bash that is not a test: its output is stored, no test run",
      [toolUse("t1", "Bash", { command: "ls src" }), toolResult("t1", "parser.ts\nparser.test.ts\n")],
      [],
      "$ ls src\nparser.ts\nparser.test.ts",
    ],
    [
      "a test run whose summary cannot be read has no completion",
      [
        toolUse("t1", "Bash", { command: "npx vitest run" }),
        toolResult("t1", "Error: Cannot find module 'vite'", true),
      ],
      [{ kind: "test_run_started" }],
      "$ npx vitest run\nError: Cannot find module 'vite'",
    ],
    [
      "a pytest run",
      [toolUse("t1", "Bash", { command: "pytest -q" }), toolResult("t1", "..F\n1 failed, 2 passed in 0.12s\n", true)],
      [{ kind: "test_run_started" }, { kind: "test_run_completed", passed: 2, failed: 1, skipped: 0 }],
      "$ pytest -q\n..F\n1 failed, 2 passed in 0.12s",
    ],
    [
      "a repeated tool_use block is one call",
      [
        toolUse("t1", "Bash", { command: "go test ./..." }),
        toolUse("t1", "Bash", { command: "go test ./..." }),
        toolResult("t1", "ok  \texample.com/calc\t0.01s\n"),
        toolResult("t1", "ok  \texample.com/calc\t0.01s\n"),
      ],
      [{ kind: "test_run_started" }, { kind: "test_run_completed", passed: 1, failed: 0, skipped: 0 }],
      "$ go test ./...\nok  \texample.com/calc\t0.01s",
    ],
    [
      "other tools show their name and main input",
      [toolUse("t1", "Grep", { pattern: "parse\\(", path: "src" }), toolUse("t2", "TodoWrite", { todos: [] })],
      [],
      "→ Grep parse\\(\n→ TodoWrite",
    ],
    ["a result for a call never seen", [toolResult("nope", "whatever")], [], ""],
  ])("%s", (_label, lines, events, text) => {
    const out = replay(lines);
    expect(out.events.filter((e) => e.kind !== "token_usage")).toEqual(events);
    expect(out.text).toBe(text);
  });

  it("keeps only the end of a long command output", () => {
    const output = Array.from({ length: 3_000 }, (_, i) => `line ${i}`).join("\n");
    const { text } = replay([toolUse("t1", "Bash", { command: "seq" }), toolResult("t1", output)]);
    expect(text).toMatch(/^\$ seq\n\[\.\.\. \d+ earlier characters left out\]\n/);
    expect(text.endsWith("line 2999")).toBe(true);
    expect(text.length).toBeLessThan(2_100);
  });
});

describe("claude-stream-json lines", () => {
  it.each<[string, string, ReturnType<ClaudeStreamJson["parseLine"]>]>([
    ["plain text", "npm WARN deprecated glob@7.2.3", null],
    ["an empty line", "", null],
    ["JSON that is not an object", "[1,2,3]", null],
    ["broken JSON", '{"type":"assistant","message":', null],
    ["an unknown type", '{"type":"telemetry","x":1}', null],
    ["an object without a type", '{"level":"info","msg":"hi"}', null],
    ["an assistant line without a message", '{"type":"assistant"}', null],
    [
      "a partial message event",
      '{"type":"stream_event","event":{"type":"content_block_delta"}}',
      { events: [], text: null },
    ],
    [
      "another system line",
      '{"type":"system","subtype":"compact_boundary"}',
      { events: [], text: "[system compact_boundary]" },
    ],
    [
      "the prompt echoed back",
      '{"type":"user","message":{"role":"user","content":"fix the parser"}}',
      { events: [], text: null },
    ],
    [
      "an error result",
      '{"type":"result","subtype":"error_max_turns","is_error":true,"num_turns":30,"total_cost_usd":1.5}',
      { events: [], text: "stopped (error_max_turns): 30 turns, $1.5000" },
    ],
    [
      "an error result with its errors",
      '{"type":"result","subtype":"error_during_execution","errors":["API Error: 529 Overloaded"]}',
      { events: [], text: "stopped (error_during_execution): API Error: 529 Overloaded" },
    ],
  ])("%s", (_label, line, expected) => {
    expect(new ClaudeStreamJson().parseLine(line)).toEqual(expected);
  });

  it("never throws, whatever the JSON", () => {
    const known = fc.constantFrom("system", "assistant", "user", "result", "stream_event");
    const line = fc.oneof(
      fc.json(),
      fc.string(),
      fc
        .record({ type: known, message: fc.anything(), usage: fc.anything(), subtype: fc.anything() })
        .map((o) => JSON.stringify(o)),
      fc
        .record({
          type: known,
          message: fc.record({ id: fc.anything(), usage: fc.anything(), content: fc.array(fc.anything()) }),
        })
        .map((o) => JSON.stringify(o)),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 10 }), (lines) => {
        const adapter = new ClaudeStreamJson();
        for (const l of lines) {
          const parsed = adapter.parseLine(l);
          for (const e of parsed?.events ?? []) {
            if (e.kind === "token_usage") expect(e.input >= 0 && e.output >= 0).toBe(true);
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
