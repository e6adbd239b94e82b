/**
 * The Codex adapter over a recorded-style session and over single lines. Where the format comes
 * from: the sample (samples/codex-exec-json.jsonl) was written by hand to match `codex exec
 * --json` as the Codex CLI's own event types define it (codex-rs/exec/src/exec_events.rs:
 * thread.started, turn.started, item.started/updated/completed with agent_message, reasoning,
 * command_execution, file_change, todo_list... items, turn.completed with usage {input_tokens,
 * cached_input_tokens, output_tokens}, turn.failed, error), and as its JSON Lines processor fills
 * them (the usage is the thread's running total). No model was called to make it. One turn: a
 * file read with a shell command, two files edited in one patch, tests run and failing, a fix,
 * tests passing, the usage.
 */
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { replayLines, tokenTotals } from "../../test-support/agent-streams.js";
import type { TelemetryEvent } from "../run-telemetry.js";
import { CodexExecJson } from "./codex-exec-json.js";

const SAMPLE = readFileSync(new URL("./samples/codex-exec-json.jsonl", import.meta.url), "utf8");
const ROOT = "/workspace/calc";

const replay = (lines: string[]) => replayLines(new CodexExecJson(), lines);
const tokens = tokenTotals;

const completed = (input: number, output: number, cached = 0) =>
  JSON.stringify({
    type: "turn.completed",
    usage: { input_tokens: input, cached_input_tokens: cached, output_tokens: output },
  });
const item = (phase: "started" | "updated" | "completed", body: Record<string, unknown>) =>
  JSON.stringify({ type: `item.${phase}`, item: body });
const command = (id: string, cmd: string, extra: Record<string, unknown> = {}) => ({
  id,
  type: "command_execution",
  command: cmd,
  aggregated_output: "",
  exit_code: null,
  status: "in_progress",
  ...extra,
});

describe("codex-exec-json over the sample session", () => {
  const lines = SAMPLE.trimEnd().split("\n");
  const { events, text, passed } = replay(lines);

  it("counts the turn's usage once, cached input included in input", () => {
    expect(tokens(events)).toEqual({ input: 48_213, output: 2_167 });
    expect(events.filter((e) => e.kind === "token_usage")).toHaveLength(1);
  });

  it("reports the files the patches wrote", () => {
    expect(events.filter((e) => e.kind.startsWith("file_"))).toEqual([
      { kind: "file_written", path: `${ROOT}/src/parser.ts` },
      { kind: "file_written", path: `${ROOT}/src/parser.test.ts` },
      { kind: "file_written", path: `${ROOT}/src/parser.ts` },
    ]);
  });

  it("reports both test runs with their counts, and not the sed that read a file", () => {
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
    expect(text.split("\n").slice(0, 2)).toEqual([
      "thread 0199a213-81c0-7800-8aa1-bbab2a035a53",
      `$ bash -lc "sed -n '1,200p' src/parser.ts"`,
    ]);
    expect(text).toContain(`M ${ROOT}/src/parser.ts\nM ${ROOT}/src/parser.test.ts`);
    expect(text).toContain("$ bash -lc 'npm test'\n");
    expect(text).toContain("      Tests  1 failed | 12 passed (13)");
    expect(text).toContain("(exit code 1)");
    expect(text).toContain("[x] Run the tests");
    expect(text).toContain("All 13 tests pass.");
    expect(text.endsWith("tokens: 48213 input (35840 cached), 2167 output")).toBe(true);
    // Reasoning summaries are the model's notes: not stored.
    expect(text).not.toContain("Reading the parser");
  });
});

