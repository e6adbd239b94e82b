/**
 * A turn's input and a run's budget, end to end: a real store (SQLite, or PostgreSQL by the test
 * switch), the supervisor and a real subprocess (fixtures/prompted.mjs) that records each input
 * it was given.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import type { Overseer } from "../../sdk/overseer.js";
import { runsSandbox } from "../../test-support/runs.js";
import { TEST_BACKEND } from "../../test-support/test-backend.js";
import { waitFor } from "../../test-support/wait.js";

const AGENT = resolve(import.meta.dirname, "fixtures", "prompted.mjs");
const node = process.execPath;

const runs = runsSandbox("overseer-run-input-");
const { until } = runs;
const setUp = (profiles: Record<string, unknown>, supervise = true) => runs.setUp(profiles, { supervise });

/** The inputs the agent recorded, turn by turn. */
function inputs(): Array<{ turn: number; input: string }> {
  return readFileSync(join(runs.work, "inputs.log"), "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line));
}

async function eventKinds(o: Overseer, runId: string): Promise<Array<{ kind: string; data: unknown }>> {
  const events = await o.readEvents({ runId, limit: 1_000 });
  return events.map((e) => ({ kind: e.kind, data: e.data }));
}

const base = { command: node, onTurnFailure: "continue", completion: { stopFile: ".never" } };

describe(`a turn's input and a run's budget on ${TEST_BACKEND}`, () => {
  it("renders each turn's input from the template, the working folder's files and the previous turn, on stdin", async () => {
    const o = await setUp({
      agent: {
        ...base,
        args: [AGENT, "stdin"],
        maxTurns: 3,
        params: { goal: { type: "string" } },
        input: {
          template: "Turn {{turn}} of {{maxTurns}}: {{goal}}. {{previous.summary}}\nLog:\n{{file:agent-log.md}}",
        },
      },
    });
    const run = await o.startRun({ profile: "agent", params: { goal: "fix the parser" } });
    const done = await until(run.id, ["failed", "completed"]);
    expect(done.error?.code).toBe("RUN_MAX_TURNS");
    expect(inputs()).toEqual([
      { turn: 1, input: "Turn 1 of 3: fix the parser. This is the first turn.\nLog:\n" },
      { turn: 2, input: "Turn 2 of 3: fix the parser. Turn 1 failed: it exited with code 3.\nLog:\nturn 1 done\n" },
      {
        turn: 3,
        input: "Turn 3 of 3: fix the parser. Turn 2 exited with code 0.\nLog:\nturn 1 done\nturn 2 done\n",
      },
    ]);
  });

  it("writes the input to a file named in OVERSEER_INPUT_FILE, or passes it as an argument", async () => {
    const o = await setUp({
      byFile: {
        ...base,
        args: [AGENT, "file"],
        maxTurns: 1,
        input: { template: "file input for {{runId}}", via: "file", file: "state/prompt.txt" },
      },
      byArg: {
        ...base,
        args: [AGENT, "arg", "{{input}}"],
        maxTurns: 1,
        input: { template: "arg {{turn}}", via: "arg" },
      },
    });
    const byFile = await o.startRun({ profile: "byFile" });
    await until(byFile.id, ["failed"]);
    expect(inputs()).toEqual([{ turn: 1, input: `file input for ${byFile.id}` }]);
    expect(readFileSync(join(runs.work, "state", "prompt.txt"), "utf8")).toBe(`file input for ${byFile.id}`);
    expect((await o.getRun(byFile.id))?.spec.input).toEqual({
      template: "file input for {{runId}}",
      via: "file",
      file: "state/prompt.txt",
    });

    rmSync(join(runs.work, "inputs.log"));
    const byArg = await o.startRun({ profile: "byArg" });
    await until(byArg.id, ["failed"]);
    expect(inputs()).toEqual([{ turn: 1, input: "arg 1" }]);
    // The stored spec keeps the placeholder: each turn fills it anew.
    expect((await o.getRun(byArg.id))?.spec.args).toEqual([AGENT, "arg", "{{input}}"]);
  });

  it("leaves out the start of a long file, between characters", async () => {
    const o = await setUp({
      agent: { ...base, args: [AGENT, "stdin"], maxTurns: 1, input: { template: "{{file:big.md}}" } },
    });
    writeFileSync(join(runs.work, "big.md"), `${"é".repeat(40_000)}END`);
    const run = await o.startRun({ profile: "agent" });
    await until(run.id, ["failed"]);
    const [first] = inputs();
    expect(first?.input).toMatch(/^\[\.\.\. \d+ earlier bytes left out\]\né+END$/);
    expect(Buffer.byteLength(first?.input ?? "")).toBeLessThanOrEqual(64 * 1024 + 40);
    expect(first?.input).not.toContain("\uFFFD");
  });

  it("fails a run with RUN_BUDGET_EXCEEDED once a turn spends its tokens", async () => {
    const o = await setUp({
      agent: { ...base, args: [AGENT, "stdin", "--tokens=600", "--writes"], maxTurns: 10, budget: { maxTokens: 1000 } },
    });
    const run = await o.startRun({ profile: "agent" });
    const done = await until(run.id, ["failed", "paused"]);
    expect(done).toMatchObject({
      state: "failed",
      currentTurn: 2,
      error: { code: "RUN_BUDGET_EXCEEDED", message: "the run used 1200 tokens; its budget is 1000", retryable: false },
    });
    const budget = (await eventKinds(o, run.id)).filter((e) => e.kind === "run.budget_exceeded");
    expect(budget).toEqual([
      { kind: "run.budget_exceeded", data: expect.objectContaining({ code: "RUN_BUDGET_EXCEEDED", action: "failed" }) },
    ]);
  });

  it("prices tokens for a cost budget, and a run may only lower its profile's limits", async () => {
    const o = await setUp({
      agent: {
        ...base,
        args: [AGENT, "stdin", "--tokens=100000", "--writes"],
        maxTurns: 10,
        budget: { maxCostUsd: 10, prices: { input: 30, output: 60 } },
      },
    });
    await expect(o.startRun({ profile: "agent", budget: { maxCostUsd: 11 } })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: "budget.maxCostUsd may only lower the profile's limit of 10; got 11",
    });
    await expect(
      o.startRun({ profile: "agent", budget: { prices: { input: 0, output: 0 } } } as never),
    ).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
    // 100,000 tokens at $30 a million: $3 a turn, so a $5 budget is spent at the end of turn 2.
    const run = await o.startRun({ profile: "agent", budget: { maxCostUsd: 5 } });
    expect(run.spec.budget).toEqual({ maxCostUsd: 5, prices: { input: 30, output: 60 }, onExceeded: "fail" });
    const done = await until(run.id, ["failed"]);
    expect(done.currentTurn).toBe(2);
    expect(done.error).toMatchObject({
      code: "RUN_BUDGET_EXCEEDED",
      message: "the run cost $6.0000 in tokens; its budget is $5",
    });
  });

  it("ends a run with RUN_NO_PROGRESS after that many turns that change nothing", async () => {
    const o = await setUp({
      agent: { ...base, args: [AGENT, "stdin"], maxTurns: 10, budget: { noProgressTurns: 3 } },
    });
    const run = await o.startRun({ profile: "agent" });
    const done = await until(run.id, ["failed"]);
    expect(done).toMatchObject({
      currentTurn: 3,
      error: { code: "RUN_NO_PROGRESS", message: "3 turns in a row changed no file and passed no more tests" },
      stats: { progress: { idleTurns: 3, bestPassed: 0 } },
    });
  });

  it("pauses instead, when the budget says so, and says why", async () => {
    const o = await setUp({
      agent: {
        ...base,
        args: [AGENT, "stdin", "--tokens=600", "--writes"],
        maxTurns: 10,
        budget: { maxTokens: 500, onExceeded: "pause" },
      },
    });
    const run = await o.startRun({ profile: "agent" });
    const paused = await until(run.id, ["paused", "failed"]);
    expect(paused).toMatchObject({ state: "paused", currentTurn: 1, error: null });
    const events = await eventKinds(o, run.id);
    expect(events.find((e) => e.kind === "run.paused")?.data).toMatchObject({ code: "RUN_BUDGET_EXCEEDED" });
    expect(events.find((e) => e.kind === "run.budget_exceeded")?.data).toMatchObject({ action: "paused" });
  });

  it("gives a message to the next turn that starts, not to the one running when it came", async () => {
    const o = await setUp(
      {
        agent: {
          ...base,
          args: [AGENT, "stdin", "--sleep=600"],
          maxTurns: 3,
          input: { template: "turn {{turn}}\n{{messages}}" },
        },
      },
      false,
    );
    const run = await o.startRun({ profile: "agent" });
    const before = await o.sendRunMessage(run.id, "read the README first", { sentBy: "alice" });
    expect(before).toMatchObject({ runId: run.id, body: "read the README first", sentBy: "alice", turn: null });
    o.runSupervisor({ pollMs: 100 }).start();
    await waitFor("turn 2 to start", async () => ((await o.getRun(run.id))?.currentTurn === 2 ? true : null), {
      timeoutMs: 15_000,
      intervalMs: 10,
    });
    const during = await o.sendRunMessage(run.id, "also update the changelog");
    await until(run.id, ["failed"]);
    const [one, two, three] = inputs();
    expect(one?.input).toBe(`turn 1\nMessage from alice at ${before.createdAt}:\nread the README first`);
    expect(two?.input).toBe("turn 2\n");
    expect(three?.input).toBe(`turn 3\nMessage from an operator at ${during.createdAt}:\nalso update the changelog`);
    expect((await o.listRunMessages(run.id)).map((m) => [m.body, m.turn])).toEqual([
      ["read the README first", 1],
      ["also update the changelog", 3],
    ]);
    const started = (await eventKinds(o, run.id)).filter((e) => e.kind === "run.turn_started").map((e) => e.data);
    expect(started).toEqual([
      expect.objectContaining({ turn: 1, messages: [before.id] }),
      expect.not.objectContaining({ messages: expect.anything() }),
      expect.objectContaining({ turn: 3, messages: [during.id] }),
    ]);
    // A finished run takes no more.
    await expect(o.sendRunMessage(run.id, "too late")).rejects.toMatchObject({ code: "RUN_FINISHED" });
  });

  it("refuses a message no turn would read, an empty one, one for an unknown run and a 51st waiting, storing none", async () => {
    const o = await setUp(
      {
        quiet: { ...base, args: [AGENT, "stdin", "--sleep=5000"], maxTurns: 1, input: { template: "turn {{turn}}" } },
        chatty: { ...base, args: [AGENT, "stdin"], maxTurns: 1, input: { template: "{{messages}}" } },
      },
      false,
    );
    const run = await o.startRun({ profile: "quiet" });
    await expect(o.sendRunMessage(run.id, "hello")).rejects.toMatchObject({
      code: "RUN_TAKES_NO_MESSAGES",
      message: `run ${run.id} cannot take messages: its input template has no {{messages}}`,
    });
    await expect(o.sendRunMessage(run.id, "  ")).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(o.sendRunMessage(run.id, "x".repeat(8_001))).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: "a message is at most 8000 characters; this one has 8001",
    });
    await expect(o.sendRunMessage("01NOSUCHRUN", "hello")).rejects.toMatchObject({ code: "RUN_NOT_FOUND" });
    await o.controlRun(run.id, "cancel");
    await until(run.id, ["cancelled"]);
    const chatty = await o.startRun({ profile: "chatty" });
    for (let i = 0; i < 50; i++) await o.sendRunMessage(chatty.id, `message ${i}`);
    await expect(o.sendRunMessage(chatty.id, "one too many")).rejects.toMatchObject({
      code: "RUN_TOO_MANY_MESSAGES",
      message: `run ${chatty.id} already has 50 messages waiting for its next turn`,
    });
    expect((await o.listRunMessages(chatty.id)).length).toBe(50);
    expect(await o.listRunMessages(run.id)).toEqual([]);
  });

  it("reports what a turn did to the watched files itself: a diff for each change, and deletions", async () => {
    const o = await setUp({
      agent: {
        ...base,
        args: [AGENT, "stdin", "--delete=gone.md"],
        maxTurns: 2,
        input: { template: "turn {{turn}}" },
        watch: ["agent-log.md", "gone.md", "untouched.md"],
      },
    });
    writeFileSync(join(runs.work, "gone.md"), "remove me\n");
    writeFileSync(join(runs.work, "untouched.md"), "stays\n");
    const run = await o.startRun({ profile: "agent" });
    expect(run.spec.watch).toEqual(["agent-log.md", "gone.md", "untouched.md"]);
    const done = await until(run.id, ["failed"]);
    const watched = (await eventKinds(o, run.id)).filter((e) => (e.data as { watched?: boolean }).watched === true);
    expect(watched).toEqual([
      {
        kind: "run.log_updated",
        data: { turn: 1, path: "agent-log.md", diff: "@@ -0,0 +1,1 @@\n+turn 1 done", watched: true },
      },
      { kind: "run.file_deleted", data: { turn: 1, path: "gone.md", watched: true } },
      {
        kind: "run.log_updated",
        data: { turn: 2, path: "agent-log.md", diff: "@@ -1,1 +1,2 @@\n turn 1 done\n+turn 2 done", watched: true },
      },
    ]);
    // Shown, not counted: the agent may report the same change itself.
    expect(done.stats.files).toMatchObject({ deleted: 0, written: 0 });
  });

  it("on a clean shutdown lets a draining profile's turn finish, and interrupts the others' turns", async () => {
    const slow = {
      ...base,
      args: [AGENT, "stdin", "--sleep=1500"],
      maxTurns: 5,
      input: { template: "turn {{turn}}\n{{messages}}" },
    };
    const o = await setUp({ draining: { ...slow, onShutdown: "drain" }, interrupted: slow }, false);
    const supervisor = o.runSupervisor({ pollMs: 50 });
    const draining = await o.startRun({ profile: "draining" });
    const interrupted = await o.startRun({ profile: "interrupted" });
    expect(draining.spec.onShutdown).toBe("drain");
    expect(interrupted.spec).not.toHaveProperty("onShutdown");
    for (const run of [draining, interrupted]) await o.sendRunMessage(run.id, `for ${run.id}`);
    supervisor.start();
    for (const run of [draining, interrupted]) {
      await waitFor(`${run.id}'s first turn`, async () => ((await o.getRun(run.id))?.pid ? true : null), {
        timeoutMs: 15_000,
        intervalMs: 10,
      });
    }
    // The supervisor lists among the workers while it runs...
    expect((await o.listWorkers()).find((w) => w.id === supervisor.id)).toMatchObject({
      name: "run supervisor",
      status: "active",
      tasks: [],
    });
    await supervisor.stop();
    // ...and says it stopped.
    expect((await o.listWorkers()).find((w) => w.id === supervisor.id)?.status).toBe("stopped");
    const [drained] = await o.listRunTurns(draining.id);
    expect(drained).toMatchObject({ turn: 1, outcome: "exited", exitCode: 3 });
    const [cut] = await o.listRunTurns(interrupted.id);
    expect(cut).toMatchObject({ turn: 1, outcome: "interrupted" });
    // The message the drained turn read stays its; the interrupted turn's waits for the next turn again.
    expect((await o.listRunMessages(draining.id)).map((m) => m.turn)).toEqual([1]);
    expect((await o.listRunMessages(interrupted.id)).map((m) => m.turn)).toEqual([null]);
    // Both handed back, state intact, no second turn started: any node goes on with them.
    for (const run of [draining, interrupted]) {
      expect(await o.getRun(run.id)).toMatchObject({ state: "running", currentTurn: 1, workerId: null, pid: null });
    }
  });
});
