/**
 * Claude Code's `claude -p --output-format stream-json --verbose`: one JSON object a line, of
 * type `system` (subtype `init` first), `assistant` (a message with content blocks and usage),
 * `user` (tool results), `stream_event` (partial messages, only with --include-partial-messages)
 * and a last `result`. File events are counted when a tool's result comes back without an error,
 * so a refused or failed edit is not a file written.
 *
 * Tokens: one API call's response is printed as several `assistant` lines (one per content block)
 * that share the message id and repeat the same usage, so each id is counted once, as it streams;
 * that keeps the counts live and keeps what a turn spent even when it is stopped before its end.
 * A step's `output_tokens` may still be a placeholder, so the `result` line, whose usage is the
 * session's authoritative total, tops the counts up to it: the turn's totals end up exactly that
 * total. A result lower than what was streamed (subagents' calls are in the stream but not in
 * `result.usage`) takes nothing back. Input is every prompt token: `input_tokens` plus
 * `cache_creation_input_tokens` plus `cache_read_input_tokens`, as Codex counts its input.
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

/** Tools whose input names a file, the field that holds it, and what a successful call did to it. */
const FILE_TOOLS: Readonly<Record<string, { kind: "file_read" | "file_written"; field: string }>> = {
  Read: { kind: "file_read", field: "file_path" },
  Write: { kind: "file_written", field: "file_path" },
  Edit: { kind: "file_written", field: "file_path" },
  MultiEdit: { kind: "file_written", field: "file_path" },
  NotebookEdit: { kind: "file_written", field: "notebook_path" },
};

/** The input field shown after a tool's name in the stored text, for tools without their own line. */
const TOOL_HINTS = ["pattern", "path", "url", "query", "description"];

/** A tool call waiting for its result. */
interface PendingTool {
  file?: { kind: "file_read" | "file_written"; path: string };
  /** A Bash call: its output is stored; `test`: its result may hold a test summary. */
  bash?: { test: boolean };
}

interface Tokens {
  input: number;
  output: number;
}

export class ClaudeStreamJson implements AgentStreamAdapter {
  /** Usage already counted per message id (the largest seen, in case a later line corrects it). */
  private readonly counted = new BoundedMap<Tokens>();
  private readonly pending = new BoundedMap<PendingTool>();
  private readonly toolUses = new BoundedMap<true>();
  private readonly total: Tokens = { input: 0, output: 0 };

  parseLine(line: string): AgentLine | null {
    const obj = parseObject(line);
    if (obj === null) return null;
    switch (obj.type) {
      case "system":
        return this.system(obj);
      case "assistant":
        return isObject(obj.message) ? this.assistant(obj.message) : null;
      case "user":
        return isObject(obj.message) ? this.user(obj.message) : null;
      case "result":
        return this.result(obj);
      case "stream_event":
        // Partial messages: the complete assistant line that follows says it all again.
        return NOTHING;
      default:
        return null;
    }
  }

  private system(obj: JsonObject): AgentLine {
    const subtype = str(obj.subtype) ?? "";
    if (subtype !== "init") return { events: [], text: `[system ${oneLine(subtype)}]` };
    const tools = Array.isArray(obj.tools) ? obj.tools.length : 0;
    const model = str(obj.model) ?? "unknown model";
    return { events: [], text: `session ${oneLine(str(obj.session_id) ?? "?")}: ${oneLine(model)}, ${tools} tools` };
  }

  private assistant(message: JsonObject): AgentLine {
    const events: TelemetryEvent[] = [];
    const usage = this.stepUsage(message);
    if (usage !== null) events.push(usage);
    const texts: string[] = [];
    for (const block of Array.isArray(message.content) ? message.content : []) {
      if (!isObject(block)) continue;
      if (block.type === "text" && typeof block.text === "string" && block.text.trim() !== "") texts.push(block.text);
      else if (block.type === "tool_use") {
        const text = this.toolUse(block, events);
        if (text !== null) texts.push(text);
      }
      // thinking and redacted_thinking blocks are the model's own notes: not stored.
    }
    return { events, text: texts.length === 0 ? null : texts.join("\n") };
  }

  /** Counts a message id once; a later line of the same id counts only what it adds. */
  private stepUsage(message: JsonObject): TelemetryEvent | null {
    if (!isObject(message.usage)) return null;
    const now = tokensOf(message.usage);
    const id = str(message.id);
    const before = id === undefined ? undefined : this.counted.get(id);
    const add = {
      input: Math.max(0, now.input - (before?.input ?? 0)),
      output: Math.max(0, now.output - (before?.output ?? 0)),
    };
    if (id !== undefined) {
      this.counted.set(id, {
        input: Math.max(now.input, before?.input ?? 0),
        output: Math.max(now.output, before?.output ?? 0),
      });
    }
    return this.spend(add);
  }

