/**
 * An agent stream adapter reads the JSON Lines an agent CLI prints (Claude Code's stream-json,
 * Codex's exec --json...) and says, line by line, which telemetry events the line carries and
 * what readable text to store as the turn's output in its place. Adapters are pure apart from
 * the little state one stream needs (ids already counted, tool calls waiting for their result);
 * one is created per turn and per stream. They never throw, and what they keep is bounded.
 */
import { MAX_PATH_CHARS, MAX_TAIL_PREVIEW_CHARS, type TelemetryEvent } from "../run-telemetry.js";

/** What one line of an agent's stream means. */
export interface AgentLine {
  events: readonly TelemetryEvent[];
  /** Readable text stored as output in place of the line (a line break is added); null: nothing. */
  text: string | null;
}

export interface AgentStreamAdapter {
  /**
   * One complete line, without its line break. Null: not a line of this format (not JSON, or JSON
   * of a type the adapter does not know); the caller keeps it as output, byte for byte.
   */
  parseLine(line: string): AgentLine | null;
}

/** Most ids an adapter remembers (counted messages, pending tool calls); the oldest go first. */
export const MAX_REMEMBERED_IDS = 1_000;

export type JsonObject = Record<string, unknown>;

/** A line of the format that carries nothing to count or store. Shared, so frozen. */
export const NOTHING: AgentLine = Object.freeze({ events: Object.freeze([]), text: null });

export function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The line as a JSON object, or null. Cheap first test: most plain output fails it. */
export function parseObject(line: string): JsonObject | null {
  const text = line.trim();
  if (!text.startsWith("{") || !text.endsWith("}")) return null;
  try {
    const parsed: unknown = JSON.parse(text);
    return isObject(parsed) ? parsed : null;
  } catch {
    // Not JSON after all: the caller keeps the line as it was printed.
    return null;
  }
}

export const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/** A token count: a non-negative safe integer, anything else 0 (a bad field must not poison totals). */
export const count = (v: unknown): number => (typeof v === "number" && Number.isSafeInteger(v) && v > 0 ? v : 0);

/** A file path as telemetry may hold it: no NUL, at most MAX_PATH_CHARS; null when empty. */
export function boundedPath(v: unknown): string | null {
  if (typeof v !== "string") return null;
  const path = v.replaceAll("\0", "");
  if (path === "") return null;
  // Cut, not dropped: the event still counts as a file touched.
  return path.length > MAX_PATH_CHARS ? path.slice(0, MAX_PATH_CHARS) : path;
}

/** The end of a command's output for the stored text: its last MAX_TAIL_PREVIEW_CHARS characters. */
export function tail(text: string): string {
  const trimmed = text.replace(/\s+$/, "");
  const chars = Array.from(trimmed);
  if (chars.length <= MAX_TAIL_PREVIEW_CHARS) return trimmed;
  const left = chars.length - MAX_TAIL_PREVIEW_CHARS;
  return `[... ${left} earlier characters left out]\n${chars.slice(left).join("")}`;
}

/** One line of at most `max` characters, for labels such as `→ Grep pattern`. */
export function oneLine(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** A map from ids, bounded to MAX_REMEMBERED_IDS entries; adding past it forgets the oldest. */
export class BoundedMap<V> {
  private readonly map = new Map<string, V>();
  get(key: string): V | undefined {
    return this.map.get(key);
  }
  has(key: string): boolean {
    return this.map.has(key);
  }
  set(key: string, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > MAX_REMEMBERED_IDS) this.map.delete(this.map.keys().next().value as string);
  }
  take(key: string): V | undefined {
    const value = this.map.get(key);
    this.map.delete(key);
    return value;
  }
}
