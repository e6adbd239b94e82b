import { describe, expect, it } from "vitest";
import type { EscalationPolicy } from "../core/alert.js";
import { contactTargets, parsePersonTarget } from "../core/people.js";
import { alertPeopleSchema, checkPeopleReachable, expandPeople } from "./alert-people.js";

const issues = (input: unknown): string[] => {
  const result = alertPeopleSchema.safeParse(input);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
};

describe("alerts.people", () => {
  it("parses people with a Telegram id, an address, a phone number, or several", () => {
    expect(
      alertPeopleSchema.parse({
        ana: { telegram: 12345, email: "ana@example.test", phone: "+14155550100" },
        bo: { email: "bo@example.test" },
        cy: { phone: "+4915112345678" },
      }),
    ).toEqual({
      ana: { telegram: 12345, email: "ana@example.test", phone: "+14155550100" },
      bo: { email: "bo@example.test" },
      cy: { phone: "+4915112345678" },
    });
    expect(alertPeopleSchema.parse(undefined)).toEqual({});
  });

  const PHONE_RULE =
    'must be a phone number in E.164 form, "+" then 8 to 15 digits without spaces or dashes (such as "+14155550100")';

  it.each([
    [{ ana: {} }, "ana: must give at least one way to reach them: telegram, email or phone"],
    [{ ana: { email: "not an address" } }, "ana.email: must be an e-mail address"],
    [{ ana: { telegram: -5 } }, "ana.telegram: must be a Telegram user id"],
    [{ ana: { telegram: "12345" } }, "ana.telegram: must be a Telegram user id"],
    [{ ana: { phone: "+1 415 555 0100" } }, `ana.phone: ${PHONE_RULE}, got "+1 415 555 0100"`],
    [{ ana: { phone: "4155550100" } }, `ana.phone: ${PHONE_RULE}, got "4155550100"`],
    [{ ana: { phone: "+1415555" } }, `ana.phone: ${PHONE_RULE}, got "+1415555"`],
    [{ ana: { phone: "+1234567890123456" } }, `ana.phone: ${PHONE_RULE}, got "+1234567890123456"`],
    [{ ana: { phone: "+04155550100" } }, `ana.phone: ${PHONE_RULE}, got "+04155550100"`],
    [{ ana: { phone: 14155550100 } }, `ana.phone: ${PHONE_RULE}`],
    [{ ana: { pager: "+14155550100" } }, 'ana: Unrecognized key: "pager"'],
    [{ "ana smith": { email: "a@example.test" } }, "person names are"],
  ])("refuses %j, naming the field", (input, expected) => {
    expect(issues(input).join("\n")).toContain(expected);
  });
});

describe("person targets", () => {
  it.each([
    ["person:ana", { person: "ana", method: null }],
    ["person:ana:telegram", { person: "ana", method: "telegram" }],
    ["person:ana:email", { person: "ana", method: "email" }],
    ["person:ana:sms", { person: "ana", method: "sms" }],
    ["person:ana:voice", { person: "ana", method: "voice" }],
    ["person:ana:phone", null],
    ["person:ana:pager", null],
    ["telegram:12345", null],
    ["ops-hook", null],
  ])("parses %s", (target, expected) => {
    expect(parsePersonTarget(target)).toEqual(expected);
  });

  it("lists one target per contact, Telegram first", () => {
    expect(contactTargets("ana", { email: "a@example.test", telegram: 1 })).toEqual([
      "person:ana:telegram",
      "person:ana:email",
    ]);
    expect(contactTargets("bo", { email: "b@example.test" })).toEqual(["person:bo:email"]);
  });

  it("texts a phone and never calls it unless a step says person:<name>:voice", () => {
    expect(contactTargets("cy", { phone: "+14155550100", email: "c@example.test" })).toEqual([
      "person:cy:email",
      "person:cy:sms",
    ]);
  });

  it("expands each person in a step into their contacts, once each, leaving other targets alone", () => {
    const policy: EscalationPolicy = {
      name: "p",
      steps: [
        { delayMs: 0, notify: ["ops-tg", "person:ana", "person:ana:email", "person:cy"] },
        { delayMs: 60_000, notify: ["person:bo"] },
      ],
      repeat: 0,
      repeatDelayMs: 60_000,
      ackTimeoutMs: null,
    };
    const expanded = expandPeople(
      { p: policy },
      { ana: { telegram: 7, email: "a@example.test", phone: "+14155550100" }, bo: { email: "b@x.y" } },
    );
    expect(expanded.p?.steps.map((s) => s.notify)).toEqual([
      ["ops-tg", "person:ana:telegram", "person:ana:email", "person:ana:sms", "person:cy"],
      ["person:bo:email"],
    ]);
    expect(policy.steps[0]?.notify).toHaveLength(4);
  });

  it("reports each contact no configured channel can carry", () => {
    const people = { ana: { telegram: 7, email: "a@example.test" } };
    expect(checkPeopleReachable(people, new Set(["telegram", "email"]))).toEqual([]);
    expect(checkPeopleReachable(people, new Set(["webhook"]))).toEqual([
      { path: "people.ana.telegram", message: 'needs a channel of type "telegram" in alerts.channels to send through' },
      { path: "people.ana.email", message: 'needs a channel of type "email" in alerts.channels to send through' },
    ]);
  });

  it("reports a phone that neither an sms nor a voice channel can reach", () => {
    const people = { cy: { phone: "+14155550100" } };
    expect(checkPeopleReachable(people, new Set(["sms"]))).toEqual([]);
    expect(checkPeopleReachable(people, new Set(["voice"]))).toEqual([]);
    expect(checkPeopleReachable(people, new Set(["email", "telegram"]))).toEqual([
      {
        path: "people.cy.phone",
        message: 'needs a channel of type "sms" or "voice" in alerts.channels to send through',
      },
    ]);
  });
});
