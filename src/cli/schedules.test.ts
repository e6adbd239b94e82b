import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cliSandbox } from "../test-support/cli.js";

const cli = cliSandbox("overseer-schedules-");
const tempDir = cli.tempDir;
const start = (args: string[]) => cli.start(args);
const overseer = (args: string[]) => cli.run(args);

async function json<T>(args: string[]): Promise<T> {
  const r = await overseer([...args, "--json"]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as T;
}

const nightly = { cron: "0 2 * * *", task: "cleanup", payload: { days: 30 }, timezone: "Europe/Berlin", catchUp: 0 };

describe("overseer schedules", () => {
  it("lists, disables, enables and runs a schedule; the flag survives a re-sync of the config", async () => {
    const base = tempDir();
    const db = join(base, "o.db");
    const config = join(base, "overseer.config.json");
    writeFileSync(config, JSON.stringify({ schedules: { "nightly-cleanup": nightly } }));

    const listed = await json<Array<Record<string, unknown>>>([
      "--database",
      db,
      "--config",
      config,
      "schedules",
      "list",
    ]);
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ name: "nightly-cleanup", enabled: true, removed: false, lastTickAt: null });
    expect(listed[0]?.nextRunAt).toMatch(/T0[01]:00:00\.000Z$/);

    const table = await overseer(["--database", db, "schedules", "list"]);
    expect(table.stdout).toMatch(/^NAME\s+STATUS\s+CRON/);
    expect(table.stdout).toContain("nightly-cleanup  enabled  0 2 * * *");

    const disabled = await overseer(["--database", db, "schedules", "disable", "nightly-cleanup"]);
    expect(disabled).toMatchObject({ code: 0, stdout: "schedule nightly-cleanup disabled\n" });
    const again = await json<Array<{ enabled: boolean; nextRunAt: string | null }>>([
      "--database",
      db,
      "--config",
      config,
      "schedules",
      "list",
    ]);
    expect(again[0]).toMatchObject({ enabled: false, nextRunAt: null });

    const run = await json<{ id: string; task: string; state: string; payload: unknown }>([
      "--database",
      db,
      "schedules",
      "run",
      "nightly-cleanup",
    ]);
    expect(run).toMatchObject({ task: "cleanup", state: "queued", payload: { days: 30 } });

    const enabled = await overseer(["--database", db, "schedules", "enable", "nightly-cleanup"]);
    expect(enabled.code).toBe(0);
    expect(enabled.stdout).toMatch(/^schedule nightly-cleanup enabled; next run 20\d\d-/);

    const events = await json<Array<{ kind: string }>>(["--database", db, "events"]);
    expect(events.map((e) => e.kind).filter((k) => k.startsWith("schedule."))).toEqual([
      "schedule.added",
      "schedule.disabled",
      "schedule.triggered",
      "schedule.enabled",
    ]);
  });

  it("an unknown schedule exits 1 with SCHEDULE_NOT_FOUND; a malformed name exits 2", async () => {
    const db = join(tempDir(), "o.db");
    expect((await overseer(["--database", db, "migrate"])).code).toBe(0);
    const missing = await overseer(["--database", db, "schedules", "enable", "nope"]);
    expect(missing).toMatchObject({ code: 1, stdout: "" });
    expect(missing.stderr).toBe('overseer: SCHEDULE_NOT_FOUND: no schedule named "nope"\n');
    const bad = await overseer(["--database", db, "schedules", "run", "no spaces"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^overseer: INVALID_ARGUMENT: schedule must be 1-128 characters/);
  });

  const badConfigs: Array<[string, string, string, RegExp]> = [
    [
      "an unknown time zone",
      "overseer.config.json",
      JSON.stringify({ schedules: { "nightly-cleanup": { ...nightly, timezone: "Mars/Base" } } }),
      /^overseer: INVALID_CONFIG: \S*overseer\.config\.json: schedules\.nightly-cleanup\.timezone: unknown time zone "Mars\/Base"\n$/,
    ],
    [
      "a malformed cron",
      "c.json",
      JSON.stringify({ schedules: { n: { ...nightly, cron: "0 25 * * *" } } }),
      /^overseer: INVALID_CONFIG: \S*c\.json: schedules\.n\.cron: invalid cron pattern "0 25 \* \* \*": .*hour.*\n$/,
    ],
    [
      "an unknown field",
      "c.json",
      JSON.stringify({ schedules: { n: { ...nightly, timeZone: "UTC" } } }),
      /^overseer: INVALID_CONFIG: \S*c\.json: schedules\.n\.timeZone: unknown field\n$/,
    ],
    ["invalid JSON", "c.json", "{ schedules: ", /^overseer: INVALID_CONFIG: \S*c\.json: not valid JSON: .+\n$/],
    [
      "invalid YAML",
      "c.yaml",
      "schedules:\n  n: {cron: '* * * * *'\n",
      /^overseer: INVALID_CONFIG: \S*c\.yaml: not valid YAML: .+\n$/,
    ],
  ];

  it.each(badConfigs)(
    "a config with %s: one line naming file and field, exit 2, nothing written",
    async (_, name, text, line) => {
      const base = tempDir();
      const db = join(base, "o.db");
      writeFileSync(join(base, name), text);
      for (const args of [
        ["schedules", "list"],
        ["start", "--demo", "--no-summary"],
      ]) {
        const r = await overseer(["--database", db, "--config", join(base, name), ...args]);
        expect(r.stderr).toMatch(line);
        expect(r.code).toBe(2);
        expect(existsSync(db)).toBe(false);
      }
    },
  );

  it("a missing config file: one line naming it, exit 2, nothing written", async () => {
    const base = tempDir();
    const db = join(base, "o.db");
    const r = await overseer(["--database", db, "--config", join(base, "nope.yml"), "schedules", "list"]);
    expect(r).toMatchObject({ code: 2, stdout: "" });
    expect(r.stderr).toBe(`overseer: INVALID_CONFIG: ${join(base, "nope.yml")}: file not found\n`);
    expect(existsSync(db)).toBe(false);
  });
});

