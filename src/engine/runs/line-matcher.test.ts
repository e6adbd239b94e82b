import { describe, expect, it } from "vitest";
import { LineMatcher, MAX_MATCHED_LINE_CHARS } from "./line-matcher.js";

function matchIn(chunks: Array<string | Buffer>, pattern: RegExp, maxLineBytes?: number): string | null {
  const m = new LineMatcher(pattern, maxLineBytes);
  for (const c of chunks) m.push(typeof c === "string" ? Buffer.from(c) : c);
  m.end();
  return m.match;
}

describe("LineMatcher", () => {
  const text = "first line\nsecond: ALL DONE — ok  \r\nALL DONE again\n";

  it("finds the first matching line, trimmed and without its CRLF, whatever the chunking", () => {
    const bytes = Buffer.from(text);
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect(matchIn([bytes.subarray(0, cut), bytes.subarray(cut)], /ALL DONE/)).toBe("second: ALL DONE — ok");
    }
    expect(
      matchIn(
        [...bytes].map((b) => Buffer.from([b])),
        /ALL DONE/,
      ),
    ).toBe("second: ALL DONE — ok");
  });

  it("tests a last line without a line break at end()", () => {
    expect(matchIn(["a\nfinished"], /^finished$/)).toBe("finished");
  });

  it("returns null when nothing matches", () => {
    expect(matchIn([text], /NOPE/)).toBeNull();
  });

  it("anchors apply per line", () => {
    expect(matchIn(["xx DONE\nDONE yy\n"], /^DONE/)).toBe("DONE yy");
  });

  it("tests a line longer than the limit in pieces, cut between characters", () => {
    const long = `${"é".repeat(100)}MARK${"z".repeat(100)}\n`;
    // 64-byte pieces: MARK starts at byte 200, inside the fourth piece (192..256).
    expect(matchIn([long], /MARK/, 64)).toMatch(/^é*MARKz*$/);
    expect(matchIn([long], /é{33}/, 64)).toBeNull(); // a piece holds at most 32 é (64 bytes)
  });

  it("keeps at most 1,000 characters of the line", () => {
    expect(matchIn([`DONE ${"x".repeat(5_000)}\n`], /DONE/)).toHaveLength(MAX_MATCHED_LINE_CHARS);
  });

  it("ignores a global flag's lastIndex", () => {
    expect(matchIn(["DONE here\nno\nDONE\n"], /DONE/g)).toBe("DONE here");
    const re = /b/g;
    expect(matchIn(["abc\n", "b\n"], re)).toBe("abc");
  });
});
