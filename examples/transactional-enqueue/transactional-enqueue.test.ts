// The docs' "Enqueue in your own transaction" examples, run as a user would run them.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterEach, expect, it } from "vitest";

const run = promisify(execFile);
let dir = "";
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const expected = ["rolled back: cannot sell out of stock", "orders: 1", "jobs: [ { orderId: 1 } ]"];

it("runs the SQLite example: the committed order has its job, the rolled-back one has none", async () => {
  dir = mkdtempSync(join(tmpdir(), "overseer-tx-example-"));
  const { stdout } = await run(process.execPath, [join(import.meta.dirname, "sqlite.mjs")], {
    cwd: dir,
    timeout: 30_000,
  });
  for (const line of expected) expect(stdout).toContain(line);
});

it("runs the PostgreSQL example and leaves no schema behind", async () => {
  dir = mkdtempSync(join(tmpdir(), "overseer-tx-example-"));
  const url = process.env.OVERSEER_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";
  const { stdout } = await run(process.execPath, [join(import.meta.dirname, "postgres.mjs")], {
    cwd: dir,
    timeout: 30_000,
    env: { ...process.env, OVERSEER_DATABASE: url },
  });
  for (const line of expected) expect(stdout).toContain(line);
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    const { rows } = await admin.query("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'overseer_example_%'");
    expect(rows).toEqual([]);
  } finally {
    await admin.end();
  }
});
