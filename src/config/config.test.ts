import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { OverseerError } from "../core/errors.js";
import { loadConfig, parseConfig, parseSchedules } from "./config.js";

let dir = "";
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = "";
});

function file(name: string, text: string): string {
  dir ||= mkdtempSync(join(tmpdir(), "overseer-config-"));
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(OverseerError);
    expect((err as OverseerError).code).toBe("INVALID_CONFIG");
    return (err as OverseerError).message;
  }
  throw new Error("expected INVALID_CONFIG");
}

const nightly = { cron: "0 2 * * *", task: "cleanup", payload: { days: 30 }, timezone: "Europe/Berlin", catchUp: 0 };

describe("loadConfig", () => {
  it("reads JSON with defaults filled in", () => {
    const path = file(
      "overseer.config.json",
      JSON.stringify({ schedules: { "nightly-cleanup": nightly, tick: { cron: "* * * * * *", task: "t" } } }),
    );
    expect(loadConfig(path)).toMatchObject({
      schedules: [
        {
          name: "nightly-cleanup",
          cron: "0 2 * * *",
          timezone: "Europe/Berlin",
          task: "cleanup",
          payloadJson: '{"days":30}',
          queue: null,
          priority: null,
          catchUp: 0,
          enabled: true,
        },
        {
          name: "tick",
          cron: "* * * * * *",
          timezone: "UTC",
          task: "t",
          payloadJson: "{}",
          queue: null,
          priority: null,
          catchUp: 0,
          enabled: true,
        },
      ],
    });
  });

  it("reads a schedule's attempts and retry schedule for the jobs it fires", () => {
    const path = file(
      "overseer.config.json",
      JSON.stringify({ schedules: { call: { ...nightly, maxAttempts: 4, backoff: ["1m", "5m", "15m"] } } }),
    );
    expect(loadConfig(path).schedules[0]).toMatchObject({ maxAttempts: 4, backoffJson: '["1m","5m","15m"]' });
    const plain = file("plain.config.json", JSON.stringify({ schedules: { n: nightly } }));
    expect(loadConfig(plain).schedules[0]).toMatchObject({ maxAttempts: null, backoffJson: null });
  });

  it("reads circuit breakers by queue, for the workers the CLI starts", () => {
    const breakers = { calls: { failureRate: 0.5, minAttempts: 5, cooldown: "30s", divertTo: "sms-fallback" } };
    expect(loadConfig(file("c.json", JSON.stringify({ breakers }))).breakers).toEqual(breakers);
    expect(loadConfig(file("d.json", "{}")).breakers).toEqual({});
  });

  it("reads the execution mode (dry-run unless it says enabled) and the built-in command task's settings", () => {
    const none = loadConfig(file("e.json", "{}"));
    expect(none).toMatchObject({ execution: "dry-run", commands: null });
    const dir = mkdtempSync(join(tmpdir(), "overseer-config-"));
    try {
      const path = join(dir, "overseer.config.json");
      mkdirSync(join(dir, "work"));
      writeFileSync(
        path,
        JSON.stringify({
          execution: "enabled",
          approvals: { groups: { ops: ["ana"] } },
          commands: { approvers: ["group:ops", "telegram:42"], approvalTimeout: "1h", cwd: "work" },
        }),
      );
      expect(loadConfig(path)).toMatchObject({
        execution: "enabled",
        commands: {
          approvers: ["group:ops", "telegram:42"],
          risk: "high",
          approvalTimeoutMs: 3_600_000,
          timeoutMs: 600_000,
          cwd: join(dir, "work"),
        },
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads YAML (.yaml and .yml) the same way, with queue, priority names and enabled", () => {
    const yaml = `schedules:\n  report:\n    cron: "0 9 * * 1-5"\n    task: report\n    queue: reports\n    priority: high\n    enabled: false\n    catchUp: 2\n`;
    for (const name of ["c.yaml", "c.yml"]) {
      const [s] = loadConfig(file(name, yaml)).schedules;
      expect(s).toMatchObject({ name: "report", queue: "reports", priority: -10, enabled: false, catchUp: 2 });
    }
  });

  it("takes an empty YAML file or an empty object as no schedules", () => {
    expect(loadConfig(file("empty.yaml", ""))).toMatchObject({ schedules: [], runs: { profiles: {} } });
    expect(loadConfig(file("empty.json", "{}"))).toMatchObject({ schedules: [], runs: { profiles: {} } });
  });

  const bad: Array<[string, string, string, string]> = [
    [
      "unknown time zone",
      "c.json",
      JSON.stringify({ schedules: { "nightly-cleanup": { ...nightly, timezone: "Mars/Base" } } }),
      'c.json: schedules.nightly-cleanup.timezone: unknown time zone "Mars/Base"',
    ],
    [
      "malformed cron",
      "c.json",
      JSON.stringify({ schedules: { n: { ...nightly, cron: "61 * * * *" } } }),
      'c.json: schedules.n.cron: invalid cron pattern "61 * * * *": Invalid value for minute: 61',
    ],
    [
      "cron with too few fields",
      "c.json",
      JSON.stringify({ schedules: { n: { ...nightly, cron: "* * *" } } }),
      'c.json: schedules.n.cron: invalid cron pattern "* * *"',
    ],
    [
      "cron that never fires",
      "c.json",
      JSON.stringify({ schedules: { n: { ...nightly, cron: "0 0 31 2 *" } } }),
      'c.json: schedules.n.cron: cron pattern "0 0 31 2 *" never fires',
    ],
    [
      "unknown top-level field",
      "c.json",
      JSON.stringify({ schedule: {} }),
      "c.json: schedule: unknown field; the config file has only schedules, runs, gates, approvals and alerts",
    ],
    [
      "unknown schedule field",
      "c.json",
      JSON.stringify({ schedules: { n: { ...nightly, catchup: 1 } } }),
      "c.json: schedules.n.catchup: unknown field",
    ],
    [
      "missing task",
      "c.json",
      JSON.stringify({ schedules: { n: { cron: "* * * * *" } } }),
      "c.json: schedules.n.task: is required (string)",
    ],
    [
      "wrong type",
      "c.json",
      JSON.stringify({ schedules: { n: { ...nightly, catchUp: "3" } } }),
      'c.json: schedules.n.catchUp: must be a number; got "3"',
    ],
    [
      "a bad step in a retry schedule",
      "c.json",
      JSON.stringify({ schedules: { n: { ...nightly, backoff: ["1m", "later"] } } }),
      'c.json: schedules.n.backoff.1: must be a duration such as 500ms, 30s, 5m, 2h or 7d, got "later"',
    ],
    [
      "a backoff of no known type",
      "c.json",
      JSON.stringify({ schedules: { n: { ...nightly, backoff: { type: "linear" } } } }),
      'c.json: schedules.n.backoff.type: must be exponential, fixed or schedule; got "linear"',
    ],
    [
      "an execution mode that does not exist",
      "c.json",
      JSON.stringify({ execution: "on" }),
      'c.json: execution: must be "dry-run" or "enabled"',
    ],
    [
      "a command approver group the file does not define",
      "c.json",
      JSON.stringify({ commands: { approvers: ["group:ops"] } }),
      "c.json: commands.approvers.0: names group:ops, a group approvals.groups does not define (it defines none)",
    ],
    [
      "a command setting that does not exist",
      "c.json",
      JSON.stringify({ commands: { approvers: ["ana"], shell: "bash" } }),
      "c.json: commands.shell: unknown field",
    ],
    [
      "commands nobody may approve",
      "c.json",
      JSON.stringify({ commands: {} }),
      "c.json: commands.approvers: must list who may approve commands: agents hold operator tokens, and must not approve each other's",
    ],
    [
      "a command folder that does not exist",
      "c.json",
      JSON.stringify({ commands: { approvers: ["ana"], cwd: "no-such-folder" } }),
      "c.json: commands.cwd: no folder at ",
    ],
    [
      "a command timeout out of range",
      "c.json",
      JSON.stringify({ commands: { approvers: ["ana"], timeout: "500ms" } }),
      "c.json: commands.timeout: must be from 1s to 24h",
    ],
    [
      "a breaker's rate out of range",
      "c.json",
      JSON.stringify({ breakers: { calls: { failureRate: 2 } } }),
      "c.json: breakers.calls.failureRate: must be a number above 0 and at most 1; got 2",
    ],
    [
      "a breaker option that does not exist",
      "c.json",
      JSON.stringify({ breakers: { calls: { threshold: 0.5 } } }),
      "c.json: breakers.calls.threshold: is not a breaker option",
    ],
    [
      "a breaker for a malformed queue name",
      "c.json",
      JSON.stringify({ breakers: { "bad queue": {} } }),
      "c.json: breakers.bad queue: queue names must be 1-128 characters of letters, digits, '.', '_', ':' or '-', starting with a letter or digit",
    ],
    [
      "too many attempts",
      "c.json",
      JSON.stringify({ schedules: { n: { ...nightly, maxAttempts: 1001 } } }),
      "c.json: schedules.n.maxAttempts: must be from 1 to 1000",
    ],
    [
      "negative catchUp",
      "c.json",
      JSON.stringify({ schedules: { n: { ...nightly, catchUp: -1 } } }),
      "c.json: schedules.n.catchUp: must be from 0 to 1000",
    ],
    [
      "bad task name",
      "c.json",
      JSON.stringify({ schedules: { n: { ...nightly, task: "no spaces" } } }),
      "c.json: schedules.n.task: must be 1-128 characters",
    ],
    [
      "bad priority",
      "c.json",
      JSON.stringify({ schedules: { n: { ...nightly, priority: "urgent" } } }),
      "c.json: schedules.n.priority: must be an integer",
    ],
    [
      "bad schedule name",
      "c.json",
      JSON.stringify({ schedules: { "a b": nightly } }),
      "c.json: schedules.a b: schedule names must be",
    ],
    [
      "schedules not an object",
      "c.json",
      JSON.stringify({ schedules: [] }),
      "c.json: schedules: must be an object; got an array",
    ],
    ["invalid JSON", "c.json", '{"schedules": {', "c.json: not valid JSON:"],
    ["invalid YAML", "c.yaml", "schedules:\n  n: [unclosed\n", "c.yaml: not valid YAML:"],
    [
      "YAML with an unknown field",
      "c.yml",
      "schedules:\n  n:\n    cron: '* * * * *'\n    task: t\n    tz: UTC\n",
      "c.yml: schedules.n.tz: unknown field",
    ],
    ["unsupported extension", "c.toml", "", 'c.toml: config files must end in .json, .yaml or .yml; got ".toml"'],
  ];

  it.each(bad)("%s: one line naming the file and field", (_, name, text, expected) => {
    const path = file(name, text);
    const message = messageOf(() => loadConfig(path));
    expect(message.startsWith(path)).toBe(true);
    expect(message).toContain(expected);
    expect(message).not.toContain("\n");
  });

  it("a missing file: one line naming it", () => {
    expect(messageOf(() => loadConfig("/nonexistent/overseer.config.json"))).toBe(
      "/nonexistent/overseer.config.json: file not found",
    );
  });
});

describe("parseConfig and parseSchedules", () => {
  it("name the given source", () => {
    expect(messageOf(() => parseConfig({ extra: 1 }, "inline"))).toBe(
      "inline: extra: unknown field; the config file has only schedules, runs, gates, approvals and alerts",
    );
    expect(messageOf(() => parseSchedules({ n: { cron: "bogus", task: "t" } }))).toMatch(
      /^scheduler\(\{ schedules \}\): schedules\.n\.cron: invalid cron pattern "bogus"/,
    );
  });

  it("counts the problems it does not show", () => {
    expect(messageOf(() => parseSchedules({ n: { cron: 1, task: 2 } }))).toContain("(and 1 more problem)");
  });
});
