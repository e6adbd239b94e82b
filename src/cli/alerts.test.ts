/**
 * `overseer alerts list|show|ack|escalate|close` and `overseer heartbeat NAME` through the built
 * binary, on the database itself (acting as `--as NAME`) and through a server (acting as the
 * token): the same output and exit codes either way; a closed alert is exit 1 with
 * `ALERT_INVALID_TRANSITION`, an unknown heartbeat exit 1 with `HEARTBEAT_NOT_FOUND`.
 */
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { createToken } from "../auth/tokens.js";
import type { EscalationPolicy } from "../core/alert.js";
import { newId } from "../core/ids.js";
import { startHttpServer } from "../http/server.js";
import { cliSandbox } from "../test-support/cli.js";
import { tempDatabase } from "../test-support/temp-database.js";

const cli = cliSandbox("overseer-alerts-cli-");

const POLICY: EscalationPolicy = {
  name: "default",
  steps: [
    { delayMs: 0, notify: ["ops-tg"] },
    { delayMs: 300_000, notify: ["ops-hook"] },
  ],
  repeat: 0,
  repeatDelayMs: 0,
  ackTimeoutMs: null,
};

async function setup() {
  const db = tempDatabase("overseer-alerts-");
  const overseer = await db.open();
  const operator = (await createToken(overseer.store, "cli-operator", "operator")).secret;
  const viewer = (await createToken(overseer.store, "cli-viewer", "viewer")).secret;
  const server = await startHttpServer({ overseer, port: 0 });
  onTestFinished(() => server.close());
  const global = (mode: "local" | "remote", token = operator) =>
    mode === "local" ? ["--database", db.path] : ["--url", server.url, "--token", token];
  return {
    overseer,
    local: (args: string[]) => cli.run([...global("local"), "alerts", ...args]),
    remote: (args: string[], token = operator) => cli.run([...global("remote", token), "alerts", ...args]),
    heartbeat: (mode: "local" | "remote", args: string[]) => cli.run([...global(mode), "heartbeat", ...args]),
    viewer,
  };
}

async function jobDead(s: Awaited<ReturnType<typeof setup>>) {
  return (
    await s.overseer.store.raiseAlert({
      id: newId(),
      source: "job.dead",
      summary: "payments: job died",
      details: { queue: "payments" },
      dedupKey: "job.dead:payments",
      policy: POLICY,
    })
  ).alert;
}

