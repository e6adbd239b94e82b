/**
 * Running the built `overseer` binary in tests as a user would: real processes, each test in a
 * temp folder of its own. Call `cliSandbox()` at the top of a test file: it checks that the
 * build exists, and after each test kills the processes it started and removes the folder.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, beforeAll } from "vitest";

export const BIN = resolve(import.meta.dirname, "../../dist/cli/main.js");

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Written to standard input, which is then closed. */
  input?: string;
  env?: Record<string, string>;
  /** Run the file itself (through its shebang) instead of `node file`. */
  direct?: boolean;
}

export interface CliSandbox {
  /** This test's folder (made by `tempDir`). */
  readonly dir: string;
  /** Makes this test's folder and returns it; processes run in it. */
  tempDir(): string;
  /** Starts `overseer ARGS` and leaves it running; it is killed after the test. */
  start(args: string[], options?: Omit<RunOptions, "input">): ChildProcess;
  /** Runs `overseer ARGS` to the end. */
  run(args: string[], options?: RunOptions): Promise<CliResult>;
  /** Kills a process started some other way after the test. */
  track(child: ChildProcess): ChildProcess;
}

export function cliSandbox(prefix = "overseer-cli-"): CliSandbox {
  let dir = "";
  let children: ChildProcess[] = [];
  beforeAll(() => {
    if (!existsSync(BIN)) throw new Error("dist/cli/main.js is missing: run `npm run build` first (npm test does)");
  });
  afterEach(async () => {
    // Still running (a node, a worker): stopped as a user would, so that they stop what they
    // started (an agent a run spawned) before the folder goes; killed if they do not stop.
    const running = children.filter(alive);
    for (const c of running) c.kill("SIGTERM");
    await closed(running, 10_000);
    for (const c of running.filter(alive)) c.kill("SIGKILL");
    await closed(running, 5_000);
    children = [];
    if (dir) rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    dir = "";
  });
  const track = (child: ChildProcess) => {
    children.push(child);
    return child;
  };
  const start = (args: string[], options: Omit<RunOptions, "input"> = {}) => {
    const [command, argv] = options.direct ? [BIN, args] : [process.execPath, [BIN, ...args]];
    return track(
      spawn(command, argv, { cwd: dir || undefined, env: { ...process.env, ...options.env }, stdio: "pipe" }),
    );
  };
  return {
    get dir() {
      return dir;
    },
    tempDir() {
      dir = mkdtempSync(join(tmpdir(), prefix));
      return dir;
    },
    start,
    track,
    run(args, options = {}) {
      return new Promise((resolvePromise, reject) => {
        const child = start(args, options);
        let stdout = "";
        let stderr = "";
        child.stdout?.on("data", (d) => (stdout += d));
        child.stderr?.on("data", (d) => (stderr += d));
        child.on("error", reject);
        child.on("close", (code) => resolvePromise({ code, stdout, stderr }));
        child.stdin?.end(options.input ?? "");
      });
    },
  };
}

/** A long-running CLI process (`start`, `worker`) whose output a test reads as it comes. */
export interface WatchedProcess {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Stops it (SIGTERM unless told otherwise), then resolves with its exit code once it has drained. */
  stop(): Promise<number | null>;
}

export function watchProcess(child: ChildProcess, stop: () => unknown = () => child.kill("SIGTERM")): WatchedProcess {
  let out = "";
  let err = "";
  child.stdout?.on("data", (d) => (out += d));
  child.stderr?.on("data", (d) => (err += d));
  const closed = new Promise<number | null>((resolve) => child.on("close", resolve));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    stop: async () => {
      stop();
      return closed;
    },
  };
}

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Resolves once every child has closed, or after `ms`. */
async function closed(children: readonly ChildProcess[], ms: number): Promise<void> {
  const pending = children.filter(alive);
  if (pending.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(pending.map((c) => new Promise((resolve) => c.once("exit", resolve)))),
    new Promise((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}
