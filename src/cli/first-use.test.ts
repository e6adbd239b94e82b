/**
 * What a newcomer meets in the first minutes, through the built binary: the `start` banner (the
 * dashboard URL, a one-time token that stays on screen, the way to a token later), the status
 * line only in a terminal (a real pseudo-terminal, from util-linux's `script`), readable logs
 * in a terminal, no database password in any banner, read-only commands that create nothing,
 * `--version`, unknown commands and `| head`.
 */
import { execFile, spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { BIN, cliSandbox, type WatchedProcess, watchProcess } from "../test-support/cli.js";
import { pgSchemas, urlForSchema } from "../test-support/pg-schema.js";
import { waitFor } from "../test-support/wait.js";
import { REWRITE_LINE } from "./summary.js";

const cli = cliSandbox("overseer-first-use-");
const schema = pgSchemas();
const exec = promisify(execFile);
const VERSION = (
  JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }
).version;
const STATUS_LINE = /\d\d:\d\d:\d\d {2}queued \d+ {2}running \d+/;

/** Waits for the banner's last line, printed once the node listens for signals. */
async function ready(node: WatchedProcess): Promise<void> {
  const what = "Ctrl-C to stop";
  await waitFor(
    `the node to print "${what}"`,
    () => {
      if (node.child.exitCode !== null) throw new Error(`exited early:\n${node.stdout()}\n${node.stderr()}`);
      return node.stdout().includes(what);
    },
    { timeoutMs: 20_000 },
  );
}

/**
 * `overseer ARGS` with stdin, stdout and stderr on a pseudo-terminal, as in an interactive
 * shell; stopped with a Ctrl-C typed into it.
 */
function inTerminal(args: string[]): WatchedProcess {
  // `script` runs the command through $SHELL; `exec` replaces that shell, which would otherwise
  // share the terminal's Ctrl-C and, as dash does, exit 130 on it whatever the node did.
  const command = ["exec", process.execPath, BIN, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
  const child = cli.track(
    spawn("script", ["-qfec", command, "/dev/null"], { cwd: cli.dir, env: { ...process.env, COLUMNS: "200" } }),
  );
  return watchProcess(child, () => child.stdin?.write("\x03"));
}

function tasksDir(base: string): string {
  const dir = join(base, "tasks");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "noop.mjs"), "export default async () => 'ok';\n");
  return dir;
}

describe("overseer start's banner and status line", () => {
  it("prints the dashboard and a token once; without a terminal, no status line", async () => {
    const base = cli.tempDir();
    const db = join(base, "o.db");
    const args = ["--database", db, "start", "--demo", "--port", "0", "--no-retention"];
    const piped = watchProcess(cli.start(args));
    await ready(piped);
    // The same node in a terminal, on its own database, prints status lines meanwhile: two of
    // them mean the piped node has had the time to print two too, were it going to.
    const tty = inTerminal(["--database", join(base, "tty.db"), "start", "--demo", "--port", "0", "--no-retention"]);
    await waitFor("two status lines in the terminal", () => tty.stdout().split(STATUS_LINE).length > 2, {
      timeoutMs: 30_000,
    });
    expect(await piped.stop()).toBe(0);
    const out = piped.stdout();
    const url = /dashboard on (http:\/\/127\.0\.0\.1:\d+)\/\n/.exec(out)?.[1];
    expect(url).toBeDefined();
    expect(out).toContain(`HTTP API on ${url}/api/v1`);
    expect(out).toMatch(/admin token "admin": ovs_\S+\n/);
    expect(out).not.toMatch(STATUS_LINE);
    expect(out).not.toContain("\r");

    // In the terminal the status line rewrites itself in place, below the token, which stays.
    const screen = tty.stdout();
    expect(screen).toMatch(/admin token "admin": ovs_\S+\r?\n/);
    expect(screen).toContain(`${REWRITE_LINE}${STATUS_LINE.exec(screen)?.[0]}`);
    expect(screen.indexOf("admin token")).toBeLessThan(screen.search(STATUS_LINE));
    // Between two status lines there is only the rewrite, never a newline.
    const between = screen.slice(screen.search(STATUS_LINE)).split(STATUS_LINE)[1] ?? "";
    expect(between.endsWith(REWRITE_LINE) && !between.includes("\n")).toBe(true);
    expect(await tty.stop()).toBe(0);
    expect(tty.stdout()).toContain(`${REWRITE_LINE}overseer: SIGINT received`);

    // Started again on a database that has tokens: how to make one, and that command works.
    const again = watchProcess(cli.start(args));
    await ready(again);
    expect(await again.stop()).toBe(0);
    const hint = `overseer --database ${db} tokens create --scope admin --name me`;
    expect(again.stdout()).toContain(`this database has API tokens already; to make one for yourself: ${hint}\n`);
    expect(again.stdout()).not.toContain("admin token");
    const made = await cli.run(hint.split(" ").slice(1));
    expect(made.code).toBe(0);
    expect(made.stdout).toMatch(/^ovs_\S+\n$/);
  });

  it("names PostgreSQL without its password, in start's and worker's banners", async () => {
    const base = cli.tempDir();
    const { schema: name } = await schema();
    // The test server trusts loopback, so any password gets in: this one must never be printed.
    const url = urlForSchema("postgres://postgres:pw-s3cret@127.0.0.1:5432/test", name);
    const start = watchProcess(cli.start(["--database", url, "start", "--tasks", tasksDir(base), "--port", "0"]));
    await ready(start);
    expect(await start.stop()).toBe(0);
    const worker = watchProcess(cli.start(["--database", url, "worker", "--tasks", tasksDir(base)]));
    await ready(worker);
    expect(await worker.stop()).toBe(0);
    for (const node of [start, worker]) {
      expect(node.stdout()).toContain("database postgres://postgres:***@127.0.0.1:5432/test,");
      expect(node.stdout() + node.stderr()).not.toContain("s3cret");
    }
  });
});

