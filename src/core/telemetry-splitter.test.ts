import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ClaudeStreamJson } from "./agent-streams/claude-stream-json.js";
import { splitterFor } from "./agent-streams/index.js";
import { MAX_TELEMETRY_LINE_BYTES, parseTelemetryLine } from "./run-telemetry.js";
import { agentLines, MAX_AGENT_LINE_BYTES, type SplitItem, TelemetrySplitter } from "./telemetry-splitter.js";

const TELEMETRY = '{"overseer_event":"file_read","path":"a.ts"}';
const INVALID = '{"overseer_event":"token_usage","input":-1,"output":0}';

/** Items as plain data, adjacent outputs merged (chunking may split one output in several). */
function normalise(items: SplitItem[]): unknown[] {
  const out: unknown[] = [];
  for (const item of items) {
    const last = out[out.length - 1] as { type: string; text: string } | undefined;
    if (item.type === "output") {
      if (last?.type === "output") last.text += item.bytes.toString("latin1");
      else out.push({ type: "output", text: item.bytes.toString("latin1") });
    } else out.push(item);
  }
  return out.map((item) => {
    const o = item as { type: string; text?: string };
    return o.type === "output" ? { type: "output", text: Buffer.from(o.text!, "latin1").toString("utf8") } : o;
  });
}

function run(chunks: (string | Uint8Array)[], s = new TelemetrySplitter()): SplitItem[] {
  return [...chunks.flatMap((c) => s.push(c)), ...s.end()];
}

/** Cuts `bytes` at the given points (anywhere, including inside characters). */
function chunked(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let at = 0;
  for (const p of [...points, bytes.length]) {
    chunks.push(bytes.subarray(at, p));
    at = p;
  }
  return chunks;
}

const outputOf = (items: SplitItem[]) =>
  Buffer.concat(items.flatMap((i) => (i.type === "output" ? [i.bytes] : []))).toString("utf8");

