import { describe, expect, it } from "vitest";
import {
  MAX_PATH_CHARS,
  MAX_TAIL_PREVIEW_CHARS,
  MAX_TELEMETRY_LINE_BYTES,
  parseTelemetryLine,
  type TelemetryEvent,
} from "./run-telemetry.js";

const line = (obj: unknown) => JSON.stringify(obj);
const ev = (overseer_event: string, rest: Record<string, unknown> = {}) => line({ overseer_event, ...rest });

describe("parseTelemetryLine: valid events", () => {
  it.each<[string, string, TelemetryEvent]>([
    ["file_read", ev("file_read", { path: "src/a.ts" }), { kind: "file_read", path: "src/a.ts" }],
    ["file_written", ev("file_written", { path: "/tmp/x y" }), { kind: "file_written", path: "/tmp/x y" }],
    ["file_deleted", ev("file_deleted", { path: "!weird" }), { kind: "file_deleted", path: "!weird" }],
    ["log_updated without tail", ev("log_updated", { path: "l.log" }), { kind: "log_updated", path: "l.log" }],
    [
      "log_updated with tail",
      ev("log_updated", { path: "l.log", tail: "last line\n" }),
      { kind: "log_updated", path: "l.log", tail: "last line\n" },
    ],
    ["test_run_started", ev("test_run_started"), { kind: "test_run_started" }],
    [
      "test_run_completed",
      ev("test_run_completed", { passed: 10, failed: 2, skipped: 1 }),
      { kind: "test_run_completed", passed: 10, failed: 2, skipped: 1 },
    ],
    [
      "test_run_completed, skipped defaults to 0",
      ev("test_run_completed", { passed: 0, failed: 0 }),
      { kind: "test_run_completed", passed: 0, failed: 0, skipped: 0 },
    ],
    ["token_usage", ev("token_usage", { input: 1200, output: 300 }), { kind: "token_usage", input: 1200, output: 300 }],
    ["progress with a number", ev("progress", { value: 0.5 }), { kind: "progress", value: 0.5 }],
    ["progress with null", ev("progress", { value: null }), { kind: "progress", value: null }],
    [
      "progress with an object and a message",
      ev("progress", { value: { done: 3, of: 7 }, message: "step 3" }),
      { kind: "progress", value: { done: 3, of: 7 }, message: "step 3" },
    ],
    [
      "custom kind, data is the rest of the object",
      ev("custom.deploy", { env: "prod", n: 1 }),
      { kind: "custom.deploy", data: { env: "prod", n: 1 } },
    ],
    ["custom dotted name", ev("custom.ci.step_done"), { kind: "custom.ci.step_done", data: {} }],
    [
      "a question, trimmed",
      ev("question", { text: "  Which database? " }),
      { kind: "question", text: "Which database?" },
    ],
    [
      "a question with details",
      ev("question", { text: "Which?", details: { options: ["a", "b"] } }),
      { kind: "question", text: "Which?", details: { options: ["a", "b"] } },
    ],
    [
      "an approval request with risk and details",
      ev("approval_request", { title: "Deploy to staging", risk: "high", details: { diff: "+1" } }),
      { kind: "approval_request", title: "Deploy to staging", risk: "high", details: { diff: "+1" } },
    ],
    [
      "an approval request, risk left to the policy",
      ev("approval_request", { title: "Go" }),
      { kind: "approval_request", title: "Go" },
    ],
    ["extra fields are ignored", ev("file_read", { path: "a", extra: 1 }), { kind: "file_read", path: "a" }],
    ["leading and trailing blanks", `  ${ev("test_run_started")}\t`, { kind: "test_run_started" }],
    ["a trailing line break", `${ev("test_run_started")}\n`, { kind: "test_run_started" }],
    ["a trailing CRLF", `${ev("test_run_started")}\r\n`, { kind: "test_run_started" }],
    ["overseer_event not first", line({ path: "p", overseer_event: "file_read" }), { kind: "file_read", path: "p" }],
  ])("%s", (_label, input, event) => {
    expect(parseTelemetryLine(input)).toEqual({ type: "telemetry", event });
  });

  it("keeps the end of an over-long tail preview, on a character boundary", () => {
    const tail = `${"x".repeat(10)}${"😀".repeat(MAX_TAIL_PREVIEW_CHARS)}`;
    const out = parseTelemetryLine(ev("log_updated", { path: "l", tail }));
    expect(out).toEqual({
      type: "telemetry",
      event: { kind: "log_updated", path: "l", tail: "😀".repeat(MAX_TAIL_PREVIEW_CHARS), tailTruncated: true },
    });
  });

  it("keeps a tail of exactly the limit untouched", () => {
    const tail = "y".repeat(MAX_TAIL_PREVIEW_CHARS);
    expect(parseTelemetryLine(ev("log_updated", { path: "l", tail }))).toEqual({
      type: "telemetry",
      event: { kind: "log_updated", path: "l", tail },
    });
  });
});

