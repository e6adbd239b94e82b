/**
 * The README's examples, run as written, in the order a reader meets them, on a fresh folder:
 * only `npx overseer` becomes the built binary, `examples/` the repository's (a copy where a
 * run would write next to it), and the server's port the one it picked.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { BIN, cliSandbox } from "../test-support/cli.js";
import { waitFor } from "../test-support/wait.js";

const run = promisify(execFile);
const cli = cliSandbox("overseer-readme-");
const ROOT = resolve(import.meta.dirname, "../..");
const README = readFileSync(join(ROOT, "README.md"), "utf8");
const OVERSEER = `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)}`;

/** The first sh block after `heading` (and after `after`, when given, within the section). */
function shBlock(heading: string, after = ""): string {
  const start = README.indexOf(heading);
  if (start === -1) throw new Error(`README.md: no heading ${JSON.stringify(heading)}`);
  const section = README.slice(README.indexOf(after, start));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (block === undefined) throw new Error(`README.md: no sh block under ${heading}`);
  return block;
}

function collect(child: ChildProcess): () => string {
  let out = "";
  child.stdout?.on("data", (d) => (out += d));
  return () => out;
}

describe("the README", () => {
  it("says before anything else what npm test needs and how to get it", () => {
    const opening = README.slice(0, README.indexOf("\n## "));
    for (const needed of [
      "PostgreSQL at 127.0.0.1:5432",
      "named `test`",
      "trust auth",
      "apt-get install -y postgresql chromium",
      "pg_ctlcluster",
      "createdb -h 127.0.0.1 -U postgres test",
    ]) {
      expect(opening).toContain(needed);
    }
  });

  it("the server the HTTP API section names serves its examples and the agent runs section's", async () => {
    const dir = cli.tempDir();
    // The command the section tells the reader to run, with the demo's config copied into this
    // folder: its runs write their working folders next to it.
    const named = /next to a running `npm start` \(that is `npx overseer ([^`]+)`/.exec(README)?.[1];
    expect(named).toBeDefined();
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: { start: string } };
    expect(pkg.scripts.start).toContain(`dist/cli/main.js ${named}`);
    mkdirSync(join(dir, "examples", "agent-runs"), { recursive: true });
    for (const file of ["overseer.config.json", "demo-agent.mjs"]) {
      copyFileSync(join(ROOT, "examples", "agent-runs", file), join(dir, "examples", "agent-runs", file));
    }
    const node = cli.start([...(named as string).split(" "), "--port", "0"]);
    const out = collect(node);
    const closed = new Promise((r) => node.on("close", r));
    const url = (
      await waitFor("the API's URL", () => /HTTP API on (http:\/\/\S+)\/api\/v1/.exec(out()), { timeoutMs: 20_000 })
    )[1] as string;
    await waitFor("the node to be ready", () => out().includes("Ctrl-C to stop"), { timeoutMs: 20_000 });
    const admin = /admin token "admin": (\S+)/.exec(out())?.[1] as string;
    const local = (script: string) =>
      script.replaceAll("npx overseer", OVERSEER).replaceAll("http://127.0.0.1:7070", url);

    const script = local(shBlock("\n## HTTP API\n"));
    const { stdout } = await run("bash", ["-euo", "pipefail", "-c", script], { cwd: dir, timeout: 30_000 });
    const documents = stdout
      .replace(/\}\{/g, "}\n{")
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => JSON.parse(l));
    expect(documents).toHaveLength(4);
    const [enqueued, listed, found, retried] = documents;
    expect(enqueued).toMatchObject({ task: "send-email", priority: -10, payload: { to: "ada@example.com" } });
    expect(listed).toMatchObject({ items: expect.any(Array) });
    expect(listed).toHaveProperty("nextCursor");
    expect(found.items.map((j: { id: string }) => j.id)).toContain(enqueued.id);
    expect(retried).toMatchObject({ matched: expect.any(Number), changed: expect.any(Number), skipped: [] });

    // Streams and metrics, with the token of the first block. `curl | head` ends curl with a
    // broken pipe, as it does in an interactive shell: no pipefail here.
    const tokenLine = script.split("\n").find((l) => l.startsWith("TOKEN=")) ?? "";
    const streams = [
      tokenLine.replace("--name readme", "--name readme-streams"),
      local(shBlock("\n### Live events and metrics\n")),
    ].join("\n");
    const live = await run("bash", ["-eu", "-c", streams], { cwd: dir, timeout: 30_000 });
    const lines = live.stdout.split("\n");
    expect(lines[0]).toBe("retry: 2000");
    expect(lines[2]).toBe("id: 1");
    expect(JSON.parse(lines[3]?.replace(/^data: /, "") ?? "")).toMatchObject({ seq: 1 });
    expect(lines).toContain("retry: 2000");
    expect(lines.filter((l) => l === "id: 1")).toHaveLength(2);
    expect(live.stdout).toMatch(/^overseer_jobs\{queue="[^"]+",state="queued"\} \d+$/m);

    // Agent runs, against the same server, up to the first line that needs a run's id.
    const runsBlock = shBlock("\n## Agent runs\n").split("\n");
    const runLines = runsBlock.slice(
      0,
      runsBlock.findIndex((l) => l.includes("<id>")),
    );
    const runs = local(runLines.join("\n").replace("<the admin token start printed>", admin));
    const started = await run("bash", ["-euo", "pipefail", "-c", runs], { cwd: dir, timeout: 30_000 });
    expect(started.stdout).toMatch(/demo-agent/);
    expect(started.stdout).not.toContain("RUN_PROFILE_NOT_FOUND");
    // Stopped gracefully, so that the run's turn is interrupted and nothing outlives the test.
    node.kill("SIGTERM");
    await closed;
  });

  it("the command line section's commands work as written, in order, in a fresh folder", async () => {
    const dir = cli.tempDir();
    const lines = [shBlock("\n## From the command line\n"), shBlock("\n## From the command line\n", "Recurring tasks")]
      .join("")
      .split("\n")
      .filter((l) => l.trim() !== "");
    // The heredoc of the config file is one command.
    const commands: string[] = [];
    for (const line of lines) {
      const open = commands.at(-1);
      if (open?.includes("<<'JSON'") && !open.endsWith("\nJSON")) commands[commands.length - 1] = `${open}\n${line}`;
      else commands.push(line);
    }
    let jobId = "";
    let workerRan = false;
    const TASK_WARNING = /^warning TASK_NOT_REGISTERED: no worker has registered task 'send-email'[^\n]*\n$/;
    for (const written of commands) {
      const command = written
        .replaceAll("npx overseer", OVERSEER)
        .replaceAll(" examples/", ` ${join(ROOT, "examples")}/`)
        .replaceAll("<id>", jobId);
      const longRunning = / worker | events --follow/.test(written);
      const child = cli.track(spawn("bash", ["-euo", "pipefail", "-c", command], { cwd: dir }));
      const out = collect(child);
      let err = "";
      child.stderr?.on("data", (d) => (err += d));
      const closed = new Promise<number | null>((r) => child.on("close", r));
      if (longRunning) {
        // A worker or a follower runs until stopped: it has worked once it says so.
        const ready = written.includes(" worker ") ? "Ctrl-C to stop" : "job.enqueued";
        await waitFor(`${written} to start`, () => out().includes(ready) || child.exitCode !== null, {
          timeoutMs: 20_000,
        });
        child.kill("SIGTERM");
      }
      const code = await closed;
      // The README says so: an enqueue before any worker has run warns, once, and still enqueues.
      const warned = written.includes(" enqueue ") && !workerRan;
      if (!longRunning)
        expect({ command: written, code, err: warned ? err.replace(TASK_WARNING, "") : err }).toEqual({
          command: written,
          code: 0,
          err: "",
        });
      if (warned) expect(err).toMatch(TASK_WARNING);
      if (written.includes(" worker ")) workerRan = true;
      expect(out(), written).not.toMatch(/overseer: [A-Z_]+:/);
      if (written.includes(" worker ")) expect(out()).toContain("Ctrl-C to stop");
      if (written.includes(" enqueue ")) jobId = /\b(01[0-9A-Z]{24})\b/.exec(out())?.[1] ?? "";
    }
    expect(jobId).not.toBe("");
    expect(existsSync(join(dir, "old-jobs.ndjson"))).toBe(false); // a dry run
  });
});