describe("TelemetrySplitter", () => {
  it.each<[string, string[], unknown[]]>([
    ["plain lines", ["a\nb\n"], [{ type: "output", text: "a\nb\n" }]],
    [
      "a telemetry line between output",
      [`x\n${TELEMETRY}\ny\n`],
      [
        { type: "output", text: "x\n" },
        { type: "telemetry", event: { kind: "file_read", path: "a.ts" }, bytes: TELEMETRY.length + 1 },
        { type: "output", text: "y\n" },
      ],
    ],
    [
      "a telemetry line split in the middle of its JSON",
      [TELEMETRY.slice(0, 10), `${TELEMETRY.slice(10)}\n`],
      [{ type: "telemetry", event: { kind: "file_read", path: "a.ts" }, bytes: TELEMETRY.length + 1 }],
    ],
    [
      "a telemetry line with CRLF",
      [`${TELEMETRY}\r`, "\n"],
      [{ type: "telemetry", event: { kind: "file_read", path: "a.ts" }, bytes: TELEMETRY.length + 2 }],
    ],
    [
      "an indented telemetry line",
      [`  ${TELEMETRY}\n`],
      [{ type: "telemetry", event: { kind: "file_read", path: "a.ts" }, bytes: TELEMETRY.length + 3 }],
    ],
    [
      "a last telemetry line without a line break",
      ["ok\n", TELEMETRY],
      [
        { type: "output", text: "ok\n" },
        { type: "telemetry", event: { kind: "file_read", path: "a.ts" }, bytes: TELEMETRY.length },
      ],
    ],
    [
      "an invalid telemetry line stays in the output",
      [`${INVALID}\n`],
      [
        { type: "invalid", reason: "token_usage: input must be a non-negative integer", kind: "token_usage" },
        { type: "output", text: `${INVALID}\n` },
      ],
    ],
    ["JSON that is not telemetry is output", ['{"level":"info"}\n'], [{ type: "output", text: '{"level":"info"}\n' }]],
    [
      "telemetry after text on the same line is output",
      [`note ${TELEMETRY}\n`],
      [{ type: "output", text: `note ${TELEMETRY}\n` }],
    ],
    ["blank lines", ["\n  \n\t\n"], [{ type: "output", text: "\n  \n\t\n" }]],
    ["trailing blanks at the end", ["a\n   "], [{ type: "output", text: "a\n   " }]],
    [
      "a partial line without a break",
      ["progress 50%\r", "progress 100%"],
      [{ type: "output", text: "progress 50%\rprogress 100%" }],
    ],
    ["empty chunks", ["", "a", "", "\n"], [{ type: "output", text: "a\n" }]],
    [
      "two telemetry lines back to back",
      [`${TELEMETRY}\n${TELEMETRY}\n`],
      [
        { type: "telemetry", event: { kind: "file_read", path: "a.ts" }, bytes: TELEMETRY.length + 1 },
        { type: "telemetry", event: { kind: "file_read", path: "a.ts" }, bytes: TELEMETRY.length + 1 },
      ],
    ],
  ])("%s", (_label, chunks, expected) => {
    expect(normalise(run(chunks))).toEqual(expected);
  });

  it("streams output lines without waiting for their line break", () => {
    const s = new TelemetrySplitter();
    expect(normalise(s.push("hello wor"))).toEqual([{ type: "output", text: "hello wor" }]);
    expect(s.heldBytes).toBe(0);
  });

  it("holds a line that may be telemetry until its line break", () => {
    const s = new TelemetrySplitter();
    expect(s.push('{"overseer_event":')).toEqual([]);
    expect(s.heldBytes).toBe(18);
  });

  it("holds back an unfinished UTF-8 character, and never splits one in the output", () => {
    const euro = Buffer.from("€");
    const s = new TelemetrySplitter();
    const first = s.push(Buffer.concat([Buffer.from("a"), euro.subarray(0, 2)]));
    expect(normalise(first)).toEqual([{ type: "output", text: "a" }]);
    expect(s.heldBytes).toBe(2);
    expect(normalise(s.push(euro.subarray(2)))).toEqual([{ type: "output", text: "€" }]);
  });

  it("releases a too-long candidate line as output, flagging it when it claims telemetry", () => {
    const long = `{"overseer_event":"progress","value":"${"v".repeat(MAX_TELEMETRY_LINE_BYTES)}"}\n`;
    const s = new TelemetrySplitter();
    const items = [
      ...s.push(long.slice(0, MAX_TELEMETRY_LINE_BYTES + 10)),
      ...s.push(long.slice(MAX_TELEMETRY_LINE_BYTES + 10)),
    ];
    expect(items[0]).toEqual({
      type: "invalid",
      reason: `telemetry line is longer than ${MAX_TELEMETRY_LINE_BYTES} bytes`,
    });
    expect(outputOf(items)).toBe(long);
    expect(s.heldBytes).toBe(0);
  });

  it("releases a too-long JSON line that does not claim telemetry without a complaint", () => {
    const long = `{"x":"${"v".repeat(MAX_TELEMETRY_LINE_BYTES + 5)}"}\n`;
    const items = run([long]);
    expect(items.every((i) => i.type === "output")).toBe(true);
    expect(outputOf(items)).toBe(long);
  });

  it("never holds more than one telemetry line's worth of bytes", () => {
    const s = new TelemetrySplitter();
    s.push(`{${"a".repeat(MAX_TELEMETRY_LINE_BYTES * 3)}`);
    expect(s.heldBytes).toBeLessThanOrEqual(3);
    const t = new TelemetrySplitter();
    t.push(" ".repeat(MAX_TELEMETRY_LINE_BYTES * 2));
    expect(t.heldBytes).toBe(0);
  });

  it("accepts Uint8Array chunks", () => {
    expect(normalise(run([Uint8Array.from([0x68, 0x69, 0x0a])]))).toEqual([{ type: "output", text: "hi\n" }]);
  });

  it("refuses input after end, and ends only once", () => {
    const s = new TelemetrySplitter();
    s.push("{x");
    expect(s.end()).toEqual([{ type: "output", bytes: Buffer.from("{x") }]);
    expect(s.end()).toEqual([]);
    expect(() => s.push("y")).toThrow(/after end/);
  });

  describe("properties", () => {
    const piece = fc.oneof(
      fc.string({ unit: "grapheme", maxLength: 30 }),
      fc.constantFrom(
        `${TELEMETRY}\n`,
        `${INVALID}\n`,
        "\n",
        "\r\n",
        "{",
        "  {",
        '{"overseer_event":"progress","value":',
      ),
      fc
        .record({ p: fc.string({ maxLength: 10 }) })
        .map((o) => `${JSON.stringify({ overseer_event: "file_written", path: o.p || "x" })}\n`),
      fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b).toString("latin1")),
    );
    const input = fc.array(piece, { maxLength: 25 }).map((parts) => Buffer.from(parts.join(""), "utf8"));

    it("random chunkings give the same items", () => {
      fc.assert(
        fc.property(input, fc.array(fc.nat(), { maxLength: 20 }), (bytes, cuts) => {
          expect(normalise(run(chunked(bytes, cuts)))).toEqual(normalise(run([bytes])));
        }),
        { numRuns: 500 },
      );
    });

    it("loses no byte: the output is the input less exactly its valid telemetry lines", () => {
      fc.assert(
        fc.property(input, fc.array(fc.nat(), { maxLength: 20 }), (bytes, cuts) => {
          const items = run(chunked(bytes, cuts));
          // Oracle: cut the whole input at line breaks and parse each line on its own.
          const expectedOutput: Buffer[] = [];
          const expectedEvents: unknown[] = [];
          let at = 0;
          while (at < bytes.length) {
            const nl = bytes.indexOf(0x0a, at);
            const end = nl === -1 ? bytes.length : nl + 1;
            const lineBytes = bytes.subarray(at, end);
            const parsed = parseTelemetryLine(lineBytes.toString("utf8"));
            if (parsed.type === "telemetry") expectedEvents.push(parsed.event);
            else expectedOutput.push(lineBytes);
            at = end;
          }
          const output = Buffer.concat(items.flatMap((i) => (i.type === "output" ? [i.bytes] : [])));
          expect(output.equals(Buffer.concat(expectedOutput))).toBe(true);
          expect(items.flatMap((i) => (i.type === "telemetry" ? [i.event] : []))).toEqual(expectedEvents);
          const telBytes = items.reduce((n, i) => n + (i.type === "telemetry" ? i.bytes : 0), 0);
          expect(output.length + telBytes).toBe(bytes.length);
        }),
        { numRuns: 500 },
      );
    });

    it("output is only cut between characters of valid UTF-8", () => {
      fc.assert(
        fc.property(
          fc.string({ unit: "grapheme", maxLength: 200 }),
          fc.array(fc.nat(), { maxLength: 20 }),
          (s, cuts) => {
            const s2 = new TelemetrySplitter();
            const bytes = Buffer.from(s, "utf8");
            for (const chunk of chunked(bytes, cuts)) {
              for (const item of s2.push(chunk)) {
                if (item.type === "output") {
                  expect(Buffer.from(item.bytes.toString("utf8"), "utf8").equals(item.bytes)).toBe(true);
                }
              }
            }
          },
        ),
      );
    });
  });
});

