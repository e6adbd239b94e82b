/**
 * `overseer runs ...` and run supervision across processes, with the built binary: nodes are
 * real `overseer start` processes on one SQLite file, and one of them is killed mid-run.
 */
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { processAlive } from "../engine/runs/process-group.js";
import { createOverseer, type Overseer } from "../sdk/overseer.js";
import { cliSandbox } from "../test-support/cli.js";
import { waitFor } from "../test-support/wait.js";

const cli = cliSandbox("overseer-runs-cli-");
const SLOW_TURN = resolve(import.meta.dirname, "../engine/runs/fixtures/slow-turn.mjs");

/** A config with one profile, `slow`, whose turns sleep `sleeps` ms and which completes at turn `stopAt`. */
function setUp(sleeps: string, stopAt: number): { db: string; config: string; args: string[] } {
  const dir = cli.tempDir();
  const config = join(dir, "overseer.config.json");
  const profile = {
    command: process.execPath,
    args: [SLOW_TURN, sleeps, String(stopAt)],
    cwd: "./work",
    params: { note: { type: "string", required: false } },
    completion: { stopFile: ".stop" },
    // Enough turns to outlast the CLI calls of a test on a loaded machine: the test ends the run.
    maxTurns: 1_000,
    grace: "1s",
  };
  writeFileSync(config, JSON.stringify({ runs: { profiles: { slow: profile }, lease: "1s" } }));
  const db = join(dir, "overseer.db");
  return { db, config, args: ["--database", db, "--config", config] };
}

async function startNode(args: string[]) {
  const child = cli.start([...args, "start", "--no-http", "--no-summary"]);
  let out = "";
  child.stdout?.on("data", (d) => (out += d));
  child.stderr?.on("data", (d) => (out += d));
  await waitFor("the node to start", () => out.includes("overseer start:"), { timeoutMs: 15_000 });
  return child;
}

async function sdk(db: string): Promise<Overseer> {
  return createOverseer({ database: db });
}

