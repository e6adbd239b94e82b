/**
 * Splits one stream of a turn (stdout or stderr) into telemetry events and output bytes, across
 * arbitrary chunk boundaries. A line that starts with `{` (after blanks) is held until its line
 * break and read by a `LineReader`; any other line goes out as it arrives. Invariants: output is
 * only ever cut between UTF-8 characters, so two streams may be interleaved into one stored
 * output; the bytes held back are bounded (one line of the reader's `maxLineBytes`, or 3 bytes of
 * a character); and a line is never lost: it is output byte for byte unless its reader says what
 * it stands for. With the default reader (Overseer's own `overseer_event` lines) the output items,
 * concatenated, are the input minus exactly the lines that became valid telemetry, line breaks
 * included; with an agent stream's reader (`agentLines`) a line the agent's format knows is
 * replaced by the readable text its adapter gives.
 */
import type { AgentStreamAdapter } from "./agent-streams/agent-stream.js";
import { MAX_TELEMETRY_LINE_BYTES, parseTelemetryLine, type TelemetryEvent } from "./run-telemetry.js";
import { completePrefixLength } from "./utf8-boundary.js";

export type SplitItem =
  | { type: "output"; bytes: Buffer }
  /**
   * `bytes`: length of the line it came from, line break included; that line is not in the output
   * (one line of an agent stream may carry several events, each with the line's length).
   */
  | { type: "telemetry"; event: TelemetryEvent; bytes: number }
  /** A line that claimed to be telemetry and was not; it is also in the output that follows. */
  | { type: "invalid"; reason: string; kind?: string };

/** Reads the lines that start with `{`: the only ones that may be telemetry. */
export interface LineReader {
  /** Longest line body held while deciding, line break excluded; a longer line is output as it comes. */
  readonly maxLineBytes: number;
  /** One complete line, its line break included (none for a last line without one). */
  read(line: Buffer): SplitItem[];
  /** The first `maxLineBytes + 2` bytes of a line too long to read; it is output as is after these items. */
  tooLong(head: Buffer): SplitItem[];
}

const NEWLINE = 0x0a;
const OPEN_BRACE = 0x7b;
const isBlank = (b: number): boolean => b === 0x20 || b === 0x09 || b === 0x0d;
const MARKER = Buffer.from("overseer_event");
const LINE_BREAK = Buffer.from("\n");

/** Overseer's own telemetry: `{"overseer_event": ...}` lines, at most MAX_TELEMETRY_LINE_BYTES. */
export const overseerLines: LineReader = {
  maxLineBytes: MAX_TELEMETRY_LINE_BYTES,
  read: readOverseerLine,
  tooLong: (head) =>
    head.includes(MARKER)
      ? [{ type: "invalid", reason: `telemetry line is longer than ${MAX_TELEMETRY_LINE_BYTES} bytes` }]
      : [],
};

function readOverseerLine(line: Buffer): SplitItem[] {
  const parsed = parseTelemetryLine(line.toString("utf8"));
  if (parsed.type === "telemetry") return [{ type: "telemetry", event: parsed.event, bytes: line.length }];
  const output: SplitItem = { type: "output", bytes: line };
  return parsed.type === "invalid" ? [parsed, output] : [output];
}

/**
 * Longest agent stream line read, in bytes. Agents print whole tool results on one line (a file
 * read, a test run's output), so this is far above an `overseer_event` line's limit; a longer
 * line is kept as output without being read, and a warning says so.
 */
export const MAX_AGENT_LINE_BYTES = 1024 * 1024;

/**
 * An agent's JSON Lines through its adapter. `overseer_event` lines still count as telemetry
 * first (a wrapper around the agent may print both); a line the adapter does not know is output
 * byte for byte; a line it knows becomes its events and its text (plus a line break).
 */
export function agentLines(adapter: AgentStreamAdapter): LineReader {
  return {
    maxLineBytes: MAX_AGENT_LINE_BYTES,
    read(line) {
      const text = line.toString("utf8").replace(/\r?\n$/, "");
      // Only a line short enough to be telemetry is asked: a longer one merely quotes the marker.
      if (line.length <= MAX_TELEMETRY_LINE_BYTES + 2 && text.includes("overseer_event")) {
        const own = readOverseerLine(line);
        if (own[0]?.type !== "output") return own;
      }
      const parsed = adapter.parseLine(text);
      if (parsed === null) return [{ type: "output", bytes: line }];
      const items: SplitItem[] = parsed.events.map((event) => ({ type: "telemetry", event, bytes: line.length }));
      if (parsed.text !== null) {
        items.push({ type: "output", bytes: Buffer.concat([Buffer.from(parsed.text, "utf8"), LINE_BREAK]) });
      }
      return items;
    },
    tooLong: () => [
      {
        type: "invalid",
        reason: `an agent stream line is longer than ${MAX_AGENT_LINE_BYTES} bytes; it was stored as printed, without its telemetry`,
      },
    ],
  };
}