describe("codex-exec-json tokens", () => {
  it.each<[string, string[], { input: number; output: number }]>([
    ["one turn", [completed(100, 20, 60)], { input: 100, output: 20 }],
    ["a running total counts what it adds", [completed(100, 20), completed(250, 45)], { input: 250, output: 45 }],
    ["the same total twice counts once", [completed(100, 20), completed(100, 20)], { input: 100, output: 20 }],
    [
      "a new thread starts a new count",
      [completed(100, 20), '{"type":"thread.started","thread_id":"t2"}', completed(30, 5)],
      { input: 130, output: 25 },
    ],
    ["a total that went down is a new count", [completed(100, 20), completed(30, 5)], { input: 130, output: 25 }],
    [
      "bad counts are zero",
      ['{"type":"turn.completed","usage":{"input_tokens":"5","output_tokens":-1}}', '{"type":"turn.completed"}'],
      { input: 0, output: 0 },
    ],
  ])("%s", (_label, lines, expected) => {
    expect(tokens(replay(lines).events)).toEqual(expected);
  });
});

describe("codex-exec-json items", () => {
  it.each<[string, string[], TelemetryEvent[], string]>([
    [
      "a patch that adds, updates and deletes",
      [
        item("completed", {
          id: "i1",
          type: "file_change",
          status: "completed",
          changes: [
            { path: "/w/new.ts", kind: "add" },
            { path: "/w/old.ts", kind: "delete" },
            { path: "/w/a.ts", kind: "update" },
            { path: "/w/odd.ts", kind: "rename" },
            { kind: "add" },
          ],
        }),
      ],
      [
        { kind: "file_written", path: "/w/new.ts" },
        { kind: "file_deleted", path: "/w/old.ts" },
        { kind: "file_written", path: "/w/a.ts" },
      ],
      "A /w/new.ts\nD /w/old.ts\nM /w/a.ts",
    ],
    [
      "a patch that failed changed nothing",
      [
        item("completed", {
          id: "i1",
          type: "file_change",
          status: "failed",
          changes: [{ path: "/w/a.ts", kind: "update" }],
        }),
      ],
      [],
      "✗ patch failed:\nM /w/a.ts",
    ],
    [
      "a patch seen started, updated and completed counts once, when it completes",
      [
        item("started", {
          id: "i1",
          type: "file_change",
          status: "in_progress",
          changes: [{ path: "/w/a.ts", kind: "update" }],
        }),
        item("updated", {
          id: "i1",
          type: "file_change",
          status: "in_progress",
          changes: [{ path: "/w/a.ts", kind: "update" }],
        }),
        item("completed", {
          id: "i1",
          type: "file_change",
          status: "completed",
          changes: [{ path: "/w/a.ts", kind: "update" }],
        }),
        item("completed", {
          id: "i1",
          type: "file_change",
          status: "completed",
          changes: [{ path: "/w/a.ts", kind: "update" }],
        }),
      ],
      [{ kind: "file_written", path: "/w/a.ts" }],
      "M /w/a.ts",
    ],
    [
      "a test command completed without its start being seen",
      [
        item(
          "completed",
          command("c1", "cargo test", {
            aggregated_output: "test result: ok. 3 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out\n",
            exit_code: 0,
            status: "completed",
          }),
        ),
      ],
      [{ kind: "test_run_started" }, { kind: "test_run_completed", passed: 3, failed: 0, skipped: 1 }],
      "$ cargo test\ntest result: ok. 3 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out\n(exit code 0)",
    ],
    [
      "a test command whose summary cannot be read has no completion",
      [
        item("started", command("c1", "bash -lc 'npm test'")),
        item("updated", command("c1", "bash -lc 'npm test'")),
        item(
          "completed",
          command("c1", "bash -lc 'npm test'", {
            aggregated_output: "sh: 1: vitest: not found\n",
            exit_code: 127,
            status: "failed",
          }),
        ),
      ],
      [{ kind: "test_run_started" }],
      "$ bash -lc 'npm test'\nsh: 1: vitest: not found\n(exit code 127)",
    ],
    [
      "a declined test command never ran",
      [item("completed", command("c1", "go test ./...", { status: "declined" }))],
      [{ kind: "test_run_started" }],
      "$ go test ./...\n(declined)",
    ],
    [
      "an ordinary command",
      [
        item("started", command("c1", "ls")),
        item("completed", command("c1", "ls", { aggregated_output: "a\nb\n", exit_code: 0 })),
      ],
      [],
      "$ ls\na\nb\n(exit code 0)",
    ],
    [
      "an MCP call that failed",
      [
        item("completed", {
          id: "m1",
          type: "mcp_tool_call",
          server: "github",
          tool: "search_issues",
          status: "failed",
          error: { message: "rate limited" },
        }),
      ],
      [],
      "→ github.search_issues\n✗ rate limited",
    ],
    [
      "a web search, a plan and a warning",
      [
        item("completed", { id: "w1", type: "web_search", query: "vitest negative numbers" }),
        item("completed", { id: "p1", type: "plan", text: "1. fix\n2. test" }),
        item("completed", { id: "e1", type: "error", message: "model rerouted" }),
      ],
      [],
      "→ web search vitest negative numbers\n1. fix\n2. test\nwarning: model rerouted",
    ],
    [
      "a turn that failed, and an error",
      [
        '{"type":"turn.failed","error":{"message":"stream disconnected"}}',
        '{"type":"error","message":"reconnecting 1/5"}',
      ],
      [],
      "turn failed: stream disconnected\nerror: reconnecting 1/5",
    ],
  ])("%s", (_label, lines, events, text) => {
    const out = replay(lines);
    expect(out.events).toEqual(events);
    expect(out.text).toBe(text);
  });
});

