import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { conditionHolds } from "../core/time-window.js";
import { parseConfig } from "./config.js";

const channels = {
  "ops-hook": { type: "webhook", url: "https://hooks.example.com/x", secret: "env:HOOK_SECRET" },
  "ops-tg": { type: "telegram", chatId: "-100123", botToken: "env:TG_TOKEN" },
};
const people = { ana: { telegram: 11 }, bo: { telegram: 22 }, cy: { telegram: 33 } };
const timeWindows = {
  "business-hours": { timezone: "Europe/Berlin", days: "mon-fri", from: "09:00", to: "17:00" },
};
const rotations = {
  primary: { people: ["ana", "bo"], shift: "1w", start: "2026-12-07T09:00", timezone: "Europe/Berlin" },
};

function parse(alerts: Record<string, unknown>) {
  return parseConfig({ alerts: { channels, people, timeWindows, rotations, ...alerts } }, "c.json").alerts;
}

function problem(alerts: Record<string, unknown>): string {
  try {
    parse(alerts);
  } catch (err) {
    expect(err).toMatchObject({ code: "INVALID_CONFIG" });
    return (err as Error).message;
  }
  throw new Error("expected INVALID_CONFIG");
}

describe("config: time windows", () => {
  it("reads one range inline or several under ranges", () => {
    const alerts = parse({
      timeWindows: {
        "business-hours": { timezone: "Europe/Berlin", days: ["mon-fri"], from: "09:00", to: "17:00" },
        nights: { timezone: "UTC", from: "22:00", to: "06:00" },
        weekend: {
          timezone: "America/New_York",
          ranges: [
            { days: "sat,sun", from: "00:00", to: "24:00" },
            { days: "fri", from: "18:00", to: "24:00" },
          ],
        },
      },
    });
    expect(alerts.timeWindows).toEqual({
      "business-hours": {
        name: "business-hours",
        timezone: "Europe/Berlin",
        ranges: [{ days: ["mon", "tue", "wed", "thu", "fri"], from: 540, to: 1020 }],
      },
      nights: {
        name: "nights",
        timezone: "UTC",
        ranges: [{ days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], from: 1320, to: 360 }],
      },
      weekend: {
        name: "weekend",
        timezone: "America/New_York",
        ranges: [
          { days: ["sat", "sun"], from: 0, to: 1440 },
          { days: ["fri"], from: 1080, to: 1440 },
        ],
      },
    });
  });

  it.each([
    [
      { w: { timezone: "Mars/Olympus", from: "09:00", to: "17:00" } },
      "alerts.timeWindows.w.timezone: must be an IANA time zone",
    ],
    [
      { w: { timezone: "UTC", from: "9:00", to: "17:00" } },
      "alerts.timeWindows.w.from: must be a time of day as HH:MM",
    ],
    [{ w: { timezone: "UTC", from: "09:00", to: "09:00" } }, "must differ from `from`"],
    [{ w: { timezone: "UTC", from: "09:00" } }, "a window needs both from and to"],
    [
      { w: { timezone: "UTC", days: "weekdays", from: "09:00", to: "17:00" } },
      "alerts.timeWindows.w.days: must be days such as mon-fri",
    ],
    [{ w: { timezone: "UTC" } }, "give either from and to (and days), or ranges"],
    [
      { w: { timezone: "UTC", from: "09:00", to: "17:00", ranges: [{ from: "01:00", to: "02:00" }] } },
      "give either from and to (and days), or ranges",
    ],
    [{ w: { timezone: "UTC", ranges: [] } }, "alerts.timeWindows.w.ranges: must list at least one range"],
    [{ "a b": { timezone: "UTC", from: "09:00", to: "17:00" } }, "time window names are"],
    [{ w: { timezone: "UTC", from: "09:00", to: "17:00", hours: 3 } }, "alerts.timeWindows.w.hours: unknown"],
  ])("refuses %j, naming the field", (windows, expected) => {
    expect(problem({ timeWindows: windows })).toContain(expected);
  });
});

