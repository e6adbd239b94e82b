/**
 * Runs end to end in one process: a real store (a SQLite file, and a PostgreSQL schema), the
 * supervisor, and real subprocesses (the scripts in fixtures/). Each test starts its own
 * supervisor and store and kills what it started.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../config/config.js";
import type { Run } from "../../core/run.js";
import type { RunState } from "../../core/run-state.js";
import type { OverseerEvent } from "../../core/types.js";
import type { Overseer } from "../../sdk/overseer.js";
import { TEST_BACKEND, testDatabase } from "../../test-support/test-backend.js";
import { sleep, waitFor } from "../../test-support/wait.js";
import { processAlive } from "./process-group.js";

const FIXTURES = resolve(import.meta.dirname, "fixtures");
const node = process.execPath;

let work = "";
afterEach(() => {
  if (work) rmSync(work, { recursive: true, force: true });
  work = "";
});

async function until(overseer: Overseer, id: string, states: RunState[], timeoutMs = 15_000): Promise<Run> {
  return waitFor(
    `run ${id} to be ${states.join(" or ")}`,
    async () => {
      const run = await overseer.getRun(id);
      return run && states.includes(run.state) ? run : null;
    },
    { timeoutMs, intervalMs: 20 },
  );
}

async function eventsOf(overseer: Overseer, runId: string): Promise<OverseerEvent[]> {
  const all: OverseerEvent[] = [];
  for (;;) {
    const page = await overseer.readEvents({ runId, afterSeq: all.at(-1)?.seq ?? 0, limit: 1_000 });
    all.push(...page);
    if (page.length < 1_000) return all;
  }
}

async function output(overseer: Overseer, runId: string, turn: number): Promise<string> {
  return (await overseer.store.readRunOutput(runId, turn, 0))?.data.toString("utf8") ?? "";
}

describe(`run supervision on ${TEST_BACKEND}`, () => {
  /** An Overseer with these profiles (cwd: a fresh folder) and a running supervisor. */
  async function setUp(profiles: Record<string, unknown>): Promise<Overseer> {
    work = mkdtempSync(join(tmpdir(), "overseer-runs-"));
    const runs = parseConfig({ runs: { profiles, lease: "2s" } }, "test", work).runs;
    const overseer = await (await testDatabase("overseer-runs-db-")).open({ runs });
    overseer.runSupervisor({ pollMs: 100 }).start();
    return overseer;
  }

  it("runs turns until the stop file appears, with stats, telemetry events and stored output", async () => {
    const overseer = await setUp({
      agent: {
        command: node,
        args: [join(FIXTURES, "agent.mjs"), "3", ".stop"],
        maxTurns: 10,
        completion: { stopFile: ".stop" },
      },
    });
    const started = await overseer.startRun({ profile: "agent" });
    expect(started.state).toBe("queued");
    const run = await until(overseer, started.id, ["completed", "failed"]);
    expect(run).toMatchObject({
      state: "completed",
      currentTurn: 3,
      pid: null,
      error: null,
      completion: { detected: "stop_file", line: ".stop", turn: 3 },
      stats: {
        turns: 3,
        tokens: { input: 300, output: 60 },
        files: { read: 0, written: 3, deleted: 0 },
        tests: { runs: 3, passed: 9, failed: 3, skipped: 6, last: { passed: 3, failed: 1, skipped: 2 } },
      },
    });
    expect(existsSync(join(work, "notes-3.txt"))).toBe(true);

    const events = await eventsOf(overseer, run.id);
    const count = (kind: string) => events.filter((e) => e.kind === kind).length;
    expect(events[0]?.kind).toBe("run.queued");
    expect(events.at(-1)).toMatchObject({ kind: "run.completed", data: { detected: "stop_file", turn: 3 } });
    expect([count("run.turn_started"), count("run.turn_finished")]).toEqual([3, 3]);
    expect([count("run.file_written"), count("run.test_run_started"), count("run.test_run_completed")]).toEqual([
      3, 3, 3,
    ]);
    expect([count("run.token_usage"), count("run.progress"), count("run.custom")]).toEqual([3, 3, 3]);
    // The malformed token_usage line of each turn is reported and kept as output.
    expect(count("run.warning")).toBe(3);
    expect(events.find((e) => e.kind === "run.file_written")?.data).toEqual({ turn: 1, path: "notes-1.txt" });

    const first = await output(overseer, run.id, 1);
    expect(first).toContain("turn 1 of 10 starting\n");
    expect(first).toContain("running tests\n");
    expect(first).toContain('"input":"lots"'); // invalid telemetry stays output
    expect(first).not.toContain('"file_written"');
    const texts = events.filter((e) => e.kind === "run.output" && e.data.turn === 1).map((e) => e.data.text);
    expect(texts.join("")).toBe(first);
    expect((await overseer.listRunTurns(run.id)).map((t) => [t.turn, t.outcome, t.exitCode])).toEqual([
      [1, "exited", 0],
      [2, "exited", 0],
      [3, "exited", 0],
    ]);
  });

  it("a pause lands between turns, holds no process, and resume continues with the next turn", async () => {
    const overseer = await setUp({
      slow: { command: node, args: [join(FIXTURES, "slow-turn.mjs"), "600", "3"], completion: { stopFile: ".stop" } },
    });
    const { id } = await overseer.startRun({ profile: "slow" });
    await waitFor("turn 1 to start", async () => (await overseer.getRun(id))?.pid);
    const pausing = await overseer.controlRun(id, "pause");
    expect(pausing.state).toBe("pausing");
    await until(overseer, id, ["paused"]);
    // Then its supervisor lets it go: a paused run holds no slot.
    const paused = await waitFor("the paused run to be released", async () => {
      const r = await overseer.getRun(id);
      return r?.workerId === null ? r : null;
    });
    expect(paused).toMatchObject({ state: "paused", currentTurn: 1, pid: null });
    expect((await overseer.listRunTurns(id)).map((t) => t.outcome)).toEqual(["exited"]);
    expect(await output(overseer, id, 1)).toBe("turn 1 begins\nturn 1 ends\n");
    await sleep(800); // longer than a turn: no turn starts while paused
    expect(await overseer.getRun(id)).toMatchObject({ state: "paused", currentTurn: 1 });

    await overseer.controlRun(id, "resume");
    const done = await until(overseer, id, ["completed", "failed"]);
    expect(done).toMatchObject({
      state: "completed",
      currentTurn: 3,
      stats: { turns: 3, tokens: { input: 30, output: 15 } },
    });
    const kinds = (await eventsOf(overseer, id)).map((e) => e.kind).filter((k) => !k.startsWith("run.output"));
    expect(kinds).toContain("run.pause_requested");
    expect(kinds.indexOf("run.paused")).toBeGreaterThan(kinds.indexOf("run.turn_finished"));
    expect(kinds.indexOf("run.resumed")).toBeLessThan(kinds.lastIndexOf("run.turn_started"));
  });

  it("an immediate pause freezes the turn's processes until resume", async () => {
    const overseer = await setUp({
      ticker: { command: node, args: [join(FIXTURES, "ticker.mjs")], completion: { exitCode: 0 }, grace: "1s" },
    });
    const { id } = await overseer.startRun({ profile: "ticker" });
    const size = async () => (await overseer.store.readRunOutput(id, 1, 0, 0))?.size ?? 0;
    await waitFor("ticks to be stored", async () => (await size()) > 100, { timeoutMs: 10_000 });
    await overseer.controlRun(id, "pause", { immediate: true });
    await sleep(600); // what was printed before the freeze reaches the store
    const frozen = await size();
    await sleep(600);
    expect(await size()).toBe(frozen);
    expect(await overseer.getRun(id)).toMatchObject({ state: "paused", currentTurn: 1 });

    await overseer.controlRun(id, "resume");
    await waitFor("ticks to flow again", async () => (await size()) > frozen + 50, { timeoutMs: 10_000 });
    await overseer.controlRun(id, "cancel");
    const cancelled = await until(overseer, id, ["cancelled"]);
    expect(cancelled.pid).toBeNull();
    expect((await overseer.listRunTurns(id)).map((t) => t.outcome)).toEqual(["cancelled"]);
  });

  it("cancel kills a command that ignores SIGTERM and its grandchild within the grace period", async () => {
    const overseer = await setUp({
      stubborn: { command: node, args: [join(FIXTURES, "stubborn.mjs")], completion: { exitCode: 0 }, grace: "1s" },
    });
    const { id } = await overseer.startRun({ profile: "stubborn" });
    const pids = await waitFor(
      "the leader and the grandchild to print their pids",
      async () => {
        const text = await output(overseer, id, 1);
        const leader = /leader (\d+)/.exec(text)?.[1];
        const grandchild = /grandchild (\d+)/.exec(text)?.[1];
        return leader && grandchild ? [Number(leader), Number(grandchild)] : null;
      },
      { timeoutMs: 10_000 },
    );
    expect(pids.every(processAlive)).toBe(true);
    const asked = Date.now();
    expect((await overseer.controlRun(id, "cancel")).state).toBe("cancelling");
    const cancelled = await until(overseer, id, ["cancelled"]);
    const took = Date.now() - asked;
    expect(took).toBeLessThan(1_000 + 2_000); // the grace period, plus generous slack for a loaded machine
    expect(pids.filter(processAlive)).toEqual([]);
    expect(cancelled).toMatchObject({ pid: null, error: null });
    expect((await overseer.listRunTurns(id))[0]).toMatchObject({ outcome: "cancelled", signal: "SIGKILL" });
  });

  it("a command flooding 50 MB is stored byte for byte while events stay within 2 KB and 10 per second", async () => {
    const overseer = await setUp({
      flood: {
        command: node,
        args: [join(FIXTURES, "flood.mjs"), String(50 * 1024 * 1024), "summary.json"],
        completion: { exitCode: 0 },
        turnTimeout: "2m",
      },
    });
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 50);
    try {
      const { id } = await overseer.startRun({ profile: "flood" });
      const run = await until(overseer, id, ["completed", "failed"], 120_000);
      expect(run.state).toBe("completed");
      const summary = JSON.parse(readFileSync(join(work, "summary.json"), "utf8")) as {
        sha256: string;
        stored: number;
      };
      const stored = await overseer.store.readRunOutput(id, 1, 0);
      expect(stored?.size).toBe(summary.stored);
      expect(
        createHash("sha256")
          .update(stored?.data ?? Buffer.alloc(0))
          .digest("hex"),
      ).toBe(summary.sha256);
      expect(run.stats.outputBytes).toBe(summary.stored);

      const chunks = (await eventsOf(overseer, id)).filter((e) => e.kind === "run.output");
      expect(chunks.length).toBeGreaterThan(0);
      let end = 0;
      for (const c of chunks) {
        const data = c.data as { offset: number; bytes: number; skippedBytes: number; truncated: boolean };
        expect(data.bytes).toBeLessThanOrEqual(2_048);
        expect(data.offset).toBe(end + data.skippedBytes); // every gap is announced, none hidden
        expect(data.truncated).toBe(data.skippedBytes > 0);
        end = data.offset + data.bytes;
      }
      const times = chunks.map((c) => Date.parse(c.at));
      // Stamped at commit, a little after each batch was built and rate-checked: allow that delay.
      for (let i = 10; i < times.length; i++) expect(times[i]! - times[i - 10]!).toBeGreaterThanOrEqual(1_000 - 150);
    } finally {
      clearInterval(sampler);
    }
    // The 50 MB went through this process; far less of it was ever held at once.
    expect(peak - before).toBeLessThan(200 * 1024 * 1024);
  }, 150_000);
});
