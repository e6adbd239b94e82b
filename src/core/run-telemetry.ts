/**
 * Telemetry a turn's command reports on its own stdout or stderr: one JSON object per line with
 * an `overseer_event` field. Pure: a line in, a typed event (or a reason it is not one) out.
 * A line that claims to be telemetry but is malformed is `invalid` and must still be kept as
 * ordinary output by the caller, so a buggy agent never loses a byte of what it printed.
 */
import { RISKS, type Risk } from "./gate-policy.js";

/** Longest telemetry line, in UTF-8 bytes without its `\n` or `\r\n`; longer lines are output. */
export const MAX_TELEMETRY_LINE_BYTES = 64 * 1024;
/** A `log_updated` tail preview keeps at most this many characters (the end of the log). */
export const MAX_TAIL_PREVIEW_CHARS = 2_000;
export const MAX_PATH_CHARS = 4_096;
export const MAX_MESSAGE_CHARS = 1_000;
/** Custom kinds are `custom.<name>`; anything else unknown is refused so typos surface. */
export const CUSTOM_KIND_PREFIX = "custom.";
/** A question's text, and an approval request's title (as `requestApproval` allows). */
export const MAX_QUESTION_CHARS = 4_000;
export const MAX_REQUEST_TITLE_CHARS = 300;
const CUSTOM_NAME = /^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)*$/;
const MAX_CUSTOM_NAME_CHARS = 64;

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export type TelemetryEvent =
  | { kind: "file_read" | "file_written" | "file_deleted"; path: string }
  | {
      kind: "log_updated";
      path: string;
      tail?: string;
      tailTruncated?: true;
      /** What changed, as unified diff hunks: only in what Overseer reports of watched files (run-watch.ts). */
      diff?: string;
      diffTruncated?: true;
    }
  | { kind: "test_run_started" }
  | { kind: "test_run_completed"; passed: number; failed: number; skipped: number }
  | { kind: "token_usage"; input: number; output: number }
  | { kind: "progress"; value: JsonValue; message?: string }
  /** The agent asks a person something; the run waits for the answer after this turn. */
  | { kind: "question"; text: string; details?: JsonValue }
  /** The agent asks a person to approve something; the run waits for the decision after this turn. */
  | { kind: "approval_request"; title: string; details?: JsonValue; risk?: Risk }
  | { kind: `custom.${string}`; data: { [key: string]: JsonValue } };

export type TelemetryKind = TelemetryEvent["kind"];

export const BUILT_IN_TELEMETRY_KINDS = [
  "file_read",
  "file_written",
  "file_deleted",
  "log_updated",
  "test_run_started",
  "test_run_completed",
  "token_usage",
  "progress",
  "question",
  "approval_request",
] as const;

/**
 * - `telemetry`: a valid event; the line is not output.
 * - `invalid`: the line claims to be telemetry (`overseer_event` is in it) but is not valid;
 *   `reason` says why in words a person can act on. The line is still output.
 * - `output`: an ordinary line.
 */
export type TelemetryParse =
  | { type: "telemetry"; event: TelemetryEvent }
  | { type: "invalid"; reason: string; kind?: string }
  | { type: "output" };

const MARKER = "overseer_event";
const OUTPUT: TelemetryParse = { type: "output" };

