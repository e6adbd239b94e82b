import { describe, expect, it } from "vitest";
import { isOverseerError } from "./errors.js";
import {
  nextOnCall,
  type OncallOverride,
  onCallAt,
  overrideFrom,
  parseRotationTarget,
  type Rotation,
  resolveRotationTargets,
  rotationStatus,
  shiftAt,
} from "./oncall.js";

const DAY = 86_400_000;
const HOUR = 3_600_000;
const at = (text: string) => Date.parse(text);

/** Weekly, Mondays 09:00 Berlin, from Monday 7 December 2026 (08:00 UTC in winter). */
const weekly: Rotation = {
  name: "primary",
  people: ["alice", "bob", "carol"],
  timezone: "Europe/Berlin",
  start: "2026-12-07T09:00",
  shiftMs: 7 * DAY,
};

let nextId = 1;
function override(
  fields: Partial<OncallOverride> & Pick<OncallOverride, "person" | "startsAt" | "endsAt">,
): OncallOverride {
  return {
    id: nextId++,
    rotation: "primary",
    reason: null,
    createdBy: "ops",
    createdAt: fields.startsAt,
    cancelledBy: null,
    cancelledAt: null,
    ...fields,
  };
}

describe("shiftAt", () => {
  it("hands off at the local time each shift, in turn", () => {
    expect(shiftAt(weekly, at("2026-12-07T08:00:00Z"))).toEqual({
      person: "alice",
      from: at("2026-12-07T08:00:00Z"),
      until: at("2026-12-14T08:00:00Z"),
    });
    expect(shiftAt(weekly, at("2026-12-14T07:59:59Z")).person).toBe("alice");
    expect(shiftAt(weekly, at("2026-12-14T08:00:00Z")).person).toBe("bob");
    expect(shiftAt(weekly, at("2026-12-21T08:00:00Z")).person).toBe("carol");
    expect(shiftAt(weekly, at("2026-12-28T08:00:00Z")).person).toBe("alice");
  });

  it("runs the turns backwards before the start", () => {
    expect(shiftAt(weekly, at("2026-12-07T07:59:59Z"))).toEqual({
      person: "carol",
      from: at("2026-11-30T08:00:00Z"),
      until: at("2026-12-07T08:00:00Z"),
    });
    expect(shiftAt(weekly, at("2026-11-24T12:00:00Z")).person).toBe("bob");
  });

  it("keeps the local handoff hour across daylight saving", () => {
    // Berlin moves to UTC+2 on 28 March 2027: the 09:00 handoff is then 07:00 UTC.
    const daily: Rotation = { ...weekly, shiftMs: DAY, start: "2027-03-27T09:00" };
    expect(shiftAt(daily, at("2027-03-27T08:00:00Z")).person).toBe("alice");
    expect(shiftAt(daily, at("2027-03-28T06:59:00Z")).person).toBe("alice");
    const sunday = shiftAt(daily, at("2027-03-28T07:00:00Z"));
    expect(sunday).toEqual({ person: "bob", from: at("2027-03-28T07:00:00Z"), until: at("2027-03-29T07:00:00Z") });
  });

  it("moves a handoff that falls in a daylight-saving gap forward by the gap", () => {
    // 02:30 does not exist in Berlin on 28 March 2027 (02:00 CET -> 03:00 CEST): that handoff is 03:30 CEST.
    const nightly: Rotation = { ...weekly, shiftMs: DAY, start: "2027-03-26T02:30" };
    const before = shiftAt(nightly, at("2027-03-28T01:29:00Z"));
    expect(before.person).toBe("bob");
    const after = shiftAt(nightly, at("2027-03-28T01:30:00Z"));
    expect(after).toEqual({ person: "carol", from: at("2027-03-28T01:30:00Z"), until: at("2027-03-29T00:30:00Z") });
    expect(before.until).toBe(after.from);
  });

  it("hands off once, at the first of a repeated hour, when the clocks go back", () => {
    // 02:30 happens twice in Berlin on 25 October 2026: 00:30Z (summer time) and 01:30Z (winter).
    const nightly: Rotation = { ...weekly, people: ["ana", "bo"], shiftMs: DAY, start: "2026-10-20T02:30" };
    const before = shiftAt(nightly, at("2026-10-25T00:29:00Z"));
    const after = shiftAt(nightly, at("2026-10-25T01:15:00Z")); // 02:15 winter time, after the handoff
    expect(before).toMatchObject({ person: "ana", until: at("2026-10-25T00:30:00Z") });
    expect(after).toEqual({ person: "bo", from: at("2026-10-25T00:30:00Z"), until: at("2026-10-26T01:30:00Z") });
    expect(shiftAt(nightly, at("2026-10-25T01:45:00Z")).person).toBe("bo");
  });

  it("keeps the local handoff times of shifts that divide a day across daylight saving", () => {
    // 09:00 and 21:00 in Berlin; the night of 27 to 28 March 2027 is an hour shorter.
    const halves: Rotation = { ...weekly, people: ["day", "night"], shiftMs: 12 * HOUR, start: "2027-03-27T09:00" };
    expect(shiftAt(halves, at("2027-03-27T20:00:00Z"))).toEqual({
      person: "night",
      from: at("2027-03-27T20:00:00Z"),
      until: at("2027-03-28T07:00:00Z"),
    });
    expect(shiftAt(halves, at("2027-03-28T07:00:00Z"))).toEqual({
      person: "day",
      from: at("2027-03-28T07:00:00Z"),
      until: at("2027-03-28T19:00:00Z"),
    });
    // And back in October: 09:00 winter time is 08:00Z again.
    expect(shiftAt(halves, at("2027-10-31T08:00:00Z")).from).toBe(at("2027-10-31T08:00:00Z"));
  });

  it("counts shifts of hours as fixed lengths", () => {
    const halfDays: Rotation = {
      ...weekly,
      people: ["day", "night"],
      timezone: "UTC",
      start: "2026-12-07T08:00",
      shiftMs: 12 * HOUR,
    };
    expect(shiftAt(halfDays, at("2026-12-07T19:59:00Z")).person).toBe("day");
    expect(shiftAt(halfDays, at("2026-12-07T20:00:00Z"))).toEqual({
      person: "night",
      from: at("2026-12-07T20:00:00Z"),
      until: at("2026-12-08T08:00:00Z"),
    });
    expect(shiftAt(halfDays, at("2026-12-07T07:00:00Z")).person).toBe("night");
  });
});

