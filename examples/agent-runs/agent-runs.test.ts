// The README's commands, run as written on a copy of this folder: a run of the demo agent, driven
// by `overseer worker --runs`, completes at the turn it was asked to, with its telemetry counted.
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { cliSandbox, watchProcess } from "../../src/test-support/cli.js";
import { waitFor } from "../../src/test-support/wait.js";

const cli = cliSandbox("overseer-agent-runs-");

it("starts a demo-agent run that a worker drives to completion at turn 2", async () => {
  const dir = cli.tempDir();
  for (const file of ["overseer.config.json", "demo-agent.mjs"]) {
    copyFileSync(join(import.meta.dirname, file), join(dir, file));
  }
  const config = ["--config", "overseer.config.json"];
  const started = await cli.run([...config, "--json", "runs", "start", "demo-agent", "--params", '{"turns": 2}']);
  expect(started.stderr).toBe("");
  const { id, state } = JSON.parse(started.stdout) as { id: string; state: string };
  expect(state).toBe("queued");

  const worker = watchProcess(cli.start([...config, "worker", "--runs"]));
  const show = async () => JSON.parse((await cli.run(["--json", "runs", "show", id])).stdout);
  await waitFor("the run to finish", async () => (await show()).run.state === "completed", { timeoutMs: 30_000 });
  expect(await worker.stop()).toBe(0);

  const { run } = await show();
  expect(run).toMatchObject({ state: "completed", currentTurn: 2, error: null });
  expect(run.stats).toMatchObject({
    turns: 2,
    tokens: { input: 2_700, output: 660 },
    files: { read: 2, written: 2 },
    tests: { runs: 2, last: { passed: 10, failed: 0, skipped: 1 } },
  });
  for (const turn of [1, 2]) expect(existsSync(join(dir, "work", id, `attempt-${turn}.txt`))).toBe(true);
  const logs = await cli.run(["runs", "logs", id]);
  expect(logs.stdout).toContain('turn 1: working on "make the tests pass"');
  expect(logs.stdout).toContain("all tests pass: ALL TASKS DONE");
  expect(logs.stdout).not.toContain("overseer_event");
});

it("reports ten tests, none of them negative, whatever turn it is on", () => {
  const dir = mkdtempSync(join(tmpdir(), "overseer-demo-agent-"));
  try {
    for (const [turn, finishAt, failed] of [
      [1, 50, 10],
      [45, 50, 5],
      [50, 50, 0],
      [60, 50, 0],
    ] as const) {
      const out = execFileSync(process.execPath, [join(import.meta.dirname, "demo-agent.mjs"), "g", String(finishAt)], {
        cwd: dir,
        env: { ...process.env, OVERSEER_TURN: String(turn) },
        encoding: "utf8",
      });
      const tests = out
        .split("\n")
        .filter((line) => line.includes('"test_run_completed"'))
        .map((line) => JSON.parse(line));
      expect(tests, `turn ${turn}`).toEqual([
        { overseer_event: "test_run_completed", passed: 10 - failed, failed, skipped: 1 },
      ]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