describe("parseTelemetryLine: invalid (claims telemetry, is kept as output by the caller)", () => {
  it.each([
    ["missing path", ev("file_read"), "file_read: path must be a non-empty string"],
    ["empty path", ev("file_written", { path: "" }), "file_written: path must be a non-empty string"],
    ["numeric path", ev("file_deleted", { path: 7 }), "file_deleted: path must be a non-empty string"],
    ["NUL in path", ev("file_read", { path: "a\u0000b" }), "file_read: path must not contain a NUL character"],
    [
      "over-long path",
      ev("file_read", { path: "p".repeat(MAX_PATH_CHARS + 1) }),
      `file_read: path is longer than ${MAX_PATH_CHARS} characters`,
    ],
    ["log_updated without path", ev("log_updated", { tail: "x" }), "log_updated: path must be a non-empty string"],
    ["a question without text", ev("question"), "question: text must be a non-empty string"],
    ["a blank question", ev("question", { text: "  " }), "question: text must be a non-empty string"],
    [
      "an over-long question",
      ev("question", { text: "q".repeat(4_001) }),
      "question: text is longer than 4000 characters",
    ],
    ["an approval request without title", ev("approval_request"), "approval_request: title must be a non-empty string"],
    [
      "an over-long title",
      ev("approval_request", { title: "t".repeat(301) }),
      "approval_request: title is longer than 300 characters",
    ],
    [
      "an unknown risk",
      ev("approval_request", { title: "x", risk: "huge" }),
      "approval_request: risk must be one of low, medium, high, critical",
    ],
    ["tail not a string", ev("log_updated", { path: "l", tail: 5 }), "log_updated: tail must be a string"],
    [
      "negative count",
      ev("test_run_completed", { passed: -1, failed: 0 }),
      "test_run_completed: passed must be a non-negative integer",
    ],
    [
      "fractional count",
      ev("test_run_completed", { passed: 1, failed: 0.5 }),
      "test_run_completed: failed must be a non-negative integer",
    ],
    [
      "string count",
      ev("test_run_completed", { passed: 1, failed: 0, skipped: "2" }),
      "test_run_completed: skipped must be a non-negative integer when given",
    ],
    [
      "missing count",
      ev("test_run_completed", { failed: 0 }),
      "test_run_completed: passed must be a non-negative integer",
    ],
    ["tokens missing output", ev("token_usage", { input: 1 }), "token_usage: output must be a non-negative integer"],
    [
      "tokens beyond safe integers",
      ev("token_usage", { input: 2 ** 60, output: 1 }),
      "token_usage: input must be a non-negative integer",
    ],
    [
      "tokens as strings",
      ev("token_usage", { input: "1", output: "2" }),
      "token_usage: input must be a non-negative integer",
    ],
    ["progress without value", ev("progress", { message: "hi" }), "progress: progress needs a value (any JSON)"],
    ["progress message not a string", ev("progress", { value: 1, message: 2 }), "progress: message must be a string"],
    [
      "progress message too long",
      ev("progress", { value: 1, message: "m".repeat(1001) }),
      "progress: message is longer than 1000 characters",
    ],
    ["custom with an empty name", ev("custom."), 'custom.: custom event name "" must be lower case'],
    ["custom with upper case", ev("custom.Deploy"), 'custom.Deploy: custom event name "Deploy" must be lower case'],
    ["custom with a space", ev("custom.a b"), 'custom.a b: custom event name "a b"'],
    ["custom with an empty segment", ev("custom.a..b"), 'custom.a..b: custom event name "a..b"'],
    ["custom name too long", ev(`custom.${"a".repeat(65)}`), "at most 64 characters"],
  ])("%s", (_label, input, reason) => {
    const out = parseTelemetryLine(input);
    expect(out.type).toBe("invalid");
    expect(out.type === "invalid" && out.reason).toContain(reason);
  });

  it.each([
    ["unknown kind", ev("file_moved", { path: "a" }), 'unknown overseer_event "file_moved"'],
    ["kind in the wrong case", ev("FILE_READ", { path: "a" }), 'unknown overseer_event "FILE_READ"'],
    ["kind not a string", line({ overseer_event: 3 }), "overseer_event must be a non-empty string"],
    ["empty kind", line({ overseer_event: "" }), "overseer_event must be a non-empty string"],
    ["kind null", line({ overseer_event: null }), "overseer_event must be a non-empty string"],
    ["broken JSON", '{"overseer_event": "file_read", "path": ', "not valid JSON"],
    ["single quotes", "{'overseer_event': 'file_read'}", "not valid JSON"],
  ])("%s", (_label, input, reason) => {
    const out = parseTelemetryLine(input);
    expect(out.type).toBe("invalid");
    expect(out.type === "invalid" && out.reason).toContain(reason);
  });

  it("names the kind it was given", () => {
    expect(parseTelemetryLine(ev("token_usage", { input: -1, output: 0 }))).toMatchObject({
      type: "invalid",
      kind: "token_usage",
    });
  });

  it("refuses a line over the size limit, however valid its JSON", () => {
    const big = ev("progress", { value: "v".repeat(MAX_TELEMETRY_LINE_BYTES) });
    expect(parseTelemetryLine(big)).toEqual({
      type: "invalid",
      reason: `telemetry line is longer than ${MAX_TELEMETRY_LINE_BYTES} bytes`,
    });
  });

  it("measures the limit in UTF-8 bytes, not characters", () => {
    const prefix = ev("progress", { value: "" }).length;
    const fits = ev("progress", { value: "é".repeat((MAX_TELEMETRY_LINE_BYTES - prefix) / 2) });
    expect(Buffer.byteLength(fits)).toBeLessThanOrEqual(MAX_TELEMETRY_LINE_BYTES);
    expect(parseTelemetryLine(fits).type).toBe("telemetry");
    const over = ev("progress", { value: "é".repeat((MAX_TELEMETRY_LINE_BYTES - prefix) / 2 + 1) });
    expect(parseTelemetryLine(over).type).toBe("invalid");
  });
});

