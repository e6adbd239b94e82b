/**
 * Turns as real subprocesses (the `.mjs` fixtures next to this file run under this Node), with a
 * sink that records what the supervisor would store. Every turn a test starts is stopped in
 * afterEach, so a failed test leaves no process behind.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { type OutputChunkEvent, OutputRateWindow } from "../../core/output-coalescer.js";
import { emptyRunStats, type RunSpec } from "../../core/run.js";
import { applyTelemetry } from "../../core/run-stats.js";
import { sleep, waitFor } from "../../test-support/wait.js";
import { groupMembers, processAlive } from "./process-group.js";
import type { TurnBatch, TurnEvent, TurnSink } from "./turn-output.js";
import { startTurn, type TurnHandle, type TurnOptions } from "./turn-process.js";

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

const handles: TurnHandle[] = [];
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(handles.splice(0).map((h) => h.stop("shutdown")));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "overseer-turn-"));
  dirs.push(dir);
  return dir;
}

function spec(script: string, args: string[], overrides: Partial<RunSpec> = {}): RunSpec {
  return {
    command: process.execPath,
    args: [fixture(script), ...args],
    cwd: tempDir(),
    env: [],
    maxTurns: 5,
    turnTimeoutMs: 30_000,
    graceMs: 500,
    completion: {},
    onTurnFailure: "fail",
    ...overrides,
  };
}

/** Records batches as a store would, checking the sink contract on every call. */
class RecordingSink implements TurnSink {
  bytes = 0;
  batches = 0;
  readonly events: Array<TurnEvent & { at: number }> = [];
  readonly telemetry: TurnBatch["telemetry"] = [];
  readonly problems: string[] = [];
  private readonly chunks: Buffer[] = [];
  private readonly hash = createHash("sha256");
  private busy = false;

  constructor(private readonly options: { delayMs?: number; keep?: boolean; failAt?: number } = {}) {}

  async write(batch: TurnBatch): Promise<void> {
    const at = Date.now();
    if (this.busy) this.problems.push("write called while the previous one was in flight");
    if (batch.offset !== this.bytes) this.problems.push(`batch at offset ${batch.offset}, expected ${this.bytes}`);
    const end = batch.offset + batch.output.length;
    for (const e of batch.events) {
      if (typeof e.data.turn !== "number") this.problems.push(`event ${e.kind} has no turn`);
      if (e.kind === "run.output" && (e.data.offset as number) + (e.data.bytes as number) > end) {
        this.problems.push(`run.output at ${e.data.offset} refers to bytes not yet written (batch ends at ${end})`);
      }
      this.events.push({ ...e, at });
    }
    this.telemetry.push(...batch.telemetry);
    if (this.options.failAt === this.batches) throw new Error("store is gone");
    this.batches++;
    this.hash.update(batch.output);
    if (this.options.keep !== false) this.chunks.push(batch.output);
    this.bytes = end;
    if (this.options.delayMs) {
      this.busy = true;
      await sleep(this.options.delayMs);
      this.busy = false;
    }
  }

  stored(): Buffer {
    return Buffer.concat(this.chunks);
  }

  text(): string {
    return this.stored().toString("utf8");
  }

  sha256(): string {
    return this.hash.copy().digest("hex");
  }

  kinds(kind: string): Array<TurnEvent & { at: number }> {
    return this.events.filter((e) => e.kind === kind);
  }
}

function start(runSpec: RunSpec, sink: TurnSink, extra: Partial<TurnOptions> = {}): TurnHandle {
  const handle = startTurn({
    runId: "run_1",
    turn: 1,
    spec: runSpec,
    sink,
    rate: new OutputRateWindow(),
    output: { flushIntervalMs: 20 },
    ...extra,
  });
  handles.push(handle);
  return handle;
}