describe("onCallAt and nextOnCall", () => {
  const tuesday = at("2026-12-08T12:00:00Z");

  it("is the shift's person, until the handoff, without overrides", () => {
    const now = onCallAt(weekly, [], tuesday);
    expect(now).toMatchObject({ person: "alice", override: null, until: at("2026-12-14T08:00:00Z") });
    expect(nextOnCall(weekly, [], tuesday)).toEqual({ person: "bob", at: at("2026-12-14T08:00:00Z"), override: null });
  });

  it("puts an override's person on call while it lasts, and the newest override wins", () => {
    const sick = override({ person: "bob", startsAt: "2026-12-08T10:00:00.000Z", endsAt: "2026-12-09T10:00:00.000Z" });
    const swap = override({
      person: "carol",
      startsAt: "2026-12-08T11:00:00.000Z",
      endsAt: "2026-12-08T13:00:00.000Z",
    });
    expect(onCallAt(weekly, [sick], tuesday)).toMatchObject({ person: "bob", override: sick });
    const now = onCallAt(weekly, [sick, swap], tuesday);
    expect(now).toMatchObject({ person: "carol", override: swap, until: at("2026-12-08T13:00:00Z") });
    expect(nextOnCall(weekly, [sick, swap], tuesday)).toEqual({
      person: "bob",
      at: at("2026-12-08T13:00:00Z"),
      override: sick,
    });
  });

  it("ignores cancelled overrides and other rotations'", () => {
    const cancelled = override({
      person: "bob",
      startsAt: "2026-12-08T10:00:00.000Z",
      endsAt: "2026-12-09T10:00:00.000Z",
      cancelledAt: "2026-12-08T11:00:00.000Z",
      cancelledBy: "ops",
    });
    const elsewhere = override({
      rotation: "secondary",
      person: "carol",
      startsAt: "2026-12-08T10:00:00.000Z",
      endsAt: "2026-12-09T10:00:00.000Z",
    });
    expect(onCallAt(weekly, [cancelled, elsewhere], tuesday)).toMatchObject({ person: "alice", override: null });
  });

  it("says a future override is next when it comes before the handoff", () => {
    const later = override({
      person: "carol",
      startsAt: "2026-12-10T08:00:00.000Z",
      endsAt: "2026-12-11T08:00:00.000Z",
    });
    expect(onCallAt(weekly, [later], tuesday).until).toBe(at("2026-12-10T08:00:00Z"));
    expect(nextOnCall(weekly, [later], tuesday)).toEqual({
      person: "carol",
      at: at("2026-12-10T08:00:00Z"),
      override: later,
    });
  });

  it("skips an override of the person already on call when looking for who is next", () => {
    const same = override({
      person: "alice",
      startsAt: "2026-12-10T08:00:00.000Z",
      endsAt: "2026-12-11T08:00:00.000Z",
    });
    expect(nextOnCall(weekly, [same], tuesday)).toEqual({
      person: "bob",
      at: at("2026-12-14T08:00:00Z"),
      override: null,
    });
  });

  it("during a long override: until its end, whatever shifts change beneath it, and who is next after it", () => {
    const daily: Rotation = { ...weekly, people: ["alice", "bob"], shiftMs: DAY };
    const holiday = override({
      person: "carol",
      startsAt: "2026-12-08T00:00:00.000Z",
      endsAt: "2027-03-01T00:00:00.000Z",
    });
    const now = onCallAt(daily, [holiday], tuesday);
    expect(now).toMatchObject({ person: "carol", until: at("2027-03-01T00:00:00Z") });
    expect(nextOnCall(daily, [holiday], tuesday)?.at).toBe(at("2027-03-01T00:00:00Z"));
    expect(rotationStatus(daily, [holiday], tuesday).now.until).toBe("2027-03-01T00:00:00.000Z");
  });

  it("says until when the person stays on, past a boundary where the same person continues", () => {
    const own = override({ person: "alice", startsAt: "2026-12-08T10:00:00.000Z", endsAt: "2026-12-08T14:00:00.000Z" });
    expect(rotationStatus(weekly, [own], tuesday).now.until).toBe("2026-12-14T08:00:00.000Z");
  });

  it("has nobody next in a rotation of one", () => {
    expect(nextOnCall({ ...weekly, people: ["alice"] }, [], tuesday)).toBeNull();
  });
});