  private toolUse(block: JsonObject, events: TelemetryEvent[]): string | null {
    const id = str(block.id) ?? "";
    // The same block printed twice (a repeated line) is one call.
    if (id !== "" && this.toolUses.has(id)) return null;
    if (id !== "") this.toolUses.set(id, true);
    const name = str(block.name) ?? "tool";
    const input = isObject(block.input) ? block.input : {};
    const fileTool = Object.hasOwn(FILE_TOOLS, name) ? FILE_TOOLS[name] : undefined;
    if (fileTool !== undefined) {
      const path = boundedPath(input[fileTool.field]);
      if (path !== null && id !== "") this.pending.set(id, { file: { kind: fileTool.kind, path } });
      return `→ ${name} ${oneLine(path ?? "")}`.trimEnd();
    }
    if (name === "Bash") {
      const command = str(input.command) ?? "";
      const test = isTestCommand(command);
      if (test) events.push({ kind: "test_run_started" });
      if (id !== "") this.pending.set(id, { bash: { test } });
      return `$ ${command}`;
    }
    const hint = TOOL_HINTS.map((field) => str(input[field])).find((v) => v !== undefined);
    return hint === undefined ? `→ ${name}` : `→ ${name} ${oneLine(hint)}`;
  }

  private user(message: JsonObject): AgentLine {
    // A string content is the prompt itself (echoed with --replay-user-messages): not output.
    if (!Array.isArray(message.content)) return NOTHING;
    const events: TelemetryEvent[] = [];
    const texts: string[] = [];
    for (const block of message.content) {
      if (!isObject(block) || block.type !== "tool_result") continue;
      const call = this.pending.take(str(block.tool_use_id) ?? "");
      const output = resultText(block.content);
      const failed = block.is_error === true;
      if (call?.file !== undefined && !failed) events.push({ kind: call.file.kind, path: call.file.path });
      if (call?.bash !== undefined) {
        if (call.bash.test) {
          // No summary we can read (the runner crashed, or prints one we do not know): no
          // completed test run rather than a made-up count.
          const counts = parseTestSummary(output);
          if (counts !== null) events.push({ kind: "test_run_completed", ...counts });
        }
        if (output.trim() !== "") texts.push(tail(output));
      } else if (failed) {
        texts.push(`✗ ${oneLine(output)}`);
      }
    }
    return { events, text: texts.length === 0 ? null : texts.join("\n") };
  }

  private result(obj: JsonObject): AgentLine {
    const events: TelemetryEvent[] = [];
    if (isObject(obj.usage)) {
      const final = tokensOf(obj.usage);
      const topUp = this.spend({
        input: Math.max(0, final.input - this.total.input),
        output: Math.max(0, final.output - this.total.output),
      });
      if (topUp !== null) events.push(topUp);
    }
    const subtype = str(obj.subtype) ?? "unknown";
    const parts: string[] = [];
    if (typeof obj.num_turns === "number") parts.push(`${obj.num_turns} turns`);
    if (typeof obj.total_cost_usd === "number") parts.push(`$${obj.total_cost_usd.toFixed(4)}`);
    const errors = Array.isArray(obj.errors) ? obj.errors.filter((e): e is string => typeof e === "string") : [];
    if (errors.length > 0) parts.push(oneLine(errors.join("; ")));
    const verdict = subtype === "success" && obj.is_error !== true ? "done" : "stopped";
    return { events, text: `${verdict} (${oneLine(subtype)})${parts.length === 0 ? "" : `: ${parts.join(", ")}`}` };
  }

  private spend(add: Tokens): TelemetryEvent | null {
    if (add.input === 0 && add.output === 0) return null;
    this.total.input += add.input;
    this.total.output += add.output;
    return { kind: "token_usage", input: add.input, output: add.output };
  }
}

function tokensOf(usage: JsonObject): Tokens {
  return {
    input: count(usage.input_tokens) + count(usage.cache_creation_input_tokens) + count(usage.cache_read_input_tokens),
    output: count(usage.output_tokens),
  };
}

/** A tool result's content: a string, or text blocks (other blocks, such as images, are left out). */
function resultText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .filter((b): b is JsonObject => isObject(b) && b.type === "text" && typeof b.text === "string")
    .map((b) => b.text as string)
    .join("\n");
}
