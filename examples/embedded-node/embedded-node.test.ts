// The README's commands, run as written in an empty folder: node.mjs starts a whole node with
// startNode; a deploy enqueued through its API is approved from the (fake) Telegram chat and
// succeeds; with --stay the dashboard and the API answer until Ctrl-C, then the node stops cleanly.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, expect, it } from "vitest";
import { BIN, watchProcess } from "../../src/test-support/cli.js";
import { waitFor } from "../../src/test-support/wait.js";

const run = promisify(execFile);
const PROGRAM = join(import.meta.dirname, "node.mjs");
let dir = "";
let child: ChildProcess | null = null;
afterEach(() => {
  if (child?.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  child = null;
  rmSync(dir, { recursive: true, force: true });
});

it("enqueues through the API, is approved from Telegram, and the job succeeds", async () => {
  dir = mkdtempSync(join(tmpdir(), "overseer-embedded-node-"));
  const { stdout } = await run(process.execPath, [PROGRAM], { cwd: dir, timeout: 60_000 });
  expect(stdout).toMatch(/^dashboard on http:\/\/127\.0\.0\.1:\d+\/ \(the API under \/api\/v1\)\n/);
  expect(stdout).toContain('telegram: "Approval needed: Deploy 1.4.0 to production" with ✅ Approve, ❌ Deny\n');
  const id = /enqueued deploy (\w+) through the API/.exec(stdout)?.[1] ?? "";
  expect(stdout).toContain(`job ${id} succeeded: { deployed: true, by: 'telegram:4242' }\n`);
  expect(stdout).toMatch(/\nstopped\n$/);

  // The database holds it all: the decision came through Telegram, from the listed approver.
  const show = await run(process.execPath, [BIN, "--database", "embedded-node.db", "--json", "jobs", "show", id], {
    cwd: dir,
  });
  const { job, events } = JSON.parse(show.stdout);
  expect(job).toMatchObject({ task: "deploy", state: "succeeded", result: { deployed: true, by: "telegram:4242" } });
  const decided = events.find((e: { kind: string }) => e.kind === "approval.decided");
  expect(decided?.data).toMatchObject({ decision: "approve", by: "telegram:4242", channel: "telegram" });
});

it("with --stay serves the dashboard and the API until Ctrl-C, then stops cleanly", async () => {
  dir = mkdtempSync(join(tmpdir(), "overseer-embedded-node-"));
  child = spawn(process.execPath, [PROGRAM, "--stay"], { cwd: dir, stdio: "pipe" });
  const node = watchProcess(child, () => child?.kill("SIGINT"));
  const line = await waitFor("the node to wait for Ctrl-C", () => /sign in .* with (\S+); Ctrl-C/.exec(node.stdout()), {
    timeoutMs: 60_000,
  });
  const url = /dashboard on (\S+)\//.exec(node.stdout())?.[1];
  const dashboard = await fetch(`${url}/`);
  expect(dashboard.status).toBe(200);
  expect(dashboard.headers.get("content-type")).toContain("text/html");
  const stats = await fetch(`${url}/api/v1/stats`, { headers: { authorization: `Bearer ${line[1]}` } });
  expect(stats.status).toBe(200);
  expect(await node.stop()).toBe(0);
  expect(node.stdout()).toMatch(/\nstopped\n$/);
});