describe("rotation targets", () => {
  const oncall = {
    rotations: { primary: weekly },
    people: { alice: ["person:alice:telegram", "person:alice:sms"], bob: ["person:bob:email"] },
  };

  it("parses rotation:<name> and rotation:<name>:<method>", () => {
    expect(parseRotationTarget("rotation:primary")).toEqual({ rotation: "primary", method: null });
    expect(parseRotationTarget("rotation:primary:sms")).toEqual({ rotation: "primary", method: "sms" });
    expect(parseRotationTarget("person:alice")).toBeNull();
    expect(parseRotationTarget("rotation:")).toBeNull();
  });

  it("pages whoever is on call when the step is due, through one method or all of theirs", () => {
    const tuesday = at("2026-12-08T12:00:00Z");
    expect(resolveRotationTargets(["rotation:primary", "ops"], oncall, [], tuesday)).toEqual({
      targets: ["person:alice:telegram", "person:alice:sms", "ops"],
      paged: [{ rotation: "primary", person: "alice", overrideId: null }],
    });
    const swap = override({ person: "bob", startsAt: "2026-12-08T00:00:00.000Z", endsAt: "2026-12-09T00:00:00.000Z" });
    expect(resolveRotationTargets(["rotation:primary:voice"], oncall, [swap], tuesday)).toEqual({
      targets: ["person:bob:voice"],
      paged: [{ rotation: "primary", person: "bob", overrideId: swap.id }],
    });
  });

  it("keeps a rotation it does not know as written, so its send fails visibly", () => {
    expect(resolveRotationTargets(["rotation:gone"], oncall, [], 0).targets).toEqual(["rotation:gone"]);
    expect(resolveRotationTargets(["rotation:primary"], undefined, [], 0).targets).toEqual(["rotation:primary"]);
  });
});