describe("startTurn: environment and exit", () => {
  it("passes only the allowed variables, plus the run's own", async () => {
    const sink = new RecordingSink();
    const source = { KEEP: "yes", SECRET: "hunter2", PATH: "/usr/bin" };
    const result = await start(spec("print-env.mjs", [], { env: ["KEEP", "ABSENT"], maxTurns: 7 }), sink, {
      sourceEnv: source,
      turn: 3,
    }).done;
    expect(result).toMatchObject({ exitCode: 0, spawnError: null, stoppedBy: null });
    const env = JSON.parse(sink.text()) as Record<string, string>;
    expect(env).toEqual({ KEEP: "yes", OVERSEER_RUN_ID: "run_1", OVERSEER_TURN: "3", OVERSEER_MAX_TURNS: "7" });
  });

  it("reports the exit code and stores both streams", async () => {
    const sink = new RecordingSink();
    const result = await start(spec("echo-exit.mjs", ["3"]), sink).done;
    expect(result).toMatchObject({ exitCode: 3, signal: null, timedOut: false, sinkError: null });
    expect(sink.text().split("\n").sort()).toEqual(["", "exiting with 3", "stderr says bye"]);
    expect(result.outputBytes).toBe(sink.bytes);
  });

  it("resolves with spawnError for a command that does not exist, and never throws", async () => {
    const sink = new RecordingSink();
    const handle = start(spec("x", [], { command: "/no/such/command" }), sink);
    expect(handle.pid).toBeNull();
    await handle.stop("cancel");
    const result = await handle.done;
    expect(result.spawnError).toMatch(/ENOENT/);
    expect(result).toMatchObject({ exitCode: null, signal: null, stoppedBy: null, outputBytes: 0 });
  });

  it("resolves with spawnError when the working directory cannot be created", async () => {
    const file = join(tempDir(), "a-file");
    writeFileSync(file, "");
    const result = await start(spec("echo-exit.mjs", ["0"], { cwd: join(file, "sub") }), new RecordingSink()).done;
    expect(result.spawnError).toMatch(/ENOTDIR/);
    // Node's own recursive mkdir never returns on this one.
    const proc = await start(spec("echo-exit.mjs", ["0"], { cwd: "/proc/no/such/dir" }), new RecordingSink()).done;
    expect(proc.spawnError).toMatch(/ENOENT/);
  });

  it("creates the working directory and runs the command in it", async () => {
    const cwd = join(tempDir(), "a", "b");
    const sink = new RecordingSink();
    const result = await start(spec("agent.mjs", ["1"], { cwd }), sink).done;
    expect(result.exitCode).toBe(0);
    expect(existsSync(join(cwd, "notes-1.txt"))).toBe(true);
    expect(existsSync(join(cwd, "DONE"))).toBe(true);
  });
});

describe("startTurn: telemetry", () => {
  it("takes telemetry lines out of the output of both streams and reports them as events", async () => {
    const sink = new RecordingSink();
    const runSpec = spec("agent.mjs", ["3"]);
    const result = await start(runSpec, sink, { turn: 2 }).done;
    expect(result).toMatchObject({ exitCode: 0, sinkError: null });
    expect(sink.problems).toEqual([]);

    const lines = sink.text().split("\n");
    expect(lines.sort()).toEqual(
      [
        "",
        "turn 2 of 5 starting",
        "running tests",
        '{"overseer_event":"token_usage","input":"lots"}', // invalid: kept as output
        "turn 2 finished",
      ].sort(),
    );
    expect(existsSync(join(runSpec.cwd, "DONE"))).toBe(false); // only on turn 3

    const data = (kind: string) => sink.kinds(kind).map((e) => e.data);
    expect(data("run.file_written")).toEqual([{ turn: 2, path: "notes-2.txt" }]);
    expect(data("run.test_run_started")).toEqual([{ turn: 2 }]);
    expect(data("run.test_run_completed")).toEqual([{ turn: 2, passed: 3, failed: 1, skipped: 2 }]);
    expect(data("run.token_usage")).toEqual([{ turn: 2, input: 100, output: 20 }]);
    expect(data("run.progress")).toEqual([{ turn: 2, value: 0.5, message: "halfway" }]);
    expect(data("run.custom")).toEqual([{ turn: 2, kind: "custom.mood", data: { level: "fine" } }]);
    expect(data("run.warning")).toEqual([{ turn: 2, message: "token_usage: input must be a non-negative integer" }]);

    const outputs = sink.kinds("run.output").map((e) => e.data);
    expect(outputs.map((o) => o.text).join("")).toBe(sink.text());

    const stats = sink.telemetry.reduce(applyTelemetry, emptyRunStats());
    expect(stats).toMatchObject({
      tokens: { input: 100, output: 20 },
      files: { read: 0, written: 1, deleted: 0 },
      tests: { runs: 1, passed: 3, failed: 1, skipped: 2, last: { passed: 3, failed: 1, skipped: 2 } },
    });
  });

  it("finds the completion pattern in a line that arrives in several chunks, and lets the turn go on", async () => {
    const sink = new RecordingSink();
    const pieces = ["working\\nALL DO", "NE: 3 tasks", "  \\nafter\\n"];
    const result = await start(spec("drip.mjs", pieces, { completion: { pattern: "ALL DONE" } }), sink).done;
    expect(result).toMatchObject({ exitCode: 0, patternLine: "ALL DONE: 3 tasks", stoppedBy: null });
    expect(sink.text()).toBe("working\nALL DONE: 3 tasks  \nafter\n");
  });

  it("reports no pattern line when nothing matches, and a warning for a pattern that is not a regex", async () => {
    const none = await start(spec("drip.mjs", ["nothing\\n"], { completion: { pattern: "DONE" } }), new RecordingSink())
      .done;
    expect(none.patternLine).toBeNull();
    const sink = new RecordingSink();
    const bad = await start(spec("drip.mjs", ["x\\n"], { completion: { pattern: "(" } }), sink).done;
    expect(bad.patternLine).toBeNull();
    expect(sink.kinds("run.warning")[0]?.data.message).toMatch(/completion pattern is not a valid regular expression/);
  });
});

