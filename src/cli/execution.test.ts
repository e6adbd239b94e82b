/**
 * `overseer execution [enabled|dry-run]` through the built binary, on the database itself and
 * through a server: showing, setting with a reason, the audit, an operator token refused when it
 * turns execution on, and bad input.
 */
import { describe, expect, it, onTestFinished } from "vitest";
import { createToken } from "../auth/tokens.js";
import { startHttpServer } from "../http/server.js";
import { cliSandbox } from "../test-support/cli.js";
import { tempDatabase } from "../test-support/temp-database.js";

const cli = cliSandbox("overseer-execution-cli-");

async function setup() {
  const db = tempDatabase("overseer-execution-");
  const overseer = await db.open();
  const admin = (await createToken(overseer.store, "cli-admin", "admin")).secret;
  const operator = (await createToken(overseer.store, "cli-operator", "operator")).secret;
  const server = await startHttpServer({ overseer, port: 0 });
  onTestFinished(() => server.close());
  return {
    overseer,
    local: (args: string[]) => cli.run(["--database", db.path, "execution", ...args]),
    remote: (args: string[], token = admin) => cli.run(["--url", server.url, "--token", token, "execution", ...args]),
    operator,
  };
}

describe("overseer execution", () => {
  it("shows dry-run, turns it on and off with a reason, each change audited (local)", async () => {
    const s = await setup();
    expect((await s.local([])).stdout).toBe(
      "execution dry-run: approved actions are recorded, not run (the node's config; never switched)\n",
    );
    const on = await s.local(["enabled", "--reason", "release window", "--as", "ana"]);
    expect(on.code).toBe(0);
    expect(on.stdout).toMatch(/^execution enabled: approved actions run \(set by ana at .+Z: release window\)\n$/);
    const json = await s.local(["--json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({ mode: "enabled", source: "switch", changedBy: "ana", version: 1 });
    await s.local(["dry-run", "--as", "bo"]);
    const audit = (await s.overseer.readEvents()).filter((e) => e.kind === "execution.changed").map((e) => e.data);
    expect(audit).toEqual([
      { from: "dry-run", to: "enabled", by: "ana", reason: "release window" },
      { from: "enabled", to: "dry-run", by: "bo", reason: null },
    ]);
  });

  it("through a server: the token is who acts, and an operator may not turn it on (remote)", async () => {
    const s = await setup();
    const refused = await s.remote(["enabled"], s.operator);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^overseer: FORBIDDEN: turning execution on needs an admin token/);
    const on = await s.remote(["enabled", "--reason", "go"]);
    expect(on.stdout).toMatch(/set by cli-admin at .+: go\)\n$/);
    const off = await s.remote(["dry-run"], s.operator);
    expect(off.code).toBe(0);
    expect((await s.overseer.execution()).changedBy).toBe("cli-operator");
    const as = await s.remote(["dry-run", "--as", "ana"]);
    expect(as.code).toBe(2);
    expect(as.stderr).toMatch(/--as names the local user/);
  });

  it("bad input: an unknown mode, a reason without a mode", async () => {
    const s = await setup();
    const bad = await s.local(["on"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('overseer: INVALID_ARGUMENT: mode must be "dry-run" or "enabled"\n');
    const reasonOnly = await s.local(["--reason", "why"]);
    expect(reasonOnly.code).toBe(2);
    expect(reasonOnly.stderr).toMatch(/--reason goes with a mode/);
    expect((await s.overseer.execution()).version).toBe(0);
  });
});
