/**
 * The built-in `overseer.command` task with real workers, a real store and real subprocesses: the
 * request shows the command; approved in dry-run mode it is recorded as `command.executed.dryrun`
 * and nothing runs; with execution on it runs, once, in the configured folder; denied or a test
 * item, it never runs; a failing command and a bad proposal end the job with a clear error.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import type { CommandsConfig } from "../config/commands.js";
import { finishedJob, requestOf } from "../test-support/approvals.js";
import { TEST_BACKEND, testDatabase } from "../test-support/test-backend.js";
import { waitFor } from "../test-support/wait.js";
import { COMMAND_TASK } from "./command-task.js";
import type { Overseer } from "./overseer.js";

const root = { name: "root", identities: [], mayOperate: true };

function workFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), "overseer-commands-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function node(cwd: string): Promise<Overseer> {
  const commands: CommandsConfig = {
    approvers: ["root"],
    risk: "high",
    approvalTimeoutMs: null,
    timeoutMs: 30_000,
    cwd,
  };
  const overseer = await (await testDatabase("overseer-commands-")).open({ commands });
  await overseer.worker({ pollMs: 20 }).start();
  return overseer;
}

/** Proposes a command, decides its request, and returns the request and the finished job. */
async function propose(overseer: Overseer, payload: object, decision: "approve" | "deny" = "approve") {
  const job = await overseer.enqueue(COMMAND_TASK, payload);
  const request = await requestOf(overseer, job.id);
  await overseer.decideApproval(request.id, { decision, reason: `${decision}d in a test` }, root);
  return { request, job: await finishedJob(overseer, job.id) };
}

async function kinds(overseer: Overseer, jobId: string): Promise<Array<[string, unknown]>> {
  return (await overseer.readEvents({ jobId }))
    .filter((e) => e.kind.startsWith("command."))
    .map((e) => [e.kind, e.data]);
}

describe(`overseer.command on ${TEST_BACKEND}`, () => {
  it("dry-run by default: the approved command is recorded and not run; turned on, the next one runs", async () => {
    const cwd = workFolder();
    const overseer = await node(cwd);
    const command = "echo deployed > marker.txt";
    const dry = await propose(overseer, { command, reason: "ship it", proposedBy: "someone else" });
    expect(dry.request).toMatchObject({
      title: `Run: ${command}`,
      // Who proposed it is the enqueuing token (none here, through the SDK), never the payload's word.
      details: { command, cwd, reason: "ship it" },
      risk: "high",
      approvers: ["root"],
      execution: "dry-run",
      test: false,
    });
    expect(dry.job).toMatchObject({
      state: "succeeded",
      result: { decision: "approved", decidedBy: "root", executed: false, dryRun: true },
    });
    expect(await kinds(overseer, dry.job.id)).toEqual([
      ["command.executed.dryrun", { command, why: "execution is dry-run" }],
    ]);
    expect(existsSync(join(cwd, "marker.txt"))).toBe(false);

    await overseer.setExecution({ mode: "enabled", by: "root", reason: "go" });
    const live = await propose(overseer, { command });
    expect(live.request).toMatchObject({ execution: "enabled" });
    expect(live.job.result).toEqual({
      decision: "approved",
      decidedBy: "root",
      reason: "approved in a test",
      executed: true,
      dryRun: false,
      exitCode: 0,
      output: "",
    });
    expect(readFileSync(join(cwd, "marker.txt"), "utf8")).toBe("deployed\n");
    expect(await kinds(overseer, live.job.id)).toEqual([
      ["command.executed", { command, exitCode: 0, signal: null, output: "" }],
    ]);
  });

  it("denied, or a test item, never runs; a failing command dies with its exit code and last line", async () => {
    const cwd = workFolder();
    const overseer = await node(cwd);
    await overseer.setExecution({ mode: "enabled", by: "root", reason: null });
    const denied = await propose(overseer, { command: "touch denied.txt" }, "deny");
    expect(denied.job.result).toMatchObject({ decision: "denied", executed: false, dryRun: false });
    const testItem = await propose(overseer, { command: "touch test.txt", test: true });
    expect(testItem.request).toMatchObject({ test: true });
    expect(testItem.job.result).toMatchObject({ decision: "approved", executed: false, dryRun: true });
    expect(await kinds(overseer, testItem.job.id)).toEqual([
      ["command.executed.dryrun", { command: "touch test.txt", why: "a test item never runs" }],
    ]);
    expect(existsSync(join(cwd, "denied.txt")) || existsSync(join(cwd, "test.txt"))).toBe(false);

    const failing = await propose(overseer, { command: "echo 'no such branch' >&2; exit 3" });
    expect(failing.job).toMatchObject({
      state: "dead",
      attempts: 1,
      lastError: {
        code: "COMMAND_FAILED",
        message: "the command exited with code 3: no such branch",
        retryable: false,
      },
    });
    expect(await kinds(overseer, failing.job.id)).toEqual([
      ["command.executed", { command: expect.any(String), exitCode: 3, signal: null, output: "no such branch\n" }],
    ]);
  });

  it("a bad proposal dies at once with INVALID_PAYLOAD naming the field, asking nobody", async () => {
    const overseer = await node(workFolder());
    for (const [payload, message] of [
      [{}, /command must be a shell command line/],
      [{ command: "ls", risk: "extreme" }, /risk must be one of/],
      [{ command: "ls", test: "yes" }, /test must be true or false/],
    ] as const) {
      const job = await overseer.enqueue(COMMAND_TASK, payload);
      const done = await finishedJob(overseer, job.id);
      expect(done).toMatchObject({ state: "dead", lastError: { code: "INVALID_PAYLOAD" } });
      expect(done.lastError?.message).toMatch(message);
    }
    expect(await overseer.listApprovals()).toEqual([]);
  });
});

