/**
 * Finds the first output line of one stream that matches a run's completion pattern, whatever
 * the chunking. Memory is bounded: a line longer than `maxLineBytes` is tested in pieces (cut
 * between UTF-8 characters), so a pattern spanning a piece boundary of such a line can be missed.
 */
import { cutAtOrBefore } from "../../core/utf8-boundary.js";

export const MAX_MATCH_LINE_BYTES = 64 * 1024;
/** The recorded line is trimmed and kept to this many characters. */
export const MAX_MATCHED_LINE_CHARS = 1_000;

const NEWLINE = 0x0a;

export class LineMatcher {
  private parts: Buffer[] = [];
  private partBytes = 0;
  private found: string | null = null;

  constructor(
    private readonly pattern: RegExp,
    private readonly maxLineBytes = MAX_MATCH_LINE_BYTES,
  ) {}

  /** The first matching line, trimmed and shortened; null until one matched. */
  get match(): string | null {
    return this.found;
  }

  push(bytes: Uint8Array): void {
    let start = 0;
    while (this.found === null && start < bytes.length) {
      const nl = bytes.indexOf(NEWLINE, start);
      this.add(bytes.subarray(start, nl === -1 ? bytes.length : nl));
      if (nl === -1) return;
      this.test();
      start = nl + 1;
    }
  }

  /** The stream ended: a last line without a line break is tested too. */
  end(): void {
    if (this.found === null && this.partBytes > 0) this.test();
    this.parts = [];
    this.partBytes = 0;
  }

  private add(piece: Uint8Array): void {
    while (this.found === null && this.partBytes + piece.length > this.maxLineBytes) {
      const room = this.maxLineBytes - this.partBytes;
      let cut = cutAtOrBefore(piece, room);
      // No whole character fits in the room left: test what is held and start a new piece.
      if (cut === 0 && this.partBytes === 0) cut = Math.min(room, piece.length);
      this.keep(piece.subarray(0, cut));
      this.test();
      piece = piece.subarray(cut);
    }
    if (this.found === null) this.keep(piece);
  }

  private keep(piece: Uint8Array): void {
    if (piece.length === 0) return;
    // A copy, so a held partial line does not pin the whole chunk it came from.
    this.parts.push(Buffer.from(piece));
    this.partBytes += piece.length;
  }

  private test(): void {
    const line = Buffer.concat(this.parts, this.partBytes).toString("utf8").replace(/\r$/, "");
    this.parts = [];
    this.partBytes = 0;
    this.pattern.lastIndex = 0; // a /g or /y pattern would otherwise resume where it last stopped
    if (this.pattern.test(line)) this.found = line.trim().slice(0, MAX_MATCHED_LINE_CHARS);
  }
}