describe("two scheduler processes on one database", () => {
  it("enqueue exactly one job per tick of an every-second schedule: none missing, none twice", async () => {
    const base = tempDir();
    const db = join(base, "o.db");
    mkdirSync(join(base, "tasks"));
    writeFileSync(join(base, "tasks", "tick.mjs"), "export default async () => null;\n");
    const config = join(base, "overseer.config.yaml");
    writeFileSync(config, "schedules:\n  every-second:\n    cron: '* * * * * *'\n    task: tick\n    catchUp: 5\n");
    // The database exists before either process starts, so both race only for ticks.
    expect((await overseer(["--database", db, "migrate"])).code).toBe(0);

    const args = [
      "--database",
      db,
      "--config",
      config,
      "--log-level",
      "silent",
      "worker",
      "--tasks",
      join(base, "tasks"),
    ];
    const nodes = [start(args), start(args)];
    const outputs = nodes.map((n) => {
      const out = { text: "" };
      n.stdout?.on("data", (d) => (out.text += d));
      return out;
    });
    await new Promise((r) => setTimeout(r, 7_000));
    const exits = nodes.map((n) => new Promise<number | null>((r) => n.on("close", r)));
    for (const n of nodes) n.kill("SIGTERM");
    expect(await Promise.all(exits)).toEqual([0, 0]);
    for (const o of outputs) expect(o.text).toContain("schedules every-second");

    const jobs = await json<Array<{ task: string; runAt: string }>>([
      "--database",
      db,
      "jobs",
      "list",
      "--limit",
      "1000",
    ]);
    const ticks = jobs.map((j) => Date.parse(j.runAt)).sort((a, b) => a - b);
    expect(jobs.every((j) => j.task === "tick")).toBe(true);
    expect(new Set(ticks).size, "a tick was enqueued twice").toBe(ticks.length);
    expect(ticks.every((t) => t % 1_000 === 0)).toBe(true);
    const first = ticks[0] as number;
    const last = ticks.at(-1) as number;
    expect(ticks, "a tick is missing").toEqual(
      Array.from({ length: (last - first) / 1_000 + 1 }, (_, i) => first + i * 1_000),
    );
    // About 7 s of ticks; the first and last partial seconds (and start-up) may be cut.
    expect(ticks.length).toBeGreaterThanOrEqual(5);

    const schedules = await json<Array<{ lastTickAt: string }>>(["--database", db, "schedules", "list"]);
    expect(Date.parse(schedules[0]?.lastTickAt ?? "")).toBe(last);
  }, 30_000);
});