describe(`overseer.command at most once on ${TEST_BACKEND}`, () => {
  it("a command cut short by a graceful shutdown is not run again by the next worker: COMMAND_INTERRUPTED", async () => {
    const cwd = workFolder();
    const commands: CommandsConfig = {
      approvers: ["root"],
      risk: "high",
      approvalTimeoutMs: null,
      timeoutMs: 60_000,
      cwd,
    };
    const db = await testDatabase("overseer-commands-");
    const first = await db.open({ commands });
    await first.setExecution({ mode: "enabled", by: "root", reason: null });
    const worker = first.worker({ pollMs: 20, shutdownTimeoutMs: 100, abortGraceMs: 100 });
    await worker.start();
    const job = await first.enqueue(COMMAND_TASK, { command: "echo run >> runs.txt; sleep 30" });
    const request = await requestOf(first, job.id);
    await first.decideApproval(request.id, { decision: "approve" }, root);
    await waitFor("the command to start", () => existsSync(join(cwd, "runs.txt")) || null, { timeoutMs: 15_000 });
    await worker.stop(); // the shutdown aborts it and hands the job back

    const second = await db.open({ commands });
    await second.worker({ pollMs: 20 }).start();
    const done = await finishedJob(second, job.id);
    expect(done).toMatchObject({ state: "dead", lastError: { code: "COMMAND_INTERRUPTED" } });
    expect(readFileSync(join(cwd, "runs.txt"), "utf8")).toBe("run\n");
    expect((await kinds(second, job.id)).map(([kind]) => kind)).toContain("command.interrupted");
  });
});

describe(`overseer.command's timeout on ${TEST_BACKEND}`, () => {
  it("the config's timeout stops a command even when its job was enqueued with a longer one", async () => {
    const cwd = workFolder();
    const commands: CommandsConfig = {
      approvers: ["root"],
      risk: "high",
      approvalTimeoutMs: null,
      timeoutMs: 1_000,
      cwd,
    };
    const overseer = await (await testDatabase("overseer-commands-")).open({ commands });
    await overseer.setExecution({ mode: "enabled", by: "root", reason: null });
    await overseer.worker({ pollMs: 20 }).start();
    const job = await overseer.enqueue(COMMAND_TASK, { command: "sleep 60" }, { timeout: "1h" });
    const request = await requestOf(overseer, job.id);
    await overseer.decideApproval(request.id, { decision: "approve" }, root);
    const done = await finishedJob(overseer, job.id);
    expect(done).toMatchObject({
      state: "dead",
      lastError: { code: "COMMAND_FAILED", message: "the command was stopped by SIGTERM: no output" },
    });
  });
});
