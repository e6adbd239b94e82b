/**
 * OpenAI Codex CLI's `codex exec --json`: one JSON object a line, of type `thread.started`,
 * `turn.started`, `item.started` / `item.updated` / `item.completed` (an `item` with its own
 * `type`: agent_message, reasoning, command_execution, file_change, mcp_tool_call, web_search,
 * todo_list, error...), `turn.completed` (with usage), `turn.failed` and `error`. An item is acted
 * on once, by id: commands when they start and complete, everything else when it completes.
 *
 * Tokens: `turn.completed` carries the thread's running total (Codex fills it from the thread's
 * token usage, not the last turn's), so what is counted is how much each total grew over the one
 * before it in the stream; a new `thread.started`, or a total that went down, starts a new count.
 * `input_tokens` already includes `cached_input_tokens` (a part of it, as in OpenAI's usage), so
 * input is `input_tokens` alone; likewise reasoning tokens are part of `output_tokens`.
 */
import type { TelemetryEvent } from "../run-telemetry.js";
import {
  type AgentLine,
  type AgentStreamAdapter,
  BoundedMap,
  boundedPath,
  count,
  isObject,
  type JsonObject,
  NOTHING,
  oneLine,
  parseObject,
  str,
  tail,
} from "./agent-stream.js";
import { isTestCommand, parseTestSummary } from "./test-summary.js";

type Phase = "started" | "updated" | "completed";

const CHANGE_MARKS: Readonly<Record<string, string>> = { add: "A", update: "M", delete: "D" };

export class CodexExecJson implements AgentStreamAdapter {
  /** Commands whose start was seen (so their completion does not announce them again). */
  private readonly started = new BoundedMap<true>();
  private readonly completed = new BoundedMap<true>();
  /** The thread's last running total, to count only what each `turn.completed` adds. */
  private last = { input: 0, output: 0 };

  parseLine(line: string): AgentLine | null {
    const obj = parseObject(line);
    if (obj === null) return null;
    switch (obj.type) {
      case "thread.started":
        this.last = { input: 0, output: 0 };
        return { events: [], text: `thread ${oneLine(str(obj.thread_id) ?? "?")}` };
      case "turn.started":
        return NOTHING;
      case "turn.completed":
        return this.turnCompleted(obj);
      case "turn.failed":
        return { events: [], text: `turn failed: ${oneLine(errorMessage(obj.error))}` };
      case "error":
        return { events: [], text: `error: ${oneLine(str(obj.message) ?? "unknown error")}` };
      case "item.started":
      case "item.updated":
      case "item.completed":
        return isObject(obj.item) ? this.item(obj.type.slice("item.".length) as Phase, obj.item) : null;
      default:
        return null;
    }
  }

  private turnCompleted(obj: JsonObject): AgentLine {
    if (!isObject(obj.usage)) return NOTHING;
    const now = { input: count(obj.usage.input_tokens), output: count(obj.usage.output_tokens) };
    // A total below the last one belongs to another thread: all of it is new.
    const fresh = now.input < this.last.input || now.output < this.last.output;
    const base = fresh ? { input: 0, output: 0 } : this.last;
    this.last = now;
    const add = { input: now.input - base.input, output: now.output - base.output };
    const cached = count(obj.usage.cached_input_tokens);
    const text = `tokens: ${now.input} input (${cached} cached), ${now.output} output`;
    if (add.input === 0 && add.output === 0) return { events: [], text };
    return { events: [{ kind: "token_usage", ...add }], text };
  }

  private item(phase: Phase, item: JsonObject): AgentLine | null {
    const id = str(item.id) ?? "";
    if (item.type === "command_execution") return this.command(phase, id, item);
    const known = [
      "agent_message",
      "reasoning",
      "file_change",
      "mcp_tool_call",
      "web_search",
      "todo_list",
      "error",
      "plan",
    ];
    if (typeof item.type !== "string" || !known.includes(item.type)) return null;
    if (phase !== "completed" || !this.firstCompletion(id)) return NOTHING;
    switch (item.type) {
      case "agent_message":
      case "plan":
        return textLine(str(item.text) ?? "");
      case "file_change":
        return fileChange(item);
      case "mcp_tool_call": {
        const name = `→ ${oneLine(str(item.server) ?? "mcp")}.${oneLine(str(item.tool) ?? "tool")}`;
        const error = isObject(item.error) ? str(item.error.message) : undefined;
        return textLine(item.status === "failed" ? `${name}\n✗ ${oneLine(error ?? "failed")}` : name);
      }
      case "web_search":
        return textLine(`→ web search ${oneLine(str(item.query) ?? "")}`.trimEnd());
      case "todo_list":
        return textLine(todoList(item.items));
      case "error":
        return textLine(`warning: ${oneLine(str(item.message) ?? "")}`);
      default:
        // reasoning: the model's own notes, not stored.
        return NOTHING;
    }
  }

  private command(phase: Phase, id: string, item: JsonObject): AgentLine {
    const command = str(item.command) ?? "";
    const test = isTestCommand(command);
    const events: TelemetryEvent[] = [];
    const texts: string[] = [];
    if (phase !== "updated" && (id === "" || !this.started.has(id))) {
      // A command first seen completed (its start was not printed) is announced then.
      if (id !== "") this.started.set(id, true);
      if (test) events.push({ kind: "test_run_started" });
      texts.push(`$ ${command}`);
    }
    if (phase === "completed" && this.firstCompletion(id)) {
      const output = str(item.aggregated_output) ?? "";
      // A declined command never ran; a summary we cannot read is no completed test run.
      const counts = test && item.status !== "declined" ? parseTestSummary(output) : null;
      if (counts !== null) events.push({ kind: "test_run_completed", ...counts });
      if (output.trim() !== "") texts.push(tail(output));
      const exitCode = typeof item.exit_code === "number" ? item.exit_code : null;
      texts.push(exitCode === null ? `(${oneLine(str(item.status) ?? "finished")})` : `(exit code ${exitCode})`);
    }
    return { events, text: texts.length === 0 ? null : texts.join("\n") };
  }

  /** True the first time an item id completes (an id-less item always counts). */
  private firstCompletion(id: string): boolean {
    if (id === "") return true;
    if (this.completed.has(id)) return false;
    this.completed.set(id, true);
    return true;
  }
}

/** A patch: applied, each file is written or deleted; failed, nothing changed. */
function fileChange(item: JsonObject): AgentLine {
  const events: TelemetryEvent[] = [];
  const lines: string[] = [];
  const applied = item.status !== "failed";
  for (const change of Array.isArray(item.changes) ? item.changes : []) {
    if (!isObject(change)) continue;
    const path = boundedPath(change.path);
    const kind = str(change.kind) ?? "";
    if (path === null || !Object.hasOwn(CHANGE_MARKS, kind)) continue;
    lines.push(`${CHANGE_MARKS[kind]} ${oneLine(path, 1_000)}`);
    if (applied) events.push({ kind: kind === "delete" ? "file_deleted" : "file_written", path });
  }
  if (!applied) lines.unshift("✗ patch failed:");
  return { events, text: lines.length === 0 ? null : lines.join("\n") };
}

function todoList(items: unknown): string {
  const lines = (Array.isArray(items) ? items : [])
    .filter(isObject)
    .map((t) => `[${t.completed === true ? "x" : " "}] ${oneLine(str(t.text) ?? "")}`);
  return lines.join("\n");
}

function textLine(text: string): AgentLine {
  return text.trim() === "" ? NOTHING : { events: [], text };
}

function errorMessage(error: unknown): string {
  return (isObject(error) ? str(error.message) : undefined) ?? "unknown error";
}
