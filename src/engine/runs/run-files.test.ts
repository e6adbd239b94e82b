// Reading and writing a run's working folder only through regular files inside it: symlinks,
// named pipes and folders read as absent, and are never written through.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readInside, writeInside } from "./run-files.js";

let root = "";
let cwd = "";
let outside = "";
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "overseer-run-files-"));
  cwd = join(root, "work");
  outside = join(root, "outside");
  mkdirSync(cwd);
  mkdirSync(outside);
  writeFileSync(join(outside, "secret.txt"), "server secret\n");
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe("a run's working folder", () => {
  it("reads a regular file, whole or a window of it cut between characters", async () => {
    writeFileSync(join(cwd, "log.md"), "héllo wörld\n");
    expect(await readInside(cwd, "log.md", { length: 1_000 })).toEqual({ text: "héllo wörld\n", start: 0, size: 14 });
    // The last 5 bytes start inside "ö": the window starts after it.
    expect(await readInside(cwd, "log.md", { length: 5 })).toEqual({ text: "rld\n", start: 10, size: 14 });
    // From byte 1 for 3 bytes: "é" is whole (bytes 1-2), "l" too.
    expect(await readInside(cwd, "log.md", { from: 1, length: 3 })).toEqual({ text: "él", start: 1, size: 14 });
    expect(await readInside(cwd, "missing.md", { length: 10 })).toBeNull();
  });

  it("reads a symlink, a symlinked folder, a named pipe and a folder as absent", async () => {
    symlinkSync(join(outside, "secret.txt"), join(cwd, "agent-log.md"));
    symlinkSync(outside, join(cwd, "linked"));
    mkdirSync(join(cwd, "folder"));
    execFileSync("mkfifo", [join(cwd, "pipe.md")]);
    for (const path of ["agent-log.md", "linked/secret.txt", "folder", "pipe.md", "../outside/secret.txt"]) {
      expect(await readInside(cwd, path, { length: 100 }), path).toBeNull();
    }
  });

  it("writes a file inside, making its folders, and never through a symlink", () => {
    writeInside(cwd, ".overseer/input.md", "turn 1");
    expect(readFileSync(join(cwd, ".overseer", "input.md"), "utf8")).toBe("turn 1");
    symlinkSync(join(outside, "secret.txt"), join(cwd, "input.md"));
    expect(() => writeInside(cwd, "input.md", "overwritten")).toThrow("input.md is a symbolic link: not written");
    symlinkSync(outside, join(cwd, "state"));
    expect(() => writeInside(cwd, "state/input.md", "x")).toThrow("outside the working folder");
    expect(readFileSync(join(outside, "secret.txt"), "utf8")).toBe("server secret\n");
  });
});
