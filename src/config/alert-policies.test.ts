import { describe, expect, it } from "vitest";
import { alertPoliciesSchema, checkPolicyTargets, toEscalationPolicies } from "./alert-policies.js";

const parse = (input: unknown) => toEscalationPolicies(alertPoliciesSchema.parse(input));
const issues = (input: unknown): string[] => {
  const result = alertPoliciesSchema.safeParse(input);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
};

const EXAMPLE = {
  default: {
    steps: [
      { delay: "0m", notify: ["ops-tg"] },
      { delay: "5m", notify: ["ops-hook"] },
    ],
    repeat: 2,
    ackTimeout: "30m",
  },
};

describe("alerts.policies", () => {
  it("parses the documented example", () => {
    expect(parse(EXAMPLE)).toEqual({
      default: {
        name: "default",
        steps: [
          { delayMs: 0, notify: ["ops-tg"] },
          { delayMs: 300_000, notify: ["ops-hook"] },
        ],
        repeat: 2,
        repeatDelayMs: 300_000,
        ackTimeoutMs: 1_800_000,
      },
    });
  });

  it("defaults: repeat 0, no ack timeout; an explicit repeatDelay wins", () => {
    expect(parse({ p: { steps: [{ delay: 0, notify: ["a"] }] } }).p).toMatchObject({ repeat: 0, ackTimeoutMs: null });
    expect(
      parse({ p: { steps: [{ delay: "1m", notify: ["a"] }], repeat: 1, repeatDelay: "15m" } }).p?.repeatDelayMs,
    ).toBe(900_000);
    expect(parse(undefined)).toEqual({});
  });

  it.each([
    [{ p: { steps: [] } }, "p.steps: must list at least one step"],
    [{ p: { steps: [{ delay: "soon", notify: ["a"] }] } }, "p.steps.0.delay: must be a duration"],
    [{ p: { steps: [{ delay: "8d", notify: ["a"] }] } }, "p.steps.0.delay: must be at most 7 days"],
    [{ p: { steps: [{ delay: "0m", notify: [] }] } }, "p.steps.0.notify: must name at least one"],
    [{ p: { steps: [{ delay: "0m", notify: ["bad name"] }] } }, "p.steps.0.notify.0: must be a channel name"],
    [{ p: { steps: [{ delay: "0m", notify: ["a"] }], repeat: -1 } }, "p.repeat: must be a whole number"],
    [{ p: { steps: [{ delay: "0m", notify: ["a"] }], repeat: 1.5 } }, "p.repeat: must be a whole number"],
    [{ p: { steps: [{ delay: "0m", notify: ["a"] }], repeat: 2 } }, "p.repeatDelay: repeat needs a pause"],
    [{ p: { steps: [{ delay: "0m", notify: ["a"] }], ackTimeout: 0 } }, "p.ackTimeout: must be more than 0"],
    [{ p: { steps: [{ delay: "0m", notify: ["a"] }], extra: 1 } }, "p: Unrecognized key"],
    [{ "bad name": { steps: [{ delay: "0m", notify: ["a"] }] } }, "policy names are"],
  ])("refuses %j, naming the field", (input, expected) => {
    expect(issues(input).join("\n")).toContain(expected);
  });
});

/** Channels as the target checks see them. */
const CHANNELS = {
  "ops-tg": { type: "telegram" },
  "ops-hook": { type: "webhook" },
  mail: { type: "email" },
  texts: { type: "sms" },
  "desk-phone": { type: "voice", to: "+14155550100" },
};

describe("checkPolicyTargets", () => {
  it("accepts targets that name channels, Telegram users and configured people", () => {
    const policies = parse({
      p: {
        steps: [
          {
            delay: 0,
            notify: ["ops-tg", "desk-phone", "telegram:12345", "person:ana", "person:bo:email", "person:cy:voice"],
          },
        ],
      },
    });
    const people = {
      ana: { telegram: 7, phone: "+14155550101" },
      bo: { email: "bo@example.test" },
      cy: { phone: "+4915112345678" },
    };
    expect(checkPolicyTargets(policies, CHANNELS, people)).toEqual([]);
  });

  it.each([
    ["person:cy", "names no person (configured people: ana, bo)"],
    ["person:ana:email", "ana has no email contact"],
    ["person:ana:sms", "ana has no phone contact"],
    ["person:ana:voice", "ana has no phone contact"],
    ["person:ana:pager", "neither a channel, a person nor a rotation"],
    ["telegram:ana", "neither a channel, a person nor a rotation"],
    ["slack:ops", "neither a channel, a person nor a rotation"],
    ["texts", '"texts" is an sms channel without "to", which reaches only people: name them as person:<name>:sms'],
  ])("refuses %s: %s", (target, expected) => {
    const policies = parse({ p: { steps: [{ delay: 0, notify: [target] }] } });
    const people = { ana: { telegram: 7 }, bo: { email: "bo@example.test" } };
    const problems = checkPolicyTargets(policies, CHANNELS, people);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.path).toBe("policies.p.steps.0.notify.0");
    expect(problems[0]?.message).toContain(expected);
  });

  it.each([
    ["person:bo:voice", "sms", '"person:bo:voice": no channel of type "voice" is configured in alerts.channels'],
    ["person:bo:sms", "voice", '"person:bo:sms": no channel of type "sms" is configured in alerts.channels'],
    [
      "person:bo",
      "voice",
      '"person:bo" pages person:bo:sms, and no channel of type "sms" is configured in alerts.channels; add one, or name the contacts to page one by one',
    ],
  ])("refuses %s when the only phone channel is %s", (target, only, expected) => {
    const policies = parse({ p: { steps: [{ delay: 0, notify: [target] }] } });
    const people = { bo: { email: "bo@example.test", phone: "+14155550102" } };
    const channels = { mail: { type: "email" }, phone: { type: only } };
    expect(checkPolicyTargets(policies, channels, people)).toEqual([
      { path: "policies.p.steps.0.notify.0", message: expected },
    ]);
  });

  it("pages a voice channel with a number of its own by its name", () => {
    const policies = parse({ p: { steps: [{ delay: 0, notify: ["desk-phone"] }] } });
    expect(checkPolicyTargets(policies, CHANNELS)).toEqual([]);
    expect(checkPolicyTargets(policies, { "desk-phone": { type: "voice" } })[0]?.message).toBe(
      '"desk-phone" is a voice channel without "to", which reaches only people: name them as person:<name>:voice',
    );
  });

  it("says when no people are configured", () => {
    const policies = parse({ p: { steps: [{ delay: 0, notify: ["person:ana"] }] } });
    expect(checkPolicyTargets(policies, {})[0]?.message).toBe(
      '"person:ana" names no person (no people are configured)',
    );
  });

  it("names each unknown target with its path and the configured channels", () => {
    const problems = checkPolicyTargets(parse(EXAMPLE), { "ops-tg": { type: "telegram" }, mail: { type: "email" } });
    expect(problems).toEqual([
      {
        path: "policies.default.steps.1.notify.0",
        message:
          '"ops-hook" names no channel (configured channels: mail, ops-tg); people are written person:<name> or telegram:<user id>, rotations rotation:<name>',
      },
    ]);
    expect(checkPolicyTargets(parse(EXAMPLE), {})[0]?.message).toContain("no channels are configured");
  });
});
