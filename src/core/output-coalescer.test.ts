import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { OverseerError } from "./errors.js";
import { type OutputChunkEvent, OutputCoalescer, OutputRateWindow } from "./output-coalescer.js";

const KB2 = 2_048;
const line = (n: number, width = 99) => `${String(n).padStart(width, "x")}\n`; // width + 1 bytes

describe("OutputCoalescer: chunking", () => {
  it("holds a short chunk for flush, and emits it there", () => {
    const c = new OutputCoalescer();
    expect(c.push("hello\n", 0)).toEqual([]);
    expect(c.nextFlushAt()).toBe(0);
    expect(c.flush(0)).toEqual([{ offset: 0, bytes: 6, text: "hello\n", truncated: false, skippedBytes: 0 }]);
    expect(c.nextFlushAt()).toBeUndefined();
  });

  it("emits full chunks from push, cut after the last line break within 2 KB", () => {
    const c = new OutputCoalescer();
    const text = Array.from({ length: 30 }, (_, i) => line(i)).join(""); // 3000 bytes, 100 per line
    const events = c.push(text, 0);
    expect(events).toEqual([
      { offset: 0, bytes: 2_000, text: text.slice(0, 2_000), truncated: false, skippedBytes: 0 },
    ]);
    expect(c.flush(100)).toEqual([
      { offset: 2_000, bytes: 1_000, text: text.slice(2_000), truncated: false, skippedBytes: 0 },
    ]);
  });

  it("cuts a chunk with no line break at exactly 2 KB", () => {
    const c = new OutputCoalescer();
    const events = c.push("a".repeat(KB2 + 1), 0);
    expect(events.map((e) => e.bytes)).toEqual([KB2]);
  });

  it("does not emit a full chunk of exactly 2 KB from push (one more byte could change the cut)", () => {
    const c = new OutputCoalescer();
    expect(c.push("a".repeat(KB2), 0)).toEqual([]);
    expect(c.flush(0).map((e) => e.bytes)).toEqual([KB2]);
  });

  it("never splits a character across chunks", () => {
    const c = new OutputCoalescer();
    const text = `${"a".repeat(KB2 - 1)}€tail`; // € straddles the 2 KB mark
    const events = [...c.push(text, 0), ...c.flush(100)];
    expect(events.map((e) => e.text)).toEqual(["a".repeat(KB2 - 1), "€tail"]);
    expect(events.map((e) => e.offset)).toEqual([0, KB2 - 1]);
  });

  it("decodes characters split across pushes", () => {
    const c = new OutputCoalescer();
    const face = Buffer.from("😀");
    c.push(face.subarray(0, 1), 0);
    expect(c.flush(0)).toEqual([]);
    expect(c.nextFlushAt()).toBeUndefined();
    c.push(face.subarray(1, 3), 0);
    c.push(face.subarray(3), 0);
    expect(c.flush(0).map((e) => e.text)).toEqual(["😀"]);
  });

  it("emits an unfinished character at the end as U+FFFD, counting its bytes", () => {
    const c = new OutputCoalescer();
    c.push(Buffer.from([0x61, 0xe2, 0x82]), 0);
    expect(c.flush(0).map((e) => e.text)).toEqual(["a"]);
    expect(c.end(200)).toEqual([{ offset: 1, bytes: 2, text: "\uFFFD", truncated: false, skippedBytes: 0 }]);
    expect(c.drained).toBe(true);
    expect(c.counters).toMatchObject({ bytesIn: 3, bytesEmitted: 3, bytesSkipped: 0, bytesPending: 0 });
  });

  it("passes invalid bytes through as U+FFFD without stalling", () => {
    const c = new OutputCoalescer();
    c.push(Buffer.from([0xff, 0x80, 0x80]), 0);
    expect(c.flush(0)).toEqual([
      { offset: 0, bytes: 3, text: "\uFFFD\uFFFD\uFFFD", truncated: false, skippedBytes: 0 },
    ]);
  });

  it("ignores empty pushes and refuses pushes after end", () => {
    const c = new OutputCoalescer();
    expect(c.push("", 0)).toEqual([]);
    expect(c.flush(0)).toEqual([]);
    c.end(0);
    expect(c.drained).toBe(true);
    expect(() => c.push("x", 1)).toThrow(/after end/);
  });
});