describe("config: rotations", () => {
  it("reads a rotation and gives each policy that pages one what paging it takes", () => {
    const alerts = parse({
      policies: {
        night: {
          steps: [
            { delay: "0m", notify: ["rotation:primary:telegram"] },
            { delay: "10m", notify: ["rotation:primary", "ops-hook"], outside: "business-hours" },
          ],
        },
        day: { steps: [{ delay: "0m", notify: ["ops-hook"], during: "business-hours" }] },
      },
    });
    const primary = {
      name: "primary",
      people: ["ana", "bo"],
      timezone: "Europe/Berlin",
      start: "2026-12-07T09:00",
      shiftMs: 604_800_000,
    };
    expect(alerts.rotations).toEqual({ primary });
    expect(alerts.policies.night?.oncall).toEqual({
      rotations: { primary },
      people: { ana: ["person:ana:telegram"], bo: ["person:bo:telegram"], cy: ["person:cy:telegram"] },
    });
    expect(alerts.policies.night?.steps[1]?.window).toEqual({
      window: alerts.timeWindows["business-hours"],
      outside: true,
    });
    expect(alerts.policies.day?.oncall).toBeUndefined();
    expect(alerts.policies.day?.steps[0]?.window).toEqual({
      window: alerts.timeWindows["business-hours"],
      outside: false,
    });
  });

  it.each([
    [{ people: ["ana", "zed"] }, "alerts.rotations.primary.people.1: names nobody in alerts.people"],
    [{ people: ["ana", "ana"] }, "alerts.rotations.primary.people.1: lists ana twice"],
    [{ people: [] }, "alerts.rotations.primary.people: must list at least one person"],
    [{ shift: "90m" }, "alerts.rotations.primary.shift: must be whole hours, from 1h to 90d"],
    [{ shift: "100d" }, "must be whole hours, from 1h to 90d"],
    [
      { start: "2026-12-07 09:00" },
      "alerts.rotations.primary.start: must be a local date and time as YYYY-MM-DDTHH:MM",
    ],
    [{ start: "2026-02-30T09:00" }, "alerts.rotations.primary.start: is not a real date and time"],
    [{ timezone: "Berlin" }, "alerts.rotations.primary.timezone: must be an IANA time zone"],
  ])("refuses a rotation with %j, naming the field", (change, expected) => {
    expect(problem({ rotations: { primary: { ...rotations.primary, ...change } } })).toContain(expected);
  });

  it.each([
    [
      "rotation:secondary",
      'alerts.policies.p.steps.0.notify.0: "rotation:secondary" names no rotation (configured rotations: primary)',
    ],
    ["rotation:primary:fax", '"rotation:primary:fax": no contact method "fax"'],
    ["rotation:primary:email", '"rotation:primary:email": ana has no email contact'],
    ["rotatoin:primary", "is neither a channel, a person nor a rotation"],
  ])("refuses the target %s", (target, expected) => {
    expect(problem({ policies: { p: { steps: [{ delay: "0m", notify: [target] }] } } })).toContain(expected);
  });

  it("refuses during and outside naming no window, or both at once, on steps and rules", () => {
    const step = (extra: object) => ({ policies: { p: { steps: [{ delay: "0m", notify: ["ops-hook"], ...extra }] } } });
    expect(problem(step({ during: "lunch" }))).toContain(
      'alerts.policies.p.steps.0.during: names no time window "lunch" (configured: business-hours)',
    );
    expect(problem(step({ during: "business-hours", outside: "business-hours" }))).toContain(
      "alerts.policies.p.steps.0.outside: give during or outside, not both",
    );
    expect(
      problem({
        policies: { p: { steps: [{ delay: "0m", notify: ["ops-hook"] }] } },
        rules: [{ when: "job.dead", policy: "p", outside: "nights" }],
      }),
    ).toContain('alerts.rules.0.outside: names no time window "nights"');
  });

  it("gives rules their window, and keeps during/outside out of the rule", () => {
    const alerts = parse({
      policies: { p: { steps: [{ delay: "0m", notify: ["ops-hook"] }] } },
      rules: [
        { when: "job.dead", policy: "p", during: "business-hours" },
        { when: "job.dead", policy: "p" },
      ],
    });
    expect(alerts.rules[0]).toEqual({
      when: "job.dead",
      policy: alerts.policies.p,
      window: { window: alerts.timeWindows["business-hours"], outside: false },
    });
    expect(alerts.rules[1]).toEqual({ when: "job.dead", policy: alerts.policies.p });
  });
});

describe("docs/alerts.md", () => {
  it("parses the on-call example as documented, and routes by business hours in Berlin", () => {
    const doc = readFileSync(new URL("../../docs/alerts.md", import.meta.url), "utf8");
    const block = /## On call: rotations and business hours[\s\S]*?```json\n([\s\S]*?)```/.exec(doc)?.[1];
    if (block === undefined) throw new Error("no JSON example under ## On call in docs/alerts.md");
    const alerts = parseConfig(JSON.parse(block), "docs/alerts.md").alerts;
    expect(alerts.rotations.primary?.people).toEqual(["ana", "bo", "cy"]);
    expect(alerts.policies["after-hours"]?.oncall?.people).toEqual({
      ana: ["person:ana:sms"],
      bo: ["person:bo:sms"],
      cy: ["person:cy:sms"],
    });
    const monday = (time: string) => Date.parse(`2026-12-07T${time}Z`);
    const [daytime] = alerts.rules;
    expect(daytime?.window && conditionHolds(daytime.window, monday("08:00:00"))).toBe(true); // 09:00 Berlin
    expect(daytime?.window && conditionHolds(daytime.window, monday("16:00:00"))).toBe(false); // 17:00 Berlin
  });
});
