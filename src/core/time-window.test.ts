import { describe, expect, it } from "vitest";
import {
  conditionHolds,
  describeCondition,
  inWindow,
  parseClockTime,
  parseWeekdays,
  type TimeWindow,
} from "./time-window.js";

const businessHours: TimeWindow = {
  name: "business-hours",
  timezone: "Europe/Berlin",
  ranges: [{ days: ["mon", "tue", "wed", "thu", "fri"], from: 9 * 60, to: 17 * 60 }],
};

const nights: TimeWindow = {
  name: "nights",
  timezone: "America/New_York",
  ranges: [{ days: ["fri"], from: 22 * 60, to: 6 * 60 }],
};

const at = (text: string) => Date.parse(text);

describe("inWindow", () => {
  it("reads the hours in the window's zone", () => {
    // Monday 7 December 2026; Berlin is UTC+1 in winter.
    expect(inWindow(businessHours, at("2026-12-07T07:59:59Z"))).toBe(false);
    expect(inWindow(businessHours, at("2026-12-07T08:00:00Z"))).toBe(true);
    expect(inWindow(businessHours, at("2026-12-07T15:59:00Z"))).toBe(true);
    expect(inWindow(businessHours, at("2026-12-07T16:00:00Z"))).toBe(false);
  });

  it("keeps local hours across daylight saving (UTC+2 in summer)", () => {
    expect(inWindow(businessHours, at("2026-07-06T06:59:00Z"))).toBe(false);
    expect(inWindow(businessHours, at("2026-07-06T07:00:00Z"))).toBe(true);
    expect(inWindow(businessHours, at("2026-07-06T14:59:00Z"))).toBe(true);
    expect(inWindow(businessHours, at("2026-07-06T15:00:00Z"))).toBe(false);
  });

  it("is shut on days it does not list", () => {
    expect(inWindow(businessHours, at("2026-12-12T10:00:00Z"))).toBe(false); // Saturday
    expect(inWindow(businessHours, at("2026-12-13T10:00:00Z"))).toBe(false); // Sunday
  });

  it("runs an overnight range into the next day, counted from the day it starts", () => {
    // Friday 11 December 2026 22:00 New York (UTC-5) to Saturday 06:00.
    expect(inWindow(nights, at("2026-12-12T02:59:00Z"))).toBe(false); // Fri 21:59
    expect(inWindow(nights, at("2026-12-12T03:00:00Z"))).toBe(true); // Fri 22:00
    expect(inWindow(nights, at("2026-12-12T10:59:00Z"))).toBe(true); // Sat 05:59
    expect(inWindow(nights, at("2026-12-12T11:00:00Z"))).toBe(false); // Sat 06:00
    // Thursday night is not listed, so Friday early morning is shut.
    expect(inWindow(nights, at("2026-12-11T08:00:00Z"))).toBe(false); // Fri 03:00
  });

  it("takes a whole day as 00:00 to 24:00, and any of several ranges", () => {
    const weekend: TimeWindow = {
      name: "weekend",
      timezone: "UTC",
      ranges: [
        { days: ["sat", "sun"], from: 0, to: 1440 },
        { days: ["fri"], from: 18 * 60, to: 1440 },
      ],
    };
    expect(inWindow(weekend, at("2026-12-12T00:00:00Z"))).toBe(true);
    expect(inWindow(weekend, at("2026-12-13T23:59:59Z"))).toBe(true);
    expect(inWindow(weekend, at("2026-12-14T00:00:00Z"))).toBe(false);
    expect(inWindow(weekend, at("2026-12-11T18:00:00Z"))).toBe(true);
    expect(inWindow(weekend, at("2026-12-11T17:59:00Z"))).toBe(false);
  });
});

describe("conditionHolds", () => {
  it("holds inside for during, outside for outside, always without one", () => {
    const monday10 = at("2026-12-07T09:00:00Z");
    const monday20 = at("2026-12-07T19:00:00Z");
    expect(conditionHolds({ window: businessHours, outside: false }, monday10)).toBe(true);
    expect(conditionHolds({ window: businessHours, outside: false }, monday20)).toBe(false);
    expect(conditionHolds({ window: businessHours, outside: true }, monday10)).toBe(false);
    expect(conditionHolds({ window: businessHours, outside: true }, monday20)).toBe(true);
    expect(conditionHolds(undefined, monday20)).toBe(true);
    expect(conditionHolds(null, monday20)).toBe(true);
    expect(describeCondition({ window: businessHours, outside: true })).toBe("outside business-hours");
  });
});

describe("parseClockTime", () => {
  it("reads HH:MM, 24:00 only where allowed", () => {
    expect(parseClockTime("00:00")).toBe(0);
    expect(parseClockTime("09:30")).toBe(570);
    expect(parseClockTime("23:59")).toBe(1439);
    expect(parseClockTime("24:00")).toBeNull();
    expect(parseClockTime("24:00", true)).toBe(1440);
    expect(parseClockTime("24:01", true)).toBeNull();
    for (const bad of ["9:00", "09:60", "25:00", "0900", "", "09:00:00"]) expect(parseClockTime(bad, true)).toBeNull();
  });
});

describe("parseWeekdays", () => {
  it("reads ranges, lists and daily, in week order", () => {
    expect(parseWeekdays("mon-fri")).toEqual(["mon", "tue", "wed", "thu", "fri"]);
    expect(parseWeekdays("sat,sun")).toEqual(["sat", "sun"]);
    expect(parseWeekdays(["wed", "mon"])).toEqual(["mon", "wed"]);
    expect(parseWeekdays("Mon, Wed-Fri")).toEqual(["mon", "wed", "thu", "fri"]);
    expect(parseWeekdays("daily")).toHaveLength(7);
    expect(parseWeekdays("fri-mon")).toEqual(["mon", "fri", "sat", "sun"]);
  });

  it("refuses what names no day", () => {
    for (const bad of ["", "monday", "mon-funday", "weekdays", []]) expect(parseWeekdays(bad)).toBeNull();
  });
});