describe("OutputCoalescer: rate limit", () => {
  it("emits at most 10 events per second and says when the next may go", () => {
    const c = new OutputCoalescer();
    const events = c.push("a".repeat(KB2 * 15), 0);
    expect(events).toHaveLength(10);
    expect(c.flush(999)).toEqual([]);
    expect(c.nextFlushAt()).toBe(1_000);
    expect(c.flush(1_000)).toHaveLength(4); // the full chunks; the last 2 KB is short, so spaced
    expect(c.nextFlushAt()).toBe(1_100);
    expect(c.flush(1_100)).toHaveLength(1);
  });

  it("spaces short chunks at least 100 ms apart so small writes gather", () => {
    const c = new OutputCoalescer();
    c.push("a", 0);
    expect(c.flush(0)).toHaveLength(1);
    c.push("b", 10);
    expect(c.flush(10)).toEqual([]);
    c.push("c", 50);
    expect(c.nextFlushAt()).toBe(100);
    expect(c.flush(100).map((e) => e.text)).toEqual(["bc"]);
  });

  it("lets full chunks through without the spacing, within the window", () => {
    const c = new OutputCoalescer();
    c.push("a", 0);
    c.flush(0);
    expect(c.push("b".repeat(KB2 * 2), 1)).toHaveLength(1);
  });

  it("shares one budget between the turns of a run", () => {
    const rate = new OutputRateWindow();
    const turn1 = new OutputCoalescer({ rate });
    const turn2 = new OutputCoalescer({ rate });
    expect(turn1.push("a".repeat(KB2 * 7), 0)).toHaveLength(6);
    expect(turn2.push("b".repeat(KB2 * 7), 0)).toHaveLength(4);
    expect(turn1.flush(500)).toEqual([]);
    expect(turn2.nextFlushAt()).toBe(1_000);
    expect(turn2.push("c", 10)[0]).toBeUndefined();
  });

  it("treats a clock that steps back as standing still", () => {
    const c = new OutputCoalescer();
    expect(c.push("a".repeat(KB2 * 11), 5_000)).toHaveLength(10);
    expect(c.flush(0)).toEqual([]);
    expect(c.flush(5_999)).toEqual([]);
    expect(c.flush(6_000)).toHaveLength(1);
  });

  it("accepts a different budget", () => {
    const c = new OutputCoalescer({ rate: new OutputRateWindow({ maxEvents: 2, windowMs: 100, minIntervalMs: 0 }) });
    expect(c.push("a".repeat(KB2 * 5), 0)).toHaveLength(2);
    expect(c.flush(100)).toHaveLength(2);
  });
});

describe("OutputCoalescer: faster than the budget", () => {
  it("skips old bytes in the event stream only, saying how many and where", () => {
    const c = new OutputCoalescer(); // keeps at most 20 KB pending
    const first = c.push("a".repeat(KB2 * 10 + 1), 0); // 10 full chunks fit the budget
    expect(first).toHaveLength(10);
    c.push("b".repeat(30_000), 10);
    expect(c.counters).toMatchObject({
      bytesIn: 50_481,
      bytesEmitted: 20_480,
      bytesSkipped: 9_521,
      bytesPending: 20_480,
    });
    const [next] = c.flush(1_000);
    expect(next).toEqual({ offset: 30_001, bytes: KB2, text: "b".repeat(KB2), truncated: true, skippedBytes: 9_521 });
  });

  it("keeps memory bounded and accounts for every byte of a 5 MB flood", () => {
    const c = new OutputCoalescer();
    const chunk = Buffer.from(line(7, 1_000).repeat(64)); // 64 KB
    const events: OutputChunkEvent[] = [];
    let now = 0;
    for (let i = 0; i < 80; i++) {
      events.push(...c.push(chunk, now));
      expect(c.counters.bytesPending).toBeLessThanOrEqual(c.maxPendingBytes);
      now += 5; // 64 KB every 5 ms: about 12 MB/s
    }
    events.push(...c.end(now));
    while (!c.drained) events.push(...c.flush(c.nextFlushAt()!));
    const { bytesIn, bytesEmitted, bytesSkipped, bytesPending } = c.counters;
    expect(bytesIn).toBe(80 * chunk.length);
    expect(bytesEmitted + bytesSkipped + bytesPending).toBe(bytesIn);
    expect(bytesPending).toBe(0);
    expect(events.some((e) => e.truncated)).toBe(true);
    expect(events.reduce((n, e) => n + e.skippedBytes, 0)).toBe(bytesSkipped);
  });
});

