/**
 * Agent stream adapters end to end: a real store (SQLite, or PostgreSQL by the test switch), the
 * supervisor and a real subprocess (fixtures/replay.mjs) that prints a recorded session of Claude
 * Code or Codex (core/agent-streams/samples/). The run's stats come from the adapter's telemetry,
 * and the turn's stored output is the adapter's readable text, not the JSON.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import type { Overseer } from "../../sdk/overseer.js";
import { runsSandbox } from "../../test-support/runs.js";
import { TEST_BACKEND } from "../../test-support/test-backend.js";

const REPLAY = resolve(import.meta.dirname, "fixtures", "replay.mjs");
const SAMPLES = resolve(import.meta.dirname, "..", "..", "core", "agent-streams", "samples");
const CLAUDE = join(SAMPLES, "claude-stream-json.jsonl");
const CODEX = join(SAMPLES, "codex-exec-json.jsonl");
const node = process.execPath;

const runs = runsSandbox("overseer-agent-streams-");
const { setUp, until } = runs;

/** Runs one turn of `profile` to completion: the run, its first turn's output and its events' kinds. */
async function oneTurn(o: Overseer, profile: string) {
  const started = await o.startRun({ profile });
  const run = await until(started.id, ["completed", "failed"]);
  const output = (await o.readRunOutput(run.id, 1, 0))?.data.toString("utf8") ?? "";
  const events = ((await o.readEvents({ runId: run.id, limit: 1_000 })) ?? []).map((e) => e.kind);
  return { run, output, events };
}

const base = { command: node, maxTurns: 1, completion: { exitCode: 0 } };
const OVERSEER_LINE = '{"overseer_event":"progress","value":0.5,"message":"wrapper says hi"}';

describe(`agent stream adapters on ${TEST_BACKEND}`, () => {
  it("reads Claude Code's stream-json: exact tokens, files and tests, readable output", async () => {
    const o = await setUp({
      claude: { ...base, args: [REPLAY, CLAUDE, "stdout", OVERSEER_LINE], telemetry: "claude-stream-json" },
    });
    const { run, output, events } = await oneTurn(o, "claude");
    expect(run.state).toBe("completed");
    expect(run.spec.telemetry).toBe("claude-stream-json");
    expect(run.stats).toMatchObject({
      tokens: { input: 115_514, output: 1_134 },
      files: { read: 1, written: 3, deleted: 0 },
      tests: { runs: 2, passed: 25, failed: 1, skipped: 0, last: { passed: 13, failed: 0, skipped: 0 } },
      outputBytes: Buffer.byteLength(output),
    });
    expect(
      output.startsWith("session 6b0d7c1e-3f2a-4c55-9a47-1d2e8f90ab13: claude-sonnet-4-5-20250929, 17 tools\n"),
    ).toBe(true);
    expect(output).toContain("\n$ npm test\nExit code 1\n");
    expect(output.endsWith("done (success): 8 turns, $0.0738\n")).toBe(true);
    expect(output).not.toContain('"type":');
    // The wrapper's own telemetry line still counts, and is not output.
    expect(output).not.toContain("overseer_event");
    expect(events).toContain("run.progress");
    expect(events.filter((k) => k === "run.test_run_completed")).toHaveLength(2);
    expect(events).not.toContain("run.warning");
  });

  it("reads Codex's exec --json, on stderr too", async () => {
    const o = await setUp({ codex: { ...base, args: [REPLAY, CODEX, "stderr"], telemetry: "codex-exec-json" } });
    const { run, output, events } = await oneTurn(o, "codex");
    expect(run.state).toBe("completed");
    expect(run.stats).toMatchObject({
      tokens: { input: 48_213, output: 2_167 },
      files: { read: 0, written: 3, deleted: 0 },
      tests: { runs: 2, passed: 25, failed: 1, skipped: 0, last: { passed: 13, failed: 0, skipped: 0 } },
      outputBytes: Buffer.byteLength(output),
    });
    expect(output.startsWith("thread 0199a213-81c0-7800-8aa1-bbab2a035a53\n")).toBe(true);
    expect(output).toContain("$ bash -lc 'npm test'\n");
    expect(output).toContain("(exit code 1)\n");
    expect(output.endsWith("tokens: 48213 input (35840 cached), 2167 output\n")).toBe(true);
    expect(output).not.toContain('"type":');
    expect(events.filter((k) => k === "run.file_written")).toHaveLength(3);
  });

  it("without a telemetry mode, stores the agent's JSON as printed and reads no telemetry from it", async () => {
    const o = await setUp({ plain: { ...base, args: [REPLAY, CLAUDE] } });
    const { run, output } = await oneTurn(o, "plain");
    expect(run.spec.telemetry).toBeUndefined();
    expect(run.stats).toMatchObject({
      tokens: { input: 0, output: 0 },
      files: { read: 0, written: 0 },
      tests: { runs: 0 },
    });
    expect(output).toBe(readFileSync(CLAUDE, "utf8"));
  });
});
