/**
 * Runs the `.mjs` fixtures of this folder as real child processes (they import the built
 * package) and keeps track of them, so that a test file's afterEach can kill whatever a failed
 * or timed-out test left running.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** When the test process saw the exit (epoch ms): no later than the child's last moment alive. */
  at: number;
}

export interface Fixture {
  readonly pid: number;
  /** Complete stdout lines so far (a line cut short by a kill is not included). */
  readonly lines: string[];
  stderr(): string;
  /** The first stdout line that starts with `prefix`, waiting for it if need be. */
  waitForLine(prefix: string, timeoutMs?: number): Promise<string>;
  readonly exited: Promise<Exit>;
  kill(signal: NodeJS.Signals): void;
}

const live = new Set<ChildProcess>();

/** Starts `src/test-support/<file>` with `config` as its one JSON argument. */
export function startFixture(file: string, config: object): Fixture {
  const script = fileURLToPath(new URL(`./${file}`, import.meta.url));
  const child = spawn(process.execPath, [script, JSON.stringify(config)], { stdio: ["ignore", "pipe", "pipe"] });
  if (child.pid === undefined) throw new Error(`could not start ${file}`);
  live.add(child);
  const lines: string[] = [];
  const listeners = new Set<() => void>();
  let partial = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    const parts = (partial + chunk).split("\n");
    partial = parts.pop() ?? "";
    lines.push(...parts);
    for (const listener of listeners) listener();
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  // "close", not "exit": it comes after stdout has been read to the end, so no line the child
  // printed can arrive after the test has counted them (under load, "exit" can come first).
  const exited = new Promise<Exit>((resolve) => {
    child.once("close", (code, signal) => {
      live.delete(child);
      resolve({ code, signal, at: Date.now() });
      for (const listener of listeners) listener();
    });
  });
  return {
    pid: child.pid,
    lines,
    stderr: () => stderr,
    exited,
    kill: (signal) => {
      child.kill(signal);
    },
    waitForLine: (prefix, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const line = lines.find((l) => l.startsWith(prefix));
          if (line !== undefined) return done(() => resolve(line));
          if (child.exitCode !== null || child.signalCode !== null) {
            return done(() => reject(new Error(`${file} exited before printing "${prefix}"; stderr:\n${stderr}`)));
          }
        };
        const timer = setTimeout(
          () => done(() => reject(new Error(`${file} printed no "${prefix}" in ${timeoutMs} ms; stderr:\n${stderr}`))),
          timeoutMs,
        );
        const done = (settle: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          settle();
        };
        listeners.add(check);
        check();
      }),
  };
}

/** SIGKILLs every fixture still running and waits until they are gone. */
export async function killAllFixtures(): Promise<void> {
  const waiting = [...live].map(
    (child) =>
      new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGKILL");
      }),
  );
  await Promise.all(waiting);
}