/**
 * - `line-start`: only blanks seen on this line so far; it may still be telemetry.
 * - `candidate`: the line starts with `{`; held until its line break (or until too long).
 * - `passthrough`: the line cannot be telemetry; its bytes go out as they arrive.
 */
type Mode = "line-start" | "candidate" | "passthrough";

export class TelemetrySplitter {
  private pending: Buffer = Buffer.alloc(0);
  /** Longest line body held while deciding; +1 leaves room for the `\r` of a `\r\n` break. */
  private readonly holdLimit: number;
  private mode: Mode = "line-start";
  /** How far a held candidate line has been searched for its line break. */
  private scanned = 0;
  private ended = false;

  constructor(private readonly reader: LineReader = overseerLines) {
    this.holdLimit = reader.maxLineBytes + 1;
  }

  /** Feeds a chunk (a string is taken as UTF-8); returns what can be decided so far. */
  push(chunk: Uint8Array | string): SplitItem[] {
    if (this.ended) throw new Error("TelemetrySplitter.push called after end()");
    const bytes = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk;
    if (bytes.length === 0) return [];
    this.pending = Buffer.concat([this.pending, bytes]);
    return this.drain(false);
  }

  /** The stream is over: a last line without a line break is parsed too; nothing stays held. */
  end(): SplitItem[] {
    if (this.ended) return [];
    this.ended = true;
    return this.drain(true);
  }

  /** Bytes held back, waiting for a line break or the rest of a character. */
  get heldBytes(): number {
    return this.pending.length;
  }

  private drain(final: boolean): SplitItem[] {
    const out: SplitItem[] = [];
    // Adjacent output is gathered and joined once: joining line by line would be quadratic.
    let parts: Buffer[] = [];
    const emitOutput = (bytes: Buffer): void => {
      if (bytes.length > 0) parts.push(bytes);
    };
    const emitItem = (item: SplitItem): void => {
      endOutput();
      out.push(item);
    };
    const endOutput = (): void => {
      if (parts.length > 0) out.push({ type: "output", bytes: parts.length === 1 ? parts[0]! : Buffer.concat(parts) });
      parts = [];
    };
    while (this.pending.length > 0) {
      const p = this.pending;
      if (this.mode === "line-start") {
        let i = 0;
        while (i < p.length && isBlank(p[i]!)) i++;
        if (i > this.holdLimit) {
          this.mode = "passthrough";
          continue;
        }
        if (i === p.length) {
          if (!final) break;
          emitOutput(p);
          this.pending = Buffer.alloc(0);
          break;
        }
        this.mode = p[i] === OPEN_BRACE ? "candidate" : "passthrough";
        continue;
      }
      // A held candidate line was already searched up to `scanned` on earlier pushes.
      const nl = p.indexOf(NEWLINE, this.mode === "candidate" ? this.scanned : 0);
      if (this.mode === "candidate") {
        const body = nl === -1 ? p.length : nl;
        if (body > this.holdLimit) {
          // Too long to be read. Show the reader only a fixed-size head, so the verdict does not
          // depend on how the stream was chunked.
          for (const item of this.reader.tooLong(p.subarray(0, this.holdLimit + 1))) emitItem(item);
          this.mode = "passthrough";
          this.scanned = 0;
          continue;
        }
        if (nl === -1 && !final) {
          this.scanned = p.length;
          break;
        }
        const end = nl === -1 ? p.length : nl + 1;
        for (const item of this.reader.read(p.subarray(0, end))) {
          if (item.type === "output") emitOutput(item.bytes);
          else emitItem(item);
        }
        this.pending = p.subarray(end);
        this.mode = "line-start";
        this.scanned = 0;
        continue;
      }
      // passthrough
      if (nl !== -1) {
        emitOutput(p.subarray(0, nl + 1));
        this.pending = p.subarray(nl + 1);
        this.mode = "line-start";
        continue;
      }
      const cut = final ? p.length : completePrefixLength(p);
      emitOutput(p.subarray(0, cut));
      this.pending = p.subarray(cut);
      break;
    }
    // Keep a compact copy so a small remainder does not pin a large chunk in memory.
    if (this.pending.length > 0) this.pending = Buffer.from(this.pending);
    endOutput();
    return out;
  }
}
