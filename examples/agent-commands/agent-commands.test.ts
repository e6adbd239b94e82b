// The README's commands, run as written in an empty folder: two agents race for the backlog over
// MCP, the fake Telegram chat shows each command, a stranger is refused by button and by reply, a
// maintainer approves by button and denies by reply, the approved command is a dry run until an
// admin turns execution on, then `gh` runs once; a Telegram outage reaches the fallback webhook at
// once; the event file holds every step in order. With --stay the dashboard answers until Ctrl-C.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, expect, it } from "vitest";
import { BIN, watchProcess } from "../../src/test-support/cli.js";
import { waitFor } from "../../src/test-support/wait.js";

const run = promisify(execFile);
const PROGRAM = join(import.meta.dirname, "run.mjs");
let dir = "";
let child: ChildProcess | null = null;
afterEach(() => {
  if (child?.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  child = null;
  rmSync(dir, { recursive: true, force: true });
});

interface Logged {
  seq: number;
  kind: string;
  jobId: string | null;
  data: Record<string, unknown>;
}

it("plays the whole story: claims, proposals, refusals, decisions, dry runs, execution on, fallback", async () => {
  dir = mkdtempSync(join(tmpdir(), "overseer-agent-commands-"));
  const { stdout } = await run(process.execPath, [PROGRAM], { cwd: dir, timeout: 120_000 });
  const lines = stdout.trimEnd().split("\n");
  expect(lines[0]).toMatch(/^dashboard on http:\/\/127\.0\.0\.1:\d+\/ \(execution: dry-run\)$/);
  // Each item has one owner; the other agent was refused.
  for (const item of ["story:ABC-1", "story:ABC-2", "story:ABC-3"]) {
    expect(stdout).toMatch(new RegExp(`\\n${item}: claimed by agent-[ab]; 1 other refused \\(CLAIM_HELD\\)\\n`));
  }
  // What the (fake) chat received shows the command, marked DRY RUN.
  expect(stdout).toContain(
    'telegram: "[DRY RUN] Approval needed: Merge the retry fix" shows "gh pr merge 101 --squash" with ✅ Approve, ❌ Deny\n',
  );
  expect(stdout).toContain(
    'telegram: "[DRY RUN] Approval needed: Close the stale issue" shows "gh issue close 57 --reason \'not planned\'"',
  );
  expect(lines.slice(7)).toEqual([
    "refused user 999: approve by button, approve by reply",
    "story:ABC-1: approved by telegram:111, recorded as a dry run; nothing ran",
    "story:ABC-2: denied by telegram:111: not this sprint",
    "gh was called 0 times",
    "execution enabled, by env-admin: release window",
    "story:ABC-3: approved by telegram:111, recorded as a dry run; nothing ran (it was asked before execution was on)",
    'telegram: "Approval needed: Merge the docs update" shows "gh pr merge 102 --squash" with ✅ Approve, ❌ Deny',
    "story:ABC-3: approved by telegram:111, ran: ✓ Merged pull request #102",
    "gh-calls.log: gh pr merge 102 --squash",
    'telegram refused the bot; ops-hook got "Approval needed: Tag release 2.4.0" at once',
    "re-queue policy, dry run: 0 of 1 dead notification(s): its last error (TELEGRAM_403) is permanent: running it again would fail the same way",
    expect.stringMatching(
      /^agent-commands\.ndjson: \d+ events; approval\.refused, approval\.refused, approval\.settled, command\.executed\.dryrun, approval\.settled, execution\.changed, approval\.settled, command\.executed\.dryrun, approval\.settled, command\.executed$/,
    ),
    "stopped",
  ]);
  expect(readFileSync(join(dir, "gh-calls.log"), "utf8")).toBe("gh pr merge 102 --squash\n");

  // The event file: every event once, in order, with each step's audit.
  const events = readFileSync(join(dir, "agent-commands.ndjson"), "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Logged);
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => events[0].seq + i));
  const of = (kind: string) => events.filter((e) => e.kind === kind);
  // One take per item however the agents raced (the node's own claims are left out), and three releases.
  const items = (kind: string) => of(kind).filter((e) => String(e.data.key).startsWith("story:"));
  expect(items("claim.taken").map((e) => e.data.key)).toHaveLength(3);
  expect(new Set(items("claim.taken").map((e) => e.data.key))).toEqual(
    new Set(["story:ABC-1", "story:ABC-2", "story:ABC-3"]),
  );
  expect(items("claim.taken").every((e) => e.data.role === "implementer")).toBe(true);
  expect(items("claim.released")).toHaveLength(3);
  expect(of("approval.refused").map((e) => [e.data.userId, e.data.via])).toEqual([
    [999, "button"],
    [999, "reply"],
  ]);
  expect(of("approval.decided").map((e) => [e.data.decision, e.data.by, e.data.channel])).toEqual([
    ["approve", "telegram:111", "telegram"],
    ["deny", "telegram:111", "telegram"],
    ["approve", "telegram:111", "telegram"],
    ["approve", "telegram:111", "telegram"],
  ]);
  expect(of("execution.changed").map((e) => e.data)).toEqual([
    { from: "dry-run", to: "enabled", by: "env-admin", reason: "release window" },
  ]);
  expect(of("command.executed").map((e) => e.data)).toEqual([
    { command: "gh pr merge 102 --squash", exitCode: 0, signal: null, output: "✓ Merged pull request #102\n" },
  ]);
  expect(of("alert.fallback").map((e) => [e.data.target, e.data.fallback])).toEqual([["maintainers-tg", "ops-hook"]]);

  // The database says the same through the CLI.
  const show = await run(process.execPath, [BIN, "--database", "agent-commands.db", "--json", "execution"], {
    cwd: dir,
  });
  expect(JSON.parse(show.stdout)).toMatchObject({ mode: "enabled", changedBy: "env-admin", reason: "release window" });
});

it("with --stay serves the dashboard until Ctrl-C, then stops cleanly", async () => {
  dir = mkdtempSync(join(tmpdir(), "overseer-agent-commands-"));
  child = spawn(process.execPath, [PROGRAM, "--stay"], { cwd: dir, stdio: "pipe" });
  const node = watchProcess(child, () => child?.kill("SIGINT"));
  const line = await waitFor("the node to wait for Ctrl-C", () => /sign in .* with (\S+); Ctrl-C/.exec(node.stdout()), {
    timeoutMs: 120_000,
  });
  const url = /dashboard on (\S+)\//.exec(node.stdout())?.[1];
  const approvals = await fetch(`${url}/api/v1/approvals?state=settled`, {
    headers: { authorization: `Bearer ${line[1]}` },
  });
  expect(approvals.status).toBe(200);
  const { items } = (await approvals.json()) as { items: Array<{ title: string; execution: string | null }> };
  expect(items.filter((a) => a.execution === "dry-run").map((a) => a.title)).toContain("Merge the retry fix");
  expect(await node.stop()).toBe(0);
  expect(node.stdout()).toMatch(/\nstopped\n$/);
  expect(existsSync(join(dir, "agent-commands.ndjson"))).toBe(true);
});