describe("overseer alerts", () => {
  for (const mode of ["local", "remote"] as const) {
    it(`lists, shows, acknowledges, escalates and closes; a closed alert exits 1 (${mode})`, async () => {
      const s = await setup();
      const run = s[mode];
      const as = mode === "local" ? ["--as", "alice"] : [];
      const who = mode === "local" ? "alice" : "cli-operator";
      const dead = await jobDead(s);
      const manual = (await s.overseer.raiseAlert({ summary: "look at the disk" })).alert;

      const list = await run(["list"]);
      expect(list.stderr).toBe("");
      expect(list.code).toBe(0);
      expect(list.stdout).toMatch(/^ID\s+STATUS\s+SOURCE\s+COUNT\s+RAISED\s+POLICY\s+SUMMARY\n/);
      expect(list.stdout).toContain(`${dead.id}  triggered`);
      expect((await run(["list", "--source", "manual", "--json"])).stdout).toContain(manual.id);
      expect((await run(["list", "--status", "closed"])).stdout).toBe("no alerts match\n");

      const show = await run(["show", dead.id]);
      expect(show.code).toBe(0);
      expect(show.stdout).toContain(`alert ${dead.id}: triggered (job.dead): payments: job died`);
      expect(show.stdout).toContain("policy     default");
      expect(show.stdout).toMatch(/step 1 round 1 {2}ops-tg {2}planned/);

      const acked = await run(["ack", dead.id, ...as]);
      expect(acked.stderr).toBe("");
      expect(acked.stdout).toBe(`acknowledged ${dead.id} (payments: job died): escalation stopped\n`);
      const escalated = await run(["escalate", dead.id, ...as]);
      expect(escalated.stdout).toBe(`escalated ${dead.id}: notifying ops-hook\n`);
      const closed = await run(["close", dead.id, "--reason", "consumer fixed", "--json", ...as]);
      expect(JSON.parse(closed.stdout)).toMatchObject({
        alert: { id: dead.id, status: "closed", closedBy: who, closeReason: "consumer fixed" },
      });

      const late = await run(["close", dead.id, ...as]);
      expect(late.code).toBe(1);
      expect(late.stderr).toMatch(/^overseer: ALERT_INVALID_TRANSITION: cannot close alert/);
      const missing = await run(["show", "01NOPE"]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/^overseer: ALERT_NOT_FOUND: /);
    });

    it(`pings a heartbeat, closing its alert when it was late; an unknown name exits 1 (${mode})`, async () => {
      const s = await setup();
      await s.overseer.syncHeartbeats([{ name: "nightly-backup", intervalMs: 1_000, policy: null }]);
      await new Promise((resolve) => setTimeout(resolve, 1_050));
      const [late] = await s.overseer.store.checkHeartbeats();
      const ping = await s.heartbeat(mode, ["nightly-backup"]);
      expect(ping.stderr).toBe("");
      expect(ping.code).toBe(0);
      expect(ping.stdout).toMatch(/^pinged nightly-backup: ok, next ping due by \S+Z\n/);
      expect(ping.stdout).toContain(`closed alert ${late?.raised.alert.id} (it was late)`);
      const json = await s.heartbeat(mode, ["nightly-backup", "--json"]);
      expect(JSON.parse(json.stdout)).toMatchObject({ heartbeat: { state: "ok" }, closedAlert: null });
      const unknown = await s.heartbeat(mode, ["nope"]);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toMatch(/^overseer: HEARTBEAT_NOT_FOUND: no heartbeat named "nope"/);
    });
  }

  it("refuses what it must: --as with --url, a viewer token, bad filters", async () => {
    const s = await setup();
    const dead = await jobDead(s);
    const as = await s.remote(["ack", dead.id, "--as", "bob"]);
    expect(as.code).toBe(2);
    expect(as.stderr).toMatch(/^overseer: INVALID_ARGUMENT: --as names the local user/);
    const viewer = await s.remote(["ack", dead.id], s.viewer);
    expect(viewer.code).toBe(2);
    expect(viewer.stderr).toMatch(/^overseer: FORBIDDEN: /);
    const badStatus = await s.local(["list", "--status", "resolved"]);
    expect(badStatus.code).toBe(2);
    expect(badStatus.stderr).toMatch(/^overseer: INVALID_STATE_FILTER: --status: unknown alert status "resolved"/);
    const badSource = await s.local(["list", "--source", "nope"]);
    expect(badSource.code).toBe(2);
    expect((await s.overseer.getAlert(dead.id))?.status).toBe("triggered");
  });
});

describe("overseer start with alert channels", () => {
  it("stops before opening anything when a channel's secret is missing from the environment", async () => {
    const dir = cli.tempDir();
    const config = join(dir, "overseer.config.json");
    const db = join(dir, "o.db");
    const hook = { type: "webhook", url: "http://127.0.0.1:9/hook", secret: "env:OVERSEER_TEST_NO_SUCH_SECRET" };
    writeFileSync(config, JSON.stringify({ alerts: { channels: { hook } } }));
    const r = await cli.run(["--database", db, "--config", config, "start", "--demo", "--no-summary", "--port", "0"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `overseer: INVALID_CONFIG: ${config}: alerts.channels.hook.secret: environment variable OVERSEER_TEST_NO_SUCH_SECRET is not set (referenced as env:OVERSEER_TEST_NO_SUCH_SECRET)\n`,
    );
    expect(existsSync(db)).toBe(false);
  });
});
