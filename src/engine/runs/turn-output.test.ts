import { describe, expect, it } from "vitest";
import { OutputRateWindow } from "../../core/output-coalescer.js";
import { sleep, waitFor } from "../../test-support/wait.js";
import { type TurnBatch, TurnOutput } from "./turn-output.js";

/** A sink whose writes finish only when the test says so. */
function gatedSink() {
  const batches: TurnBatch[] = [];
  let release: (() => void) | null = null;
  return {
    batches,
    sink: {
      write(batch: TurnBatch): Promise<void> {
        batches.push(batch);
        return new Promise<void>((resolve) => {
          release = resolve;
        });
      },
    },
    release(): void {
      const r = release;
      release = null;
      r?.();
    },
    get waiting(): boolean {
      return release !== null;
    },
  };
}

describe("TurnOutput", () => {
  it("pauses reading while a write is in flight and too much waits, and reads again when it is taken", async () => {
    const gate = gatedSink();
    const pressure: boolean[] = [];
    const out = new TurnOutput({
      turn: 1,
      sink: gate.sink,
      rate: new OutputRateWindow(),
      flushBytes: 100,
      highWaterBytes: 1_000,
      onPressure: (p) => pressure.push(p),
    });
    out.pushOutput(Buffer.alloc(150, 97)); // >= flushBytes: written at once
    await waitFor("first write", () => gate.waiting);
    for (let i = 0; i < 10; i++) out.pushOutput(Buffer.alloc(100, 98));
    expect(pressure).toEqual([]); // 1,000 waiting: not more than the high-water mark
    out.pushOutput(Buffer.alloc(1, 99));
    expect(pressure).toEqual([true]);
    expect(out.maxBufferedBytes).toBe(150 + 1_001);
    gate.release();
    await waitFor("second write", () => gate.batches.length === 2);
    expect(pressure).toEqual([true, false]);
    expect(gate.batches.map((b) => [b.offset, b.output.length])).toEqual([
      [0, 150],
      [150, 1_001],
    ]);
    gate.release();
    const ended = out.end();
    await waitFor("last write", () => gate.waiting || gate.batches.length > 2);
    while (gate.waiting) {
      gate.release();
      await sleep(5);
    }
    await ended;
    expect(out.storedBytes).toBe(1_151);
  });

  it("writes events with the bytes they follow, and a run.output event never before its bytes", async () => {
    const batches: TurnBatch[] = [];
    const out = new TurnOutput({
      turn: 4,
      sink: { write: async (b) => void batches.push(b) },
      rate: new OutputRateWindow(),
      flushIntervalMs: 10,
    });
    out.pushOutput(Buffer.from("hello\n"));
    out.pushTelemetry({ kind: "token_usage", input: 1, output: 2 });
    out.warn("careful");
    await out.end();
    const events = batches.flatMap((b) => b.events);
    expect(events).toEqual([
      {
        kind: "run.output",
        data: { turn: 4, offset: 0, bytes: 6, text: "hello\n", truncated: false, skippedBytes: 0 },
      },
      { kind: "run.token_usage", data: { turn: 4, input: 1, output: 2 } },
      { kind: "run.warning", data: { turn: 4, message: "careful" } },
    ]);
    expect(batches.flatMap((b) => b.telemetry)).toEqual([{ kind: "token_usage", input: 1, output: 2 }]);
  });

  it("stops writing after the sink fails, reports it once, and still ends", async () => {
    const errors: Error[] = [];
    let calls = 0;
    const out = new TurnOutput({
      turn: 1,
      sink: {
        write: async () => {
          calls++;
          throw new Error("lease lost");
        },
      },
      rate: new OutputRateWindow(),
      flushIntervalMs: 5,
      onError: (err) => errors.push(err),
    });
    out.pushOutput(Buffer.from("a\n"));
    await waitFor("the failure", () => errors.length === 1);
    out.pushOutput(Buffer.from("b\n"));
    await out.end();
    expect(calls).toBe(1);
    expect(out.error?.message).toBe("lease lost");
    expect(out.storedBytes).toBe(0);
  });
});
