/**
 * `overseer oncall` through the built binary, on the database itself and through a server: who
 * is on call now and next, an override put in and cancelled (by `--as` locally, by the token
 * remotely), the history, and bad input refused before anything is written.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { createToken } from "../auth/tokens.js";
import { parseConfig } from "../config/config.js";
import { startHttpServer } from "../http/server.js";
import { cliSandbox } from "../test-support/cli.js";
import { tempDatabase } from "../test-support/temp-database.js";

const cli = cliSandbox("overseer-oncall-cli-");

/** A daily rotation that began at 00:00 UTC yesterday: whoever is on call, the other is next. */
function configFile() {
  const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
  return {
    alerts: {
      channels: { tg: { type: "telegram", chatId: "-100", botToken: "env:TG_TOKEN" } },
      people: { ana: { telegram: 1 }, bo: { telegram: 2 }, cy: { telegram: 3 } },
      rotations: { primary: { people: ["ana", "bo"], shift: "1d", start: `${yesterday}T00:00`, timezone: "UTC" } },
    },
  };
}

async function setup() {
  const db = tempDatabase("overseer-oncall-");
  const file = configFile();
  const configPath = join(db.dir, "overseer.config.json");
  writeFileSync(configPath, JSON.stringify(file));
  const overseer = await db.open({ alerts: parseConfig(file, "c.json").alerts });
  const operator = (await createToken(overseer.store, "cli-operator", "operator")).secret;
  const viewer = (await createToken(overseer.store, "cli-viewer", "viewer")).secret;
  const server = await startHttpServer({ overseer, port: 0 });
  onTestFinished(() => server.close());
  // Yesterday was ana's shift, today is bo's.
  return {
    overseer,
    local: (args: string[]) => cli.run(["--config", configPath, "--database", db.path, "oncall", ...args]),
    remote: (args: string[], token = operator) => cli.run(["--url", server.url, "--token", token, "oncall", ...args]),
    viewer,
  };
}

describe("overseer oncall", () => {
  it("shows who is on call and next; an override takes over and is cancelled, all in the history (local)", async () => {
    const s = await setup();
    const shown = await s.local([]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^ROTATION +ON CALL +UNTIL +NEXT +FROM\nprimary +bo +\S+T00:00:00\.000Z +ana +\S+\n$/);

    const made = await s.local(["override", "primary", "cy", "--for", "4h", "--reason", "bo is ill", "--as", "ana"]);
    expect(made.code).toBe(0);
    expect(made.stdout).toMatch(/^override 1: cy is on call in primary from \S+Z until \S+Z\n$/);
    const status = JSON.parse((await s.local(["--json"])).stdout);
    expect(status[0]).toMatchObject({ name: "primary", now: { person: "cy", override: { id: 1, createdBy: "ana" } } });
    // After the override: bo if it ends today, ana if it runs past midnight into her shift.
    const endsToday = status[0].now.override.endsAt.slice(0, 10) === new Date().toISOString().slice(0, 10);
    expect(status[0].next).toMatchObject({ person: endsToday ? "bo" : "ana", at: status[0].now.override.endsAt });

    const cancelled = await s.local(["cancel", "1", "--as", "bo"]);
    expect(cancelled.stdout).toBe("cancelled override 1: cy in primary\n");
    const again = await s.local(["cancel", "1", "--as", "bo"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^overseer: OVERRIDE_ENDED: on-call override 1 was cancelled already, by bo at /);
    expect(JSON.parse((await s.local(["--json"])).stdout)[0].now.person).toBe("bo");

    const history = await s.local(["history"]);
    expect(history.stdout).toMatch(/\n1 +primary +cy +\S+ +\S+ +ana +bo is ill +\S+Z by bo\n$/);
    const events = (await s.overseer.readEvents()).filter((e) => e.kind.startsWith("oncall.")).map((e) => e.kind);
    expect(events).toEqual(["oncall.override_created", "oncall.override_cancelled"]);
  });

  it("through a server: the token is who acts, and a viewer may look but not override (remote)", async () => {
    const s = await setup();
    const made = await s.remote([
      "override",
      "primary",
      "ana",
      "--until",
      new Date(Date.now() + 3_600_000).toISOString(),
    ]);
    expect(made.code).toBe(0);
    const [override] = await s.overseer.listOncallOverrides();
    expect(override).toMatchObject({ person: "ana", createdBy: "cli-operator" });
    const shown = await s.remote([], s.viewer);
    expect(shown.stdout).toMatch(/\nprimary +ana \(override 1\) /);
    expect(shown.stdout).toContain("overrides now and ahead:");
    const refused = await s.remote(["override", "primary", "bo", "--for", "1h"], s.viewer);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^overseer: FORBIDDEN: /);
    const history = JSON.parse((await s.remote(["history", "--json", "--rotation", "primary"], s.viewer)).stdout);
    expect(history).toEqual([expect.objectContaining({ id: 1, person: "ana" })]);
    const as = await s.remote(["cancel", "1", "--as", "ana"]);
    expect(as.code).toBe(2);
    expect(as.stderr).toMatch(/--as names the local user/);
  });

  it("refuses bad input with the field named, and writes nothing", async () => {
    const s = await setup();
    const cases: Array<[string[], RegExp]> = [
      [
        ["override", "nope", "ana", "--for", "1h"],
        /^overseer: ROTATION_NOT_FOUND: no rotation "nope" \(configured: primary\)/,
      ],
      [["override", "primary", "zed", "--for", "1h"], /^overseer: INVALID_ARGUMENT: person: "zed" is nobody/],
      [["override", "primary", "ana"], /give until \(a time\) or for \(a duration/],
      [["override", "primary", "ana", "--until", "tomorrow"], /until must be a time with its zone/],
      [["override", "primary", "ana", "--for", "1h", "--from", "2020-01-01T00:00Z"], /must end in the future/],
      [["cancel", "one"], /id must be an override's number/],
      [["cancel", "42"], /^overseer: OVERRIDE_NOT_FOUND: no on-call override with id 42/],
      [["history", "--limit", "0"], /--limit must be a whole number from 1 to 500/],
    ];
    for (const [args, expected] of cases) {
      const result = await s.local([...args, ...(args[0] === "history" ? [] : ["--as", "ana"])]);
      expect(result.code, args.join(" ")).not.toBe(0);
      expect(result.stderr, args.join(" ")).toMatch(expected);
    }
    expect(await s.overseer.listOncallOverrides()).toEqual([]);
  });
});
