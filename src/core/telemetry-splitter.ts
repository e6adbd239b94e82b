/**
 * Splits one stream of a turn (stdout or stderr) into telemetry events and output bytes, across
 * arbitrary chunk boundaries. Invariants: the output items, concatenated, are the input minus
 * exactly the lines that became valid telemetry (byte for byte, line breaks included); output is
 * only ever cut between UTF-8 characters, so two streams may be interleaved into one stored
 * output; and the bytes held back are bounded (one telemetry line, or 3 bytes of a character).
 */
import { MAX_TELEMETRY_LINE_BYTES, parseTelemetryLine, type TelemetryEvent } from "./run-telemetry.js";
import { completePrefixLength } from "./utf8-boundary.js";

export type SplitItem =
  | { type: "output"; bytes: Buffer }
  /** `bytes`: length of the line it came from, line break included (it is not in the output). */
  | { type: "telemetry"; event: TelemetryEvent; bytes: number }
  /** A line that claimed to be telemetry and was not; it is also in the output that follows. */
  | { type: "invalid"; reason: string; kind?: string };

const NEWLINE = 0x0a;
const OPEN_BRACE = 0x7b;
const isBlank = (b: number): boolean => b === 0x20 || b === 0x09 || b === 0x0d;
const MARKER = Buffer.from("overseer_event");
/** Longest line body held while deciding; +1 leaves room for the `\r` of a `\r\n` break. */
const HOLD_LIMIT = MAX_TELEMETRY_LINE_BYTES + 1;

/**
 * - `line-start`: only blanks seen on this line so far; it may still be telemetry.
 * - `candidate`: the line starts with `{`; held until its line break (or until too long).
 * - `passthrough`: the line cannot be telemetry; its bytes go out as they arrive.
 */
type Mode = "line-start" | "candidate" | "passthrough";

export class TelemetrySplitter {
  private pending: Buffer = Buffer.alloc(0);
  private mode: Mode = "line-start";
  /** How far a held candidate line has been searched for its line break. */
  private scanned = 0;
  private ended = false;

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
        if (i > HOLD_LIMIT) {
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
        if (body > HOLD_LIMIT) {
          // Too long to be telemetry. Look only at a fixed-size head, so the verdict does not
          // depend on how the stream was chunked.
          if (p.subarray(0, HOLD_LIMIT + 1).includes(MARKER)) {
            emitItem({ type: "invalid", reason: `telemetry line is longer than ${MAX_TELEMETRY_LINE_BYTES} bytes` });
          }
          this.mode = "passthrough";
          this.scanned = 0;
          continue;
        }
        if (nl === -1 && !final) {
          this.scanned = p.length;
          break;
        }
        const end = nl === -1 ? p.length : nl + 1;
        const line = p.subarray(0, end);
        const parsed = parseTelemetryLine(line.toString("utf8"));
        if (parsed.type === "telemetry") emitItem({ type: "telemetry", event: parsed.event, bytes: line.length });
        else {
          if (parsed.type === "invalid") emitItem(parsed);
          emitOutput(line);
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