describe("rotationStatus", () => {
  it("says who is on call, since and until when, who is next, and the overrides ahead", () => {
    const past = override({ person: "bob", startsAt: "2026-12-07T09:00:00.000Z", endsAt: "2026-12-07T10:00:00.000Z" });
    const ahead = override({
      person: "carol",
      startsAt: "2026-12-10T08:00:00.000Z",
      endsAt: "2026-12-11T08:00:00.000Z",
    });
    const status = rotationStatus(weekly, [ahead, past], at("2026-12-08T12:00:00Z"));
    expect(status.now).toEqual({
      person: "alice",
      since: "2026-12-07T08:00:00.000Z",
      until: "2026-12-10T08:00:00.000Z",
      override: null,
    });
    expect(status.next).toEqual({ person: "carol", at: "2026-12-10T08:00:00.000Z", override: ahead });
    expect(status.upcoming).toEqual([ahead]);
  });
});

describe("overrideFrom", () => {
  const rotations = { primary: weekly };
  const people = {
    alice: { phone: "+4915100000001" },
    bob: { phone: "+4915100000002" },
    carol: { email: "c@example.test" },
    dave: { telegram: 4 },
  };
  const now = at("2026-12-08T12:00:00Z");

  it("reads from (default now), until or for, and a reason", () => {
    expect(overrideFrom({ rotation: "primary", person: "dave", for: "4h", by: "ops" }, now, rotations, people)).toEqual(
      {
        rotation: "primary",
        person: "dave",
        startsAt: now,
        endsAt: now + 4 * HOUR,
        reason: null,
        by: "ops",
      },
    );
    expect(
      overrideFrom(
        {
          rotation: "primary",
          person: "bob",
          from: "2026-12-09T10:00+01:00",
          until: "2026-12-09T12:00:00Z",
          reason: "swap",
          by: "ops",
        },
        now,
        rotations,
        people,
      ),
    ).toMatchObject({ startsAt: at("2026-12-09T09:00:00Z"), endsAt: at("2026-12-09T12:00:00Z"), reason: "swap" });
  });

  it("refuses someone the policies could not page as they page the rotation", () => {
    const policies = {
      night: {
        name: "night",
        steps: [
          { delayMs: 0, notify: ["rotation:primary:sms"] },
          { delayMs: 60_000, notify: ["rotation:primary:voice", "rotation:other:email"] },
        ],
        repeat: 0,
        repeatDelayMs: 0,
        ackTimeoutMs: null,
      },
    };
    const request = { rotation: "primary", for: "1h", by: "ops" };
    expect(overrideFrom({ ...request, person: "bob" }, now, rotations, people, policies).person).toBe("bob");
    expect(() => overrideFrom({ ...request, person: "carol" }, now, rotations, people, policies)).toThrow(
      "person: carol cannot be paged as rotation primary's steps page it (rotation:primary:sms, rotation:primary:voice): no phone contact",
    );
  });

  it("refuses an unknown rotation or person, a time without its zone, and both or neither end", () => {
    const refusal = (request: Parameters<typeof overrideFrom>[0]) => {
      try {
        overrideFrom(request, now, rotations, people);
      } catch (err) {
        if (isOverseerError(err)) return { code: err.code, field: err.details.field, message: err.message };
        throw err;
      }
      throw new Error("accepted");
    };
    expect(refusal({ rotation: "nope", person: "bob", for: "1h", by: "x" })).toMatchObject({
      code: "ROTATION_NOT_FOUND",
      message: 'no rotation "nope" (configured: primary)',
    });
    expect(refusal({ rotation: "primary", person: "eve", for: "1h", by: "x" })).toMatchObject({
      code: "INVALID_ARGUMENT",
      field: "person",
    });
    expect(refusal({ rotation: "primary", person: "bob", until: "2026-12-09T10:00", by: "x" })).toMatchObject({
      field: "until",
      message: expect.stringContaining("with its zone"),
    });
    expect(refusal({ rotation: "primary", person: "bob", by: "x" })).toMatchObject({ field: "until" });
    expect(
      refusal({ rotation: "primary", person: "bob", for: "1h", until: "2026-12-09T10:00Z", by: "x" }),
    ).toMatchObject({
      field: "until",
    });
    expect(refusal({ rotation: "primary", person: "bob", for: "soon", by: "x" })).toMatchObject({ field: "for" });
    expect(refusal({ rotation: "primary", person: "bob", for: "1h", reason: "x".repeat(501), by: "x" })).toMatchObject({
      field: "reason",
    });
  });
});