/** Parses one line (a trailing `\n` or `\r\n` is ignored). Never throws. */
export function parseTelemetryLine(line: string): TelemetryParse {
  const body = line.replace(/\r?\n$/, "");
  // Only spaces and tabs count as blanks (not \v, \f or Unicode spaces, which trim() strips):
  // the streaming splitter decides with the same rule, byte by byte.
  const text = trimBlanks(body);
  // Cheap test first: almost every output line fails it, and JSON.parse is not cheap.
  if (!text.startsWith("{") || !text.includes(MARKER)) return OUTPUT;
  if (Buffer.byteLength(body, "utf8") > MAX_TELEMETRY_LINE_BYTES) {
    return invalid(`telemetry line is longer than ${MAX_TELEMETRY_LINE_BYTES} bytes`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    // Mentions overseer_event and looks like an object: the author meant telemetry, so say why it failed.
    return invalid(`telemetry line is not valid JSON (${(err as Error).message})`);
  }
  if (!isObject(parsed) || !Object.hasOwn(parsed, MARKER)) return OUTPUT;
  const kind = parsed[MARKER];
  if (typeof kind !== "string" || kind === "") return invalid("overseer_event must be a non-empty string");
  return withKind(kind, validate(kind, parsed));
}

function validate(kind: string, obj: Record<string, unknown>): TelemetryEvent | string {
  switch (kind) {
    case "file_read":
    case "file_written":
    case "file_deleted": {
      const path = pathField(obj);
      return "error" in path ? path.error : { kind, path: path.ok };
    }
    case "log_updated": {
      const path = pathField(obj);
      if ("error" in path) return path.error;
      const event: TelemetryEvent = { kind, path: path.ok };
      if (obj.tail !== undefined) {
        if (typeof obj.tail !== "string") return "tail must be a string";
        const chars = Array.from(obj.tail);
        if (chars.length > MAX_TAIL_PREVIEW_CHARS) {
          event.tail = chars.slice(-MAX_TAIL_PREVIEW_CHARS).join("");
          event.tailTruncated = true;
        } else {
          event.tail = obj.tail;
        }
      }
      return event;
    }
    case "test_run_started":
      return { kind };
    case "test_run_completed": {
      const passed = count(obj, "passed", true);
      const failed = count(obj, "failed", true);
      const skipped = count(obj, "skipped", false);
      for (const v of [passed, failed, skipped]) if (typeof v === "string") return v;
      return { kind, passed: passed as number, failed: failed as number, skipped: skipped as number };
    }
    case "token_usage": {
      const input = count(obj, "input", true);
      const output = count(obj, "output", true);
      for (const v of [input, output]) if (typeof v === "string") return v;
      return { kind, input: input as number, output: output as number };
    }
    case "progress": {
      if (!Object.hasOwn(obj, "value")) return "progress needs a value (any JSON)";
      const event: TelemetryEvent = { kind, value: obj.value as JsonValue };
      if (obj.message !== undefined) {
        if (typeof obj.message !== "string") return "message must be a string";
        if (obj.message.length > MAX_MESSAGE_CHARS) return `message is longer than ${MAX_MESSAGE_CHARS} characters`;
        event.message = obj.message;
      }
      return event;
    }
    case "question": {
      const text = obj.text;
      if (typeof text !== "string" || text.trim() === "") return "text must be a non-empty string";
      if (text.length > MAX_QUESTION_CHARS) return `text is longer than ${MAX_QUESTION_CHARS} characters`;
      return withDetails({ kind: "question", text: text.trim() }, obj);
    }
    case "approval_request": {
      const title = obj.title;
      if (typeof title !== "string" || title.trim() === "") return "title must be a non-empty string";
      if (title.length > MAX_REQUEST_TITLE_CHARS) return `title is longer than ${MAX_REQUEST_TITLE_CHARS} characters`;
      const event: Extract<TelemetryEvent, { kind: "approval_request" }> = { kind, title: title.trim() };
      if (obj.risk !== undefined) {
        if (!(RISKS as readonly unknown[]).includes(obj.risk)) return `risk must be one of ${RISKS.join(", ")}`;
        event.risk = obj.risk as Risk;
      }
      return withDetails(event, obj);
    }
    default: {
      if (!kind.startsWith(CUSTOM_KIND_PREFIX)) {
        return `unknown overseer_event "${kind}"; use one of ${BUILT_IN_TELEMETRY_KINDS.join(", ")} or "${CUSTOM_KIND_PREFIX}<name>"`;
      }
      const name = kind.slice(CUSTOM_KIND_PREFIX.length);
      if (name.length > MAX_CUSTOM_NAME_CHARS || !CUSTOM_NAME.test(name)) {
        return `custom event name "${name}" must be lower case letters, digits, "_" or "-", dot-separated, at most ${MAX_CUSTOM_NAME_CHARS} characters`;
      }
      const { [MARKER]: _marker, ...data } = obj;
      return { kind: `custom.${name}`, data: data as { [key: string]: JsonValue } };
    }
  }
}

/** Copies an optional `details` (any JSON) onto a request event. */
function withDetails(
  event: Extract<TelemetryEvent, { kind: "question" | "approval_request" }>,
  obj: Record<string, unknown>,
): TelemetryEvent {
  if (obj.details !== undefined) event.details = obj.details as JsonValue;
  return event;
}

function pathField(obj: Record<string, unknown>): { ok: string } | { error: string } {
  const path = obj.path;
  if (typeof path !== "string" || path === "") return { error: "path must be a non-empty string" };
  if (path.length > MAX_PATH_CHARS) return { error: `path is longer than ${MAX_PATH_CHARS} characters` };
  if (path.includes("\0")) return { error: "path must not contain a NUL character" };
  return { ok: path };
}

function count(obj: Record<string, unknown>, field: string, required: boolean): number | string {
  const v = obj[field];
  if (v === undefined && !required) return 0;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
    return `${field} must be a non-negative integer${required ? "" : " when given"}`;
  }
  return v;
}

function withKind(kind: string, result: TelemetryEvent | string): TelemetryParse {
  return typeof result === "string" ? invalid(`${kind}: ${result}`, kind) : { type: "telemetry", event: result };
}

function invalid(reason: string, kind?: string): TelemetryParse {
  return kind === undefined ? { type: "invalid", reason } : { type: "invalid", reason, kind };
}

/** A loop, not a regex: `/[ \t]+$/` backtracks quadratically on a long run of blanks. */
function trimBlanks(s: string): string {
  const blank = (c: number) => c === 0x20 || c === 0x09 || c === 0x0d;
  let start = 0;
  let end = s.length;
  while (start < end && blank(s.charCodeAt(start))) start++;
  while (end > start && blank(s.charCodeAt(end - 1))) end--;
  return s.slice(start, end);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