describe("startTurn: a 50 MB flood through a slow sink", () => {
  it("stores exactly the bytes printed minus telemetry, within the event budget and bounded memory", async () => {
    const sink = new RecordingSink({ delayMs: 25 });
    const summaryPath = join(tempDir(), "summary.json");
    const total = 50 * 1024 * 1024;
    const startedAt = Date.now();
    const handle = start(spec("flood.mjs", [String(total), summaryPath]), sink, { output: {} });
    const result = await handle.done;
    const seconds = (Date.now() - startedAt) / 1000;
    const summary = JSON.parse(readFileSync(summaryPath, "utf8")) as {
      printed: number;
      stored: number;
      sha256: string;
      telemetry: number;
      invalid: number;
    };
    console.log(
      `flood: ${(summary.printed / 1e6).toFixed(1)} MB in ${seconds.toFixed(2)} s ` +
        `(${(summary.printed / 1e6 / seconds).toFixed(1)} MB/s), ${sink.batches} batches, ` +
        `max buffered ${handle.maxBufferedBytes} bytes, ${sink.kinds("run.output").length} run.output events`,
    );
    expect(result).toMatchObject({ exitCode: 0, sinkError: null, outputBytes: summary.stored });
    expect(sink.problems).toEqual([]);
    expect(sink.bytes).toBe(summary.stored);
    expect(sink.sha256()).toBe(summary.sha256);
    expect(sink.kinds("run.token_usage")).toHaveLength(summary.telemetry);
    expect(sink.kinds("run.warning")).toHaveLength(summary.invalid);
    expect(handle.maxBufferedBytes).toBeLessThanOrEqual(4 * 1024 * 1024);

    const outputs = sink.kinds("run.output");
    const stored = sink.stored();
    let end = 0;
    for (const { data } of outputs) {
      const { offset, bytes, text, truncated, skippedBytes } = data as unknown as OutputChunkEvent;
      expect(bytes).toBeLessThanOrEqual(2_048);
      expect(offset).toBe(end + skippedBytes);
      expect(truncated).toBe(skippedBytes > 0);
      expect(text).toBe(stored.subarray(offset, offset + bytes).toString("utf8"));
      end = offset + bytes;
    }
    expect(end).toBe(summary.stored); // the last event reaches the end of the output
    const times = outputs.map((e) => e.at);
    // Stamped when the sink is called, a moment after the batch (and its events) was built and
    // rate-checked; batches can be delayed unequally, so allow a little of that delay.
    for (let i = 10; i < times.length; i++) expect(times[i]! - times[i - 10]!).toBeGreaterThanOrEqual(1_000 - 50);
  });
});