describe("OutputCoalescer: options", () => {
  it.each([
    [{ maxChunkBytes: 0 }, "maxChunkBytes"],
    [{ maxChunkBytes: 3 }, "maxChunkBytes"],
    [{ maxChunkBytes: 1.5 }, "maxChunkBytes"],
    [{ maxChunkBytes: 100, maxPendingBytes: 100 }, "maxPendingBytes"],
  ])("refuses %j naming %s", (options, field) => {
    const err = (() => {
      try {
        new OutputCoalescer(options);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(OverseerError);
    expect(err).toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringContaining(field) });
  });

  it.each([
    [{ maxEvents: 0 }, "maxEvents"],
    [{ windowMs: -1 }, "windowMs"],
    [{ minIntervalMs: -1 }, "minIntervalMs"],
    [{ maxEvents: Number.NaN }, "maxEvents"],
  ])("rate window refuses %j naming %s", (options, field) => {
    expect(() => new OutputRateWindow(options)).toThrow(field);
  });
});

describe("OutputCoalescer: properties", () => {
  const MAX_CHUNK = 16;
  const MAX_PENDING = 64;
  const WINDOW = 1_000;
  const MAX_EVENTS = 10;

  /** One step: some bytes arrive at once after `dt` ms, then maybe a flush at that instant. */
  const step = (text: fc.Arbitrary<Uint8Array>) =>
    fc.record({
      dt: fc.integer({ min: 0, max: 250 }),
      bytes: text,
      flush: fc.boolean(),
      cuts: fc.array(fc.nat(), { maxLength: 4 }),
    });
  const utf8Text = fc.string({ unit: "grapheme", maxLength: 60 }).map((s) => Buffer.from(s, "utf8"));
  const anyBytes = fc.uint8Array({ maxLength: 60 });

  function drive(steps: { dt: number; bytes: Uint8Array; flush: boolean; cuts: number[] }[], split: boolean) {
    const c = new OutputCoalescer({
      maxChunkBytes: MAX_CHUNK,
      maxPendingBytes: MAX_PENDING,
      rate: new OutputRateWindow({ maxEvents: MAX_EVENTS, windowMs: WINDOW }),
    });
    const log: { at: number; event: OutputChunkEvent }[] = [];
    const record = (at: number, events: OutputChunkEvent[]) => {
      for (const event of events) log.push({ at, event });
    };
    let now = 0;
    for (const s of steps) {
      now += s.dt;
      const points = split ? [...new Set(s.cuts.map((c) => c % (s.bytes.length + 1)))].sort((a, b) => a - b) : [];
      let at = 0;
      for (const p of [...points, s.bytes.length]) {
        record(now, c.push(s.bytes.subarray(at, p), now));
        expect(c.counters.bytesPending).toBeLessThanOrEqual(MAX_PENDING);
        at = p;
      }
      if (s.flush) record(now, c.flush(now));
    }
    record(now, c.end(now));
    for (let i = 0; !c.drained; i++) {
      expect(i).toBeLessThan(10_000);
      const at = c.nextFlushAt()!;
      expect(at).toBeGreaterThanOrEqual(now);
      now = at;
      const events = c.flush(now);
      expect(events.length).toBeGreaterThan(0); // nextFlushAt never points at an empty flush
      record(now, events);
    }
    return { log, counters: c.counters };
  }

  it("random chunkings of the same input give the same events", () => {
    fc.assert(
      fc.property(fc.array(step(utf8Text), { maxLength: 30 }), (steps) => {
        expect(drive(steps, true).log).toEqual(drive(steps, false).log);
      }),
      { numRuns: 300 },
    );
  });

  it("never loses a byte and never exceeds the rate or the chunk size", () => {
    fc.assert(
      fc.property(fc.array(step(fc.oneof(utf8Text, anyBytes)), { maxLength: 40 }), fc.boolean(), (steps, split) => {
        const input = Buffer.concat(steps.map((s) => s.bytes));
        const { log, counters } = drive(steps, split);
        let end = 0;
        let skipped = 0;
        for (const { event } of log) {
          expect(event.bytes).toBeGreaterThan(0);
          expect(event.bytes).toBeLessThanOrEqual(MAX_CHUNK);
          expect(event.offset).toBe(end + event.skippedBytes);
          expect(event.truncated).toBe(event.skippedBytes > 0);
          expect(event.text).toBe(input.subarray(event.offset, event.offset + event.bytes).toString("utf8"));
          end = event.offset + event.bytes;
          skipped += event.skippedBytes;
        }
        expect(end).toBe(input.length);
        expect(counters).toMatchObject({
          bytesIn: input.length,
          bytesEmitted: input.length - skipped,
          bytesSkipped: skipped,
          bytesPending: 0,
          events: log.length,
        });
        for (let i = 0; i + MAX_EVENTS < log.length; i++) {
          expect(log[i + MAX_EVENTS]!.at - log[i]!.at).toBeGreaterThanOrEqual(WINDOW);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("skips nothing while output stays within the budget", () => {
    fc.assert(
      fc.property(fc.array(step(utf8Text.filter((b) => b.length <= MAX_CHUNK)), { maxLength: 30 }), (steps) => {
        const paced = steps.map((s) => ({ ...s, dt: 100 + s.dt, flush: true }));
        expect(drive(paced, true).counters.bytesSkipped).toBe(0);
      }),
    );
  });
});
