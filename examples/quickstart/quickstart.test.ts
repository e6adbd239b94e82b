// The README's example, run as a user would run it: a real process on a fresh database.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, expect, it } from "vitest";

const run = promisify(execFile);
let dir = "";
afterEach(() => rmSync(dir, { recursive: true, force: true }));

it("runs the README example and prints the job's result", async () => {
  dir = mkdtempSync(join(tmpdir(), "overseer-quickstart-"));
  const { stdout } = await run(process.execPath, [join(import.meta.dirname, "quickstart.mjs")], {
    env: { ...process.env, OVERSEER_DATABASE: join(dir, "q.db") },
    timeout: 30_000,
  });
  expect(stdout).toContain("delivered: 'ada@example.com'");
  expect(stdout).toContain("attempt: 1");
});