describe("startTurn: stopping", () => {
  async function pids(sink: RecordingSink): Promise<{ leader: number; grandchild: number }> {
    return waitFor("both pids", () => {
      const leader = /leader (\d+)/.exec(sink.text())?.[1];
      const grandchild = /grandchild (\d+)/.exec(sink.text())?.[1];
      return leader && grandchild ? { leader: Number(leader), grandchild: Number(grandchild) } : null;
    });
  }

  it("kills a group that ignores SIGTERM, grandchild included, after the grace period", async () => {
    const sink = new RecordingSink();
    const handle = start(spec("stubborn.mjs", [], { graceMs: 500 }), sink);
    const { leader, grandchild } = await pids(sink);
    expect(leader).toBe(handle.pid);
    expect(groupMembers(leader).sort()).toEqual([leader, grandchild].sort());

    const t0 = Date.now();
    await handle.stop("cancel");
    const killMs = Date.now() - t0;
    console.log(`stubborn group gone ${killMs} ms after stop() (grace 500 ms)`);
    expect(killMs).toBeGreaterThanOrEqual(450);
    expect(killMs).toBeLessThan(500 + 2_000);
    expect(groupMembers(leader)).toEqual([]);
    expect(processAlive(grandchild)).toBe(false);
    const result = await handle.done;
    expect(result).toMatchObject({ stoppedBy: "cancel", timedOut: false, signal: "SIGKILL", exitCode: null });
  });

  it("kills what the leader left behind when it exits by itself", async () => {
    const sink = new RecordingSink();
    const handle = start(spec("stubborn.mjs", ["--leader-exits"], { graceMs: 300 }), sink);
    const { leader, grandchild } = await pids(sink);
    const result = await handle.done;
    expect(result).toMatchObject({ exitCode: 0, stoppedBy: null });
    expect(groupMembers(leader)).toEqual([]);
    expect(processAlive(grandchild)).toBe(false);
  });

  it("stops a frozen group with SIGTERM (it is continued so it can die)", async () => {
    const sink = new RecordingSink();
    const handle = start(spec("ticker.mjs", [], { graceMs: 20_000 }), sink);
    await waitFor("a tick", () => sink.text().includes("tick 3"));
    handle.freeze();
    expect(handle.frozen).toBe(true);
    await handle.stop("shutdown");
    const result = await handle.done;
    expect(result).toMatchObject({ stoppedBy: "shutdown", signal: "SIGTERM" });
  });

  it("freeze stops the output and thaw resumes it", async () => {
    const sink = new RecordingSink();
    const handle = start(spec("ticker.mjs", []), sink);
    await waitFor("a tick", () => sink.text().includes("tick 3"));
    handle.freeze();
    await sleep(200); // what was printed before the freeze reaches the sink
    const frozenAt = sink.bytes;
    await sleep(400);
    expect(sink.bytes).toBe(frozenAt);
    expect(readFileSync(`/proc/${handle.pid}/stat`, "utf8").split(") ")[1]?.[0]).toBe("T");
    handle.thaw();
    await waitFor("output after thaw", () => sink.bytes > frozenAt);
    await handle.stop("cancel");
    expect((await handle.done).signal).toBe("SIGTERM");
  });

  it("stops a turn that runs past its timeout", async () => {
    const sink = new RecordingSink();
    const handle = start(spec("ticker.mjs", [], { turnTimeoutMs: 300 }), sink);
    const result = await handle.done;
    expect(result).toMatchObject({ timedOut: true, stoppedBy: "timeout", signal: "SIGTERM" });
    expect(sink.text()).toContain("tick 1");
  });

  it("does not count frozen time against the turn timeout", async () => {
    const handle = start(spec("ticker.mjs", [], { turnTimeoutMs: 400 }), new RecordingSink());
    handle.freeze();
    await sleep(700);
    let finished = false;
    void handle.done.then(() => {
      finished = true;
    });
    await sleep(50);
    expect(finished).toBe(false);
    handle.thaw();
    expect(await handle.done).toMatchObject({ timedOut: true });
  });

  it("stops the turn when the sink fails, and says so", async () => {
    const sink = new RecordingSink({ failAt: 1 });
    const handle = start(spec("ticker.mjs", []), sink);
    const result = await handle.done;
    expect(result.sinkError).toBe("store is gone");
    expect(result.stoppedBy).toBeNull();
    expect(result.outputBytes).toBe(sink.bytes);
    expect(groupMembers(handle.pid!)).toEqual([]);
  });
});