describe("parseTelemetryLine: ordinary output", () => {
  it.each([
    ["plain text", "compiling 3 files"],
    ["empty", ""],
    ["JSON without the field", line({ event: "file_read", path: "a" })],
    ["the field nested, not at top level", line({ data: { overseer_event: "file_read" } })],
    ["an array", line([{ overseer_event: "file_read", path: "a" }])],
    ["a JSON string mentioning it", line("overseer_event")],
    ["text mentioning it", "we emit overseer_event lines"],
    ["an object after other text", `log: ${ev("test_run_started")}`],
    ["a field name that only contains it", line({ my_overseer_event: "file_read" })],
    ["over-long line without the field", `{"x":"${"a".repeat(MAX_TELEMETRY_LINE_BYTES)}"}`],
  ])("%s", (_label, input) => {
    expect(parseTelemetryLine(input)).toEqual({ type: "output" });
  });

  it("does not take the field from the prototype", () => {
    expect(parseTelemetryLine('{"__proto__": {"overseer_event": "file_read"}, "path": "a"}')).toEqual({
      type: "output",
    });
  });
});

describe("parseTelemetryLine: blanks", () => {
  it.each(["\v", "\f", "\u00a0", "\u2028"])("does not treat %j before the object as a blank", (blank) => {
    expect(parseTelemetryLine(`${blank}${ev("test_run_started")}`)).toEqual({ type: "output" });
  });
});

describe("parseTelemetryLine: cost", () => {
  it("stays linear on a long run of blanks", () => {
    const started = performance.now();
    parseTelemetryLine(`${" ".repeat(200_000)}x`);
    parseTelemetryLine(`{${" ".repeat(200_000)}x overseer_event`);
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});