describe("overseer runs", () => {
  it("starts, lists, shows, pauses, resumes, cancels and prints the logs of a run", async () => {
    const { db, args } = setUp("300", 1_000);
    const started = await cli.run([...args, "runs", "start", "slow", "-p", "note=hello", "--json"]);
    expect(started.stderr).toBe("");
    const run = JSON.parse(started.stdout);
    expect(run).toMatchObject({ profile: "slow", state: "queued", params: { note: "hello" } });

    await startNode(args);
    const overseer = await sdk(db);
    try {
      await waitFor("two turns", async () => ((await overseer.getRun(run.id))?.currentTurn ?? 0) >= 2, {
        timeoutMs: 15_000,
      });
      const list = await cli.run([...args, "runs", "list", "--state", "running"]);
      expect(list.stdout).toMatch(new RegExp(`${run.id}\\s+slow\\s+running`));

      const pause = await cli.run([...args, "runs", "pause", run.id]);
      expect(pause.stdout).toContain(`run ${run.id} slow pausing`);
      await waitFor("the pause", async () => (await overseer.getRun(run.id))?.state === "paused", {
        timeoutMs: 10_000,
      });
      const again = await cli.run([...args, "runs", "pause", run.id]);
      expect(again.code).toBe(1);
      expect(again.stderr).toBe("overseer: RUN_INVALID_TRANSITION: the run is already paused\n");
      expect((await cli.run([...args, "runs", "resume", run.id])).stdout).toContain("running");

      const shown = await cli.run([...args, "runs", "show", run.id]);
      expect(shown.stdout).toContain(`run ${run.id} slow running`);
      expect(shown.stdout).toMatch(/turn 1 exited exit 0 \d+ bytes/);

      const cancel = await cli.run([...args, "runs", "cancel", run.id]);
      expect(cancel.stdout).toMatch(/cancelling|cancelled/);
      await waitFor("the cancel", async () => (await overseer.getRun(run.id))?.state === "cancelled", {
        timeoutMs: 10_000,
      });
      const late = await cli.run([...args, "runs", "cancel", run.id]);
      expect(late.stderr).toContain(
        "RUN_INVALID_TRANSITION: cannot cancel the run: it has already finished (cancelled)",
      );

      const logs = await cli.run([...args, "runs", "logs", run.id]);
      expect(logs.stdout).toMatch(/^turn 1 begins\nturn 1 ends\nturn 2 begins\nturn 2 ends\n/);
      expect(logs.stdout).not.toContain("overseer_event");
      const one = await cli.run([...args, "runs", "logs", run.id, "--turn", "2"]);
      expect(one.stdout).toBe("turn 2 begins\nturn 2 ends\n");
    } finally {
      await overseer.close();
    }
  }, 60_000);

  it("refuses bad input with a clear message and writes nothing", async () => {
    const { db, args } = setUp("100", 1);
    const unknown = await cli.run([...args, "runs", "start", "deploy"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe('overseer: RUN_PROFILE_NOT_FOUND: no run profile "deploy"; the profiles are slow\n');
    const extra = await cli.run([...args, "runs", "start", "slow", "-p", "colour=red"]);
    expect(extra.stderr).toBe(
      "overseer: INVALID_RUN_PARAMS: params.colour is not a param of this profile; it takes note\n",
    );
    const json = await cli.run([...args, "runs", "start", "slow", "--params", "{oops"]);
    expect(json.stderr).toMatch(/^overseer: INVALID_ARGUMENT: --params is not valid JSON/);
    const missing = await cli.run([...args, "runs", "show", "01NOPE"]);
    expect(missing.stderr).toBe('overseer: RUN_NOT_FOUND: no run with id "01NOPE"\n');
    const overseer = await sdk(db);
    try {
      expect(await overseer.listRuns()).toEqual([]);
    } finally {
      await overseer.close();
    }
  });

  it("stopping a node interrupts its turn cleanly and leaves the run for the next node", async () => {
    const { db, args } = setUp("60000,200", 2);
    const a = await startNode(args);
    const overseer = await sdk(db);
    try {
      const run = JSON.parse((await cli.run([...args, "runs", "start", "slow", "--json"])).stdout);
      const turnPid = (await waitFor("turn 1", async () => (await overseer.getRun(run.id))?.pid, {
        timeoutMs: 15_000,
      })) as number;
      const exited = new Promise((done) => a.on("exit", done));
      a.kill("SIGTERM");
      await exited;
      expect(processAlive(turnPid)).toBe(false);
      expect(await overseer.getRun(run.id)).toMatchObject({ state: "running", workerId: null, pid: null });
      expect((await overseer.listRunTurns(run.id))[0]).toMatchObject({ outcome: "interrupted", signal: "SIGTERM" });

      await startNode(args);
      const done = await waitFor(
        "the next node to finish the run",
        async () => {
          const r = await overseer.getRun(run.id);
          return r?.state === "completed" ? r : null;
        },
        { timeoutMs: 30_000, intervalMs: 50 },
      );
      expect(done.currentTurn).toBe(2);
      const kinds = (await overseer.readEvents({ runId: run.id })).map((e) => e.kind);
      expect(kinds).toContain("run.released");
      expect(kinds).not.toContain("run.taken_over");
    } finally {
      await overseer.close();
    }
  }, 60_000);

  it("a second node finishes a run whose node was killed mid-turn, and kills the lost turn's processes", async () => {
    // Turn 1 sleeps 60 s (it is lost with its node); later turns are short, and turn 2 completes.
    const { db, args } = setUp("60000,200", 2);
    const a = await startNode(args);
    const overseer = await sdk(db);
    try {
      const run = JSON.parse((await cli.run([...args, "runs", "start", "slow", "--json"])).stdout);
      const running = await waitFor(
        "node A to run turn 1",
        async () => {
          const r = await overseer.getRun(run.id);
          return r?.pid ? r : null;
        },
        { timeoutMs: 15_000 },
      );
      expect(running.workerId).toContain(`:${a.pid}:`);
      const lostPid = running.pid as number;
      expect(processAlive(lostPid)).toBe(true);

      a.kill("SIGKILL");
      await startNode(args);
      const done = await waitFor(
        "node B to finish the run",
        async () => {
          const r = await overseer.getRun(run.id);
          return r && (r.state === "completed" || r.state === "failed") ? r : null;
        },
        { timeoutMs: 30_000, intervalMs: 50 },
      );
      expect(done).toMatchObject({
        state: "completed",
        currentTurn: 2,
        completion: { detected: "stop_file", turn: 2 },
      });
      expect(done.workerId).toBeNull();
      const turns = await overseer.listRunTurns(run.id);
      expect(turns.map((t) => [t.turn, t.outcome])).toEqual([
        [1, "lost"],
        [2, "exited"],
      ]);
      expect(processAlive(lostPid)).toBe(false);
      const kinds = (await overseer.readEvents({ runId: run.id })).map((e) => e.kind);
      expect(kinds).toContain("run.turn_lost");
      expect(kinds).toContain("run.taken_over");
    } finally {
      await overseer.close();
    }
  }, 60_000);
});
