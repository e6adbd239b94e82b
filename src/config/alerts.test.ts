import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseConfig } from "./config.js";

const channels = {
  "ops-hook": { type: "webhook", url: "https://hooks.example.com/x", secret: "env:HOOK_SECRET" },
  "ops-tg": { type: "telegram", chatId: "-100123", botToken: "env:TG_TOKEN", approvers: [12345] },
};
const policies = {
  default: {
    steps: [
      { delay: "0m", notify: ["ops-tg"] },
      { delay: "5m", notify: ["ops-hook"] },
    ],
    repeat: 2,
  },
};

function parse(alerts: unknown) {
  return parseConfig({ alerts }, "c.json");
}

function problem(alerts: unknown): string {
  try {
    parse(alerts);
  } catch (err) {
    expect(err).toMatchObject({ code: "INVALID_CONFIG" });
    return (err as Error).message;
  }
  throw new Error("expected INVALID_CONFIG");
}

describe("config: alerts", () => {
  it("is empty when the file has no alerts section", () => {
    expect(parseConfig({}, "c.json").alerts).toEqual({
      dashboardUrl: "http://127.0.0.1:7070",
      channels: [],
      policies: {},
      people: {},
      rotations: {},
      timeWindows: {},
      heartbeats: [],
      rules: [],
    });
  });

  it("parses the issue's example: channels, policies, heartbeats and rules with policies resolved", () => {
    const { alerts } = parse({
      channels,
      policies,
      heartbeats: { "nightly-backup": { interval: "26h", policy: "default" }, quiet: { interval: "1m" } },
      rules: [
        { when: "job.dead", queue: "payments", policy: "default" },
        { when: "worker.lost", policy: "default" },
        { when: "queue.depth", queue: "calls", above: 100, policy: "default" },
        { when: "queue.age", queue: "calls", above: "10m", policy: "default" },
        { when: "schedule.missed", policy: "default" },
        { when: "approval.pending", policy: "default" },
      ],
    });
    expect(alerts.channels.map((c) => c.name)).toEqual(["ops-hook", "ops-tg"]);
    expect(alerts.policies.default).toMatchObject({ name: "default", repeat: 2, repeatDelayMs: 300_000 });
    expect(alerts.heartbeats).toEqual([
      { name: "nightly-backup", intervalMs: 26 * 3_600_000, policy: alerts.policies.default },
      { name: "quiet", intervalMs: 60_000, policy: null },
    ]);
    expect(alerts.rules).toHaveLength(6);
    expect(alerts.rules[0]).toMatchObject({ when: "job.dead", queue: "payments", policy: { name: "default" } });
    expect(alerts.rules[3]).toMatchObject({ when: "queue.age", above: 600_000 });
  });

  it("names the field of every problem", () => {
    expect(problem({ channels, policies: { p: { steps: [{ delay: "0s", notify: ["nope"] }] } } })).toMatch(
      /^c\.json: alerts\.policies\.p\.steps\.0\.notify\.0: "nope" names no channel \(configured channels: ops-hook, ops-tg\)/,
    );
    expect(problem({ channels, policies, rules: [{ when: "worker.lost", policy: "pager" }] })).toBe(
      'c.json: alerts.rules.0.policy: names no policy "pager" (configured policies: default)',
    );
    expect(problem({ heartbeats: { backup: { interval: "1h", policy: "default" } } })).toBe(
      'c.json: alerts.heartbeats.backup.policy: names no policy "default" (no policies are configured)',
    );
    expect(problem({ policies, rules: [{ when: "job.died", policy: "default" }] })).toMatch(
      /^c\.json: alerts\.rules\.0\.when: must be one of job\.dead, worker\.lost, queue\.depth, queue\.age, schedule\.missed, approval\.pending/,
    );
    expect(problem({ policies, rules: [{ when: "queue.depth", above: 5, policy: "default" }] })).toMatch(
      /^c\.json: alerts\.rules\.0\.queue: is required/,
    );
    expect(problem({ policies, rules: [{ when: "queue.age", queue: "q", above: "soon", policy: "default" }] })).toMatch(
      /^c\.json: alerts\.rules\.0\.above: must be a duration/,
    );
    expect(problem({ policies, rules: [{ when: "worker.lost", policy: "default", queue: "q" }] })).toMatch(
      /^c\.json: alerts\.rules\.0\.queue: unknown field/,
    );
    expect(problem({ heartbeats: { backup: { interval: "10ms" } } })).toBe(
      "c.json: alerts.heartbeats.backup.interval: must be from 1s to 366 days",
    );
    expect(problem({ channels: { h: { type: "webhook", url: "https://x.example", secret: "s3cret" } } })).toMatch(
      /^c\.json: alerts\.channels\.h\.secret: must be a reference to an environment variable/,
    );
    expect(problem({ pager: {} })).toBe("c.json: alerts.pager: unknown field");
    expect(problem({ channels, people: { ana: { email: "ana@example.test" } } })).toBe(
      'c.json: alerts.people.ana.email: needs a channel of type "email" in alerts.channels to send through',
    );
    expect(problem({ channels, policies: { p: { steps: [{ delay: "0s", notify: ["person:ana"] }] } } })).toBe(
      'c.json: alerts.policies.p.steps.0.notify.0: "person:ana" names no person (no people are configured)',
    );
  });

  it("takes the dashboard's public URL for links, with a path prefix and without a trailing slash", () => {
    expect(parse({}).alerts.dashboardUrl).toBe("http://127.0.0.1:7070");
    expect(parse({ dashboardUrl: "https://ops.example.com/overseer/" }).alerts.dashboardUrl).toBe(
      "https://ops.example.com/overseer",
    );
    expect(problem({ dashboardUrl: "ops.example.com" })).toBe(
      'c.json: alerts.dashboardUrl: must be a URL (http or https), got "ops.example.com"',
    );
    expect(problem({ dashboardUrl: "ftp://ops.example.com" })).toBe(
      "c.json: alerts.dashboardUrl: must start with http:// or https://",
    );
    expect(problem({ dashboardUrl: "https://ops.example.com/?tab=alerts" })).toBe(
      "c.json: alerts.dashboardUrl: must be a base URL without a query string or fragment",
    );
    expect(problem({ dashboardUrl: "https://u:p@ops.example.com" })).toContain(
      "c.json: alerts.dashboardUrl: must not carry a user or password",
    );
  });

  it("pages a person through each of their contacts", () => {
    const { alerts } = parse({
      channels,
      people: { ana: { telegram: 12345 } },
      policies: { p: { steps: [{ delay: "0s", notify: ["ops-hook", "person:ana"] }] } },
    });
    expect(alerts.people).toEqual({ ana: { telegram: 12345 } });
    expect(alerts.policies.p?.steps[0]?.notify).toEqual(["ops-hook", "person:ana:telegram"]);
  });

  it("texts a person's phone for person:<name> and calls it only when a step names person:<name>:voice", () => {
    const texts = { type: "sms", provider: { accountSid: "AC1", authToken: "env:TWILIO_TOKEN" }, from: "+14155550100" };
    const calls = { ...texts, type: "voice" };
    const { alerts } = parse({
      channels: { ...channels, texts, calls },
      people: { ana: { telegram: 12345, phone: "+4915112345678" } },
      policies: {
        p: {
          steps: [
            { delay: "0s", notify: ["person:ana"] },
            { delay: "5m", notify: ["person:ana:voice"] },
          ],
        },
      },
    });
    expect(alerts.policies.p?.steps.map((s) => s.notify)).toEqual([
      ["person:ana:telegram", "person:ana:sms"],
      ["person:ana:voice"],
    ]);
    expect(alerts.channels.map((c) => [c.name, c.type])).toContainEqual(["calls", "voice"]);
  });

  it("refuses phone targets nothing can reach, naming the field", () => {
    const texts = { type: "sms", provider: { accountSid: "AC1", authToken: "env:TWILIO_TOKEN" }, from: "+14155550100" };
    const people = { ana: { phone: "+4915112345678" } };
    const step = (notify: string) => ({ p: { steps: [{ delay: "0s", notify: [notify] }] } });
    expect(problem({ channels: { ...channels, texts }, people, policies: step("person:ana:voice") })).toBe(
      'c.json: alerts.policies.p.steps.0.notify.0: "person:ana:voice": no channel of type "voice" is configured in alerts.channels',
    );
    expect(problem({ channels: { ...channels, texts }, people, policies: step("texts") })).toBe(
      'c.json: alerts.policies.p.steps.0.notify.0: "texts" is an sms channel without "to", which reaches only people: name them as person:<name>:sms',
    );
    expect(problem({ channels, people })).toBe(
      'c.json: alerts.people.ana.phone: needs a channel of type "sms" or "voice" in alerts.channels to send through',
    );
    expect(problem({ channels: { ...channels, texts }, people: { ana: { phone: "+49 151 1234 5678" } } })).toBe(
      'c.json: alerts.people.ana.phone: must be a phone number in E.164 form, "+" then 8 to 15 digits without spaces or dashes (such as "+14155550100"), got "+49 151 1234 5678"',
    );
  });

  it("parses the people example in docs/alerts.md as documented", () => {
    const doc = readFileSync(new URL("../../docs/alerts.md", import.meta.url), "utf8");
    const block = /### People[\s\S]*?```json\n([\s\S]*?)```/.exec(doc)?.[1];
    if (block === undefined) throw new Error("no JSON example under ### People in docs/alerts.md");
    const { alerts } = parseConfig(JSON.parse(block), "docs/alerts.md");
    expect(alerts.policies.default?.steps.map((s) => s.notify)).toEqual([
      ["person:ana:telegram", "person:ana:email"],
      ["person:bo:email", "person:bo:sms", "ops-tg"],
      ["person:bo:voice"],
    ]);
  });

  it("parses the dashboardUrl example in docs/alerts.md as documented", () => {
    const doc = readFileSync(new URL("../../docs/alerts.md", import.meta.url), "utf8");
    const block = /### Links to the dashboard[\s\S]*?```json\n([\s\S]*?)```/.exec(doc)?.[1];
    if (block === undefined) throw new Error("no JSON example under ### Links to the dashboard in docs/alerts.md");
    expect(parseConfig(JSON.parse(block), "docs/alerts.md").alerts.dashboardUrl).toBe("https://overseer.example.com");
  });
});
