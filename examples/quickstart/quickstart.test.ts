// The README's example, run as a user would run it: a real process on a fresh database.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, expect, it } from "vitest";

const run = promisify(execFile);
let dir = "";
afterEach(() => rmSync(dir, { recursive: true, force: true }));

it("runs the README example and prints the job's result", async () => {
  dir = mkdtempSync(join(tmpdir(), "overseer-quickstart-"));
  // Exactly as the README says to run it, from a folder with nothing prepared in it.
  const { stdout } = await run(process.execPath, [join(import.meta.dirname, "quickstart.mjs")], {
    cwd: dir,
    timeout: 30_000,
  });
  expect(stdout).toContain("delivered: 'ada@example.com'");
  expect(stdout).toContain("attempt: 1");
  expect(existsSync(join(dir, "quickstart.db"))).toBe(true);
  // What the README says next: the job is in that file, and deleting it leaves nothing behind.
  const bin = join(import.meta.dirname, "../../dist/cli/main.js");
  const list = await run(process.execPath, [bin, "--database", "quickstart.db", "jobs", "list"], { cwd: dir });
  expect(list.stdout).toMatch(/send-email +default +succeeded/);
  rmSync(join(dir, "quickstart.db"));
  expect(readdirSync(dir)).toEqual([]);
});