describe("codex-exec-json lines", () => {
  it.each<[string, string, ReturnType<CodexExecJson["parseLine"]>]>([
    ["plain text", "Reading prompt from stdin...", null],
    ["an empty line", "", null],
    ["broken JSON", '{"type":"item.completed","item":{', null],
    ["an unknown event", '{"type":"item.plan.delta","item_id":"p1","delta":"x"}', null],
    ["an unknown item type", '{"type":"item.completed","item":{"id":"c","type":"collab_tool_call"}}', null],
    ["an item event without an item", '{"type":"item.completed"}', null],
    ["a turn starting", '{"type":"turn.started"}', { events: [], text: null }],
    [
      "an agent message still streaming",
      '{"type":"item.updated","item":{"id":"a","type":"agent_message","text":"Work"}}',
      { events: [], text: null },
    ],
    [
      "a completed reasoning item",
      '{"type":"item.completed","item":{"id":"r","type":"reasoning","text":"**Plan**"}}',
      { events: [], text: null },
    ],
  ])("%s", (_label, line, expected) => {
    expect(new CodexExecJson().parseLine(line)).toEqual(expected);
  });

  it("never throws, whatever the JSON", () => {
    const type = fc.constantFrom(
      "thread.started",
      "turn.started",
      "turn.completed",
      "turn.failed",
      "error",
      "item.started",
      "item.updated",
      "item.completed",
    );
    const itemType = fc.constantFrom(
      "agent_message",
      "command_execution",
      "file_change",
      "mcp_tool_call",
      "todo_list",
      "web_search",
    );
    const line = fc.oneof(
      fc.json(),
      fc
        .record({ type, usage: fc.anything(), error: fc.anything(), item: fc.anything() })
        .map((o) => JSON.stringify(o)),
      fc
        .record({
          type,
          item: fc.record({
            id: fc.anything(),
            type: itemType,
            command: fc.anything(),
            aggregated_output: fc.anything(),
            changes: fc.anything(),
            items: fc.anything(),
            status: fc.anything(),
          }),
        })
        .map((o) => JSON.stringify(o)),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 10 }), (lines) => {
        const adapter = new CodexExecJson();
        for (const l of lines) {
          for (const e of adapter.parseLine(l)?.events ?? []) {
            if (e.kind === "token_usage") expect(e.input >= 0 && e.output >= 0).toBe(true);
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