describe("overseer worker's log", () => {
  it("is readable lines in a terminal and JSON lines otherwise", async () => {
    const base = cli.tempDir();
    const args = ["--database", join(base, "o.db"), "worker", "--tasks", tasksDir(base)];
    const tty = inTerminal(args);
    await ready(tty);
    expect(await tty.stop()).toBe(0);
    expect(tty.stdout()).toMatch(/\d\d:\d\d:\d\d INFO {2}worker started workerId=\S+/);
    expect(tty.stdout()).not.toContain('{"level"');

    const piped = watchProcess(cli.start(args));
    await ready(piped);
    expect(await piped.stop()).toBe(0);
    const lines = piped.stderr().trim().split("\n");
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(JSON.parse(line)).toHaveProperty("level");

    const json = inTerminal(["--log-format", "json", ...args]);
    await ready(json);
    expect(await json.stop()).toBe(0);
    expect(json.stdout()).toMatch(/^\{"level":30,.*"msg":"worker started"\}\r?$/m);
  });
});

describe("a folder without a database", () => {
  it("read-only commands say there is none and create nothing; enqueue makes ./data", async () => {
    const dir = cli.tempDir();
    for (const args of [
      ["jobs", "list"],
      ["jobs", "show", "01ARZ3NDEKTSV4RRFFQ69G5FAV"],
      ["queues", "list"],
      ["events"],
      ["tokens", "list"],
      ["runs", "list"],
      ["prune", "--dry-run"],
    ]) {
      const r = await cli.run(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toBe(
        "overseer: DATABASE_NOT_FOUND: no database at ./data/overseer.db: this command reads an existing one " +
          "(start, worker or enqueue make one); pass --database PATH (or set OVERSEER_DATABASE) to use another\n",
      );
      expect(readdirSync(dir)).toEqual([]);
    }
    const missing = await cli.run(["--database", "./nope/x.db", "jobs", "list"]);
    const enqueueThere = await cli.run(["--database", "./nope/x.db", "enqueue", "t"]);
    for (const r of [missing, enqueueThere]) {
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(
        'overseer: INVALID_ARGUMENT: the folder of database "./nope/x.db" does not exist; create it first ' +
          "(mkdir -p ./nope) or pass another --database\n",
      );
    }
    expect(readdirSync(dir)).toEqual([]);
    expect((await cli.run(["enqueue", "t"])).code).toBe(0);
    expect((await cli.run(["jobs", "list"])).stdout).toContain(" t ");
    expect(readdirSync(join(dir, "data"))).toContain("overseer.db");
  });
});

describe("the command line itself", () => {
  it("prints its version", async () => {
    cli.tempDir();
    for (const flag of ["--version", "-V"]) {
      const r = await cli.run([flag]);
      expect(r).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: "" });
    }
  });

  it("answers an unknown command in one line with a code and a hint", async () => {
    cli.tempDir();
    const r = await cli.run(["job", "list"]);
    expect(r).toEqual({
      code: 2,
      stdout: "",
      stderr: "overseer: UNKNOWN_COMMAND: unknown command 'job' (did you mean 'jobs'?); see overseer --help\n",
    });
    const sub = await cli.run(["jobs", "lst"]);
    expect(sub.code).toBe(2);
    expect(sub.stderr).toBe(
      "overseer: UNKNOWN_COMMAND: unknown command 'lst' (did you mean 'list'?); see overseer jobs --help\n",
    );
  });

  it("ends quietly when the reader of its output goes away (| head -1)", async () => {
    const dir = cli.tempDir();
    const db = join(dir, "o.db");
    // More rows than a pipe holds, so the writer is still writing when head has gone.
    const lines = Array.from({ length: 3000 }, (_, i) => JSON.stringify({ n: i })).join("\n");
    expect((await cli.run(["--database", db, "enqueue", "t", "--ndjson"], { input: lines })).code).toBe(0);
    const script = `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} --database ${JSON.stringify(db)} jobs list --limit 1000 | head -1; echo "exit \${PIPESTATUS[0]}"`;
    const { stdout, stderr } = await exec("bash", ["-c", script], { cwd: dir });
    expect(stdout).toMatch(/^ID +TASK +QUEUE +STATE/);
    expect(stdout).toMatch(/\nexit 0\n$/);
    expect(stderr).toBe("");
  });
});