describe("TelemetrySplitter with an agent stream", () => {
  const SAMPLE = readFileSync(new URL("./agent-streams/samples/claude-stream-json.jsonl", import.meta.url));
  const claude = () => new TelemetrySplitter(agentLines(new ClaudeStreamJson()));
  const READ =
    '{"type":"assistant","message":{"id":"m1","content":[{"type":"tool_use","id":"t1","name":"Read","input":{"file_path":"/w/a.ts"}}]}}';
  const READ_DONE = '{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"t1","content":"1 a"}]}}';

  it.each<[string, string[], unknown[]]>([
    [
      "a line of the agent's format becomes its events and its text",
      [`${READ}\n${READ_DONE}\n`],
      [
        { type: "output", text: "→ Read /w/a.ts\n" },
        { type: "telemetry", event: { kind: "file_read", path: "/w/a.ts" }, bytes: READ_DONE.length + 1 },
      ],
    ],
    [
      "plain output and unknown JSON stay as printed",
      ["npm WARN x\n", '{"level":"info"}\r\n', "  {not json\n"],
      [{ type: "output", text: 'npm WARN x\n{"level":"info"}\r\n  {not json\n' }],
    ],
    [
      "an overseer_event line is still telemetry",
      [`${TELEMETRY}\n`],
      [{ type: "telemetry", event: { kind: "file_read", path: "a.ts" }, bytes: TELEMETRY.length + 1 }],
    ],
    [
      "an invalid overseer_event line is flagged and kept",
      [`${INVALID}\n`],
      [
        { type: "invalid", reason: "token_usage: input must be a non-negative integer", kind: "token_usage" },
        { type: "output", text: `${INVALID}\n` },
      ],
    ],
    [
      "a CRLF line and a last line without a break",
      [`${READ}\r\n`, '{"type":"system","subtype":"init","session_id":"s","model":"m","tools":[]}'],
      [{ type: "output", text: "→ Read /w/a.ts\nsession s: m, 0 tools\n" }],
    ],
    [
      "an agent line that only mentions overseer_event is the agent's",
      [
        '{"type":"assistant","message":{"id":"m","content":[{"type":"text","text":"prints {\\"overseer_event\\": ...}"}]}}\n',
      ],
      [{ type: "output", text: 'prints {"overseer_event": ...}\n' }],
    ],
  ])("%s", (_label, chunks, expected) => {
    expect(normalise(run(chunks, claude()))).toEqual(expected);
  });

  it("keeps a line longer than it reads as printed, with a warning, holding a bounded amount", () => {
    const long = `{"type":"user","message":{"content":"${"v".repeat(MAX_AGENT_LINE_BYTES)}"}}\n`;
    const s = claude();
    const items = [...s.push(long.slice(0, MAX_AGENT_LINE_BYTES / 2))];
    expect(s.heldBytes).toBe(MAX_AGENT_LINE_BYTES / 2);
    items.push(...s.push(long.slice(MAX_AGENT_LINE_BYTES / 2)), ...s.end());
    expect(items[0]).toMatchObject({ type: "invalid", reason: expect.stringContaining("longer than 1048576 bytes") });
    expect(outputOf(items)).toBe(long);
    expect(s.heldBytes).toBe(0);
  });

  it("reads the overseer mode's lines the way the default splitter does", () => {
    const input = `a\n${TELEMETRY}\n${READ}\n`;
    expect(run([input], splitterFor("overseer"))).toEqual(run([input]));
    expect(run([input], splitterFor())).toEqual(run([input]));
  });

  it("random chunkings of a whole session give the same items", () => {
    const noise = fc.oneof(
      fc.string({ unit: "grapheme", maxLength: 20 }),
      fc.constantFrom(`${TELEMETRY}\n`, "\n", "{", "\r\n"),
      fc.uint8Array({ maxLength: 6 }).map((b) => Buffer.from(b).toString("latin1")),
    );
    fc.assert(
      fc.property(fc.array(noise, { maxLength: 5 }), fc.array(fc.nat(), { maxLength: 30 }), (extra, cuts) => {
        const bytes = Buffer.concat([SAMPLE, Buffer.from(extra.join(""), "utf8")]);
        expect(normalise(run(chunked(bytes, cuts), claude()))).toEqual(normalise(run([bytes], claude())));
      }),
      { numRuns: 200 },
    );
  });

  it("loses no byte of a stream the adapter does not know", () => {
    const piece = fc.oneof(
      fc.string({ unit: "grapheme", maxLength: 30 }),
      fc.constantFrom('{"type":"other"}\n', "{", "\n", "[1]\n", '{"type":"assistant"}\n'),
      fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b).toString("latin1")),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 25 }), fc.array(fc.nat(), { maxLength: 20 }), (parts, cuts) => {
        const bytes = Buffer.from(parts.join(""), "utf8");
        const items = run(chunked(bytes, cuts), claude());
        const output = Buffer.concat(items.flatMap((i) => (i.type === "output" ? [i.bytes] : [])));
        expect(output.equals(bytes)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
