import { describe, expect, it } from "vitest";
import { type DueTicksInput, dueTicks, isTimeZone, nextTick } from "./schedule.js";

const at = (iso: string): number => Date.parse(iso);
const isos = (ticks: number[]): string[] => ticks.map((t) => new Date(t).toISOString());
const LONG_AGO = at("2000-01-01T00:00:00Z");

interface Case {
  name: string;
  input: Partial<DueTicksInput> & Pick<DueTicksInput, "cron" | "nowMs">;
  due: string[];
}

const cases: Case[] = [
  // no tick due
  {
    name: "no tick between the last tick and now",
    input: { cron: "0 * * * *", lastTickMs: at("2030-01-01T10:00:00Z"), nowMs: at("2030-01-01T10:59:59Z") },
    due: [],
  },
  {
    name: "the last tick is the latest one: nothing again",
    input: { cron: "0 * * * *", lastTickMs: at("2030-01-01T10:00:00Z"), nowMs: at("2030-01-01T10:00:00.900Z") },
    due: [],
  },
  {
    name: "a tick exactly at now is due",
    input: { cron: "0 * * * *", lastTickMs: at("2030-01-01T10:00:00Z"), nowMs: at("2030-01-01T11:00:00Z") },
    due: ["2030-01-01T11:00:00.000Z"],
  },
  {
    name: "a tick earlier in the current second is due",
    input: { cron: "0 * * * *", lastTickMs: at("2030-01-01T10:00:00Z"), nowMs: at("2030-01-01T11:00:00.999Z") },
    due: ["2030-01-01T11:00:00.000Z"],
  },
  // first run of a new schedule
  {
    name: "first run: ticks before registration are not owed, even with catchUp",
    input: {
      cron: "0 * * * *",
      lastTickMs: null,
      sinceMs: at("2030-01-01T10:30:00Z"),
      nowMs: at("2030-01-01T10:45:00Z"),
      catchUp: 5,
    },
    due: [],
  },
  {
    name: "first run: the first tick after registration is due",
    input: {
      cron: "0 * * * *",
      lastTickMs: null,
      sinceMs: at("2030-01-01T10:30:00Z"),
      nowMs: at("2030-01-01T11:00:00.200Z"),
      catchUp: 5,
    },
    due: ["2030-01-01T11:00:00.000Z"],
  },
  {
    name: "first run a while after registration: catch-up stops at registration",
    input: {
      cron: "0 * * * *",
      lastTickMs: null,
      sinceMs: at("2030-01-01T10:30:00Z"),
      nowMs: at("2030-01-01T13:10:00Z"),
      catchUp: 5,
    },
    due: ["2030-01-01T11:00:00.000Z", "2030-01-01T12:00:00.000Z", "2030-01-01T13:00:00.000Z"],
  },
  {
    name: "re-enabled: ticks before it became active again are not owed",
    input: {
      cron: "0 * * * *",
      lastTickMs: at("2030-01-01T01:00:00Z"),
      sinceMs: at("2030-01-01T12:30:00Z"),
      nowMs: at("2030-01-01T13:10:00Z"),
      catchUp: 5,
    },
    due: ["2030-01-01T13:00:00.000Z"],
  },
  // catch-up
  {
    name: "catchUp 0: missed ticks are skipped, only the latest fires",
    input: { cron: "0 * * * *", lastTickMs: at("2030-01-01T05:00:00Z"), nowMs: at("2030-01-01T10:30:00Z"), catchUp: 0 },
    due: ["2030-01-01T10:00:00.000Z"],
  },
  {
    name: "catchUp 2: the two missed ticks before the latest, oldest first",
    input: { cron: "0 * * * *", lastTickMs: at("2030-01-01T05:00:00Z"), nowMs: at("2030-01-01T10:30:00Z"), catchUp: 2 },
    due: ["2030-01-01T08:00:00.000Z", "2030-01-01T09:00:00.000Z", "2030-01-01T10:00:00.000Z"],
  },
  {
    name: "catchUp larger than the number missed: all of them, nothing before the last tick",
    input: {
      cron: "0 * * * *",
      lastTickMs: at("2030-01-01T08:00:00Z"),
      nowMs: at("2030-01-01T10:30:00Z"),
      catchUp: 10,
    },
    due: ["2030-01-01T09:00:00.000Z", "2030-01-01T10:00:00.000Z"],
  },
  {
    name: "catchUp after years away stays bounded",
    input: { cron: "* * * * *", lastTickMs: at("2001-01-01T00:00:00Z"), nowMs: at("2030-01-01T00:00:30Z"), catchUp: 3 },
    due: [
      "2029-12-31T23:57:00.000Z",
      "2029-12-31T23:58:00.000Z",
      "2029-12-31T23:59:00.000Z",
      "2030-01-01T00:00:00.000Z",
    ],
  },
  // seconds field
  {
    name: "six fields: every second",
    input: {
      cron: "* * * * * *",
      lastTickMs: at("2030-01-01T00:00:00Z"),
      nowMs: at("2030-01-01T00:00:03.500Z"),
      catchUp: 5,
    },
    due: ["2030-01-01T00:00:01.000Z", "2030-01-01T00:00:02.000Z", "2030-01-01T00:00:03.000Z"],
  },
  {
    name: "six fields: every 15 seconds, one missed with catchUp 1",
    input: {
      cron: "*/15 * * * * *",
      lastTickMs: at("2030-01-01T00:00:00Z"),
      nowMs: at("2030-01-01T00:00:40Z"),
      catchUp: 1,
    },
    due: ["2030-01-01T00:00:15.000Z", "2030-01-01T00:00:30.000Z"],
  },
  {
    name: "six fields: second 30 of each minute",
    input: { cron: "30 * * * * *", lastTickMs: at("2030-01-01T00:00:30Z"), nowMs: at("2030-01-01T00:01:29Z") },
    due: [],
  },
  // time zones
  {
    name: "02:00 in Europe/Berlin is 01:00 UTC in winter",
    input: {
      cron: "0 2 * * *",
      timezone: "Europe/Berlin",
      lastTickMs: at("2030-01-01T01:00:00Z"),
      nowMs: at("2030-01-02T01:00:05Z"),
    },
    due: ["2030-01-02T01:00:00.000Z"],
  },
  {
    name: "02:00 in Europe/Berlin is 00:00 UTC in summer",
    input: {
      cron: "0 2 * * *",
      timezone: "Europe/Berlin",
      lastTickMs: at("2030-07-01T00:00:00Z"),
      nowMs: at("2030-07-02T00:00:05Z"),
    },
    due: ["2030-07-02T00:00:00.000Z"],
  },
  {
    name: "09:00 on weekdays in America/New_York, over a weekend with catchUp 5",
    input: {
      cron: "0 9 * * 1-5",
      timezone: "America/New_York",
      lastTickMs: at("2030-01-04T14:00:00Z"),
      nowMs: at("2030-01-07T14:00:01Z"),
      catchUp: 5,
    },
    due: ["2030-01-07T14:00:00.000Z"],
  },
  {
    name: "DST start (Berlin, 2030-03-31): hourly ticks skip the missing hour",
    input: {
      cron: "0 * * * *",
      timezone: "Europe/Berlin",
      lastTickMs: at("2030-03-30T23:00:00Z"),
      nowMs: at("2030-03-31T02:00:00Z"),
      catchUp: 10,
    },
    due: ["2030-03-31T00:00:00.000Z", "2030-03-31T01:00:00.000Z", "2030-03-31T02:00:00.000Z"],
  },
  {
    name: "DST start (Berlin): a daily 02:30 that does not exist that day fires once, not twice",
    input: {
      cron: "30 2 * * *",
      timezone: "Europe/Berlin",
      lastTickMs: at("2030-03-30T01:30:00Z"),
      nowMs: at("2030-04-01T12:00:00Z"),
      catchUp: 10,
    },
    due: ["2030-03-31T01:00:00.000Z", "2030-04-01T00:30:00.000Z"],
  },
  {
    name: "DST end (Berlin, 2030-10-27): the daily tick is 24 h + 1 h after the day before",
    input: {
      cron: "0 12 * * *",
      timezone: "Europe/Berlin",
      lastTickMs: at("2030-10-26T10:00:00Z"),
      nowMs: at("2030-10-27T11:00:00Z"),
    },
    due: ["2030-10-27T11:00:00.000Z"],
  },
];

describe("dueTicks", () => {
  it.each(cases)("$name", ({ input, due }) => {
    const ticks = dueTicks({ timezone: "UTC", lastTickMs: null, sinceMs: LONG_AGO, catchUp: 0, ...input });
    expect(isos(ticks)).toEqual(due);
  });

  it("matches a brute-force walk over every second of a random window", () => {
    // A cross-check against the definition: every tick in (last, now], then the newest catchUp + 1.
    const cron = "*/7 * * * * *";
    const last = at("2030-01-01T00:00:03Z");
    const now = at("2030-01-01T00:01:10.300Z");
    const all: number[] = [];
    for (let t = last + 1_000; t <= now; t += 1_000) {
      if (new Date(t).getUTCSeconds() % 7 === 0) all.push(t);
    }
    for (const catchUp of [0, 1, 3, 100]) {
      expect(dueTicks({ cron, timezone: "UTC", lastTickMs: last, sinceMs: LONG_AGO, nowMs: now, catchUp })).toEqual(
        all.slice(-(catchUp + 1)),
      );
    }
  });
});

describe("nextTick", () => {
  it.each([
    ["* * * * * *", "UTC", "2030-01-01T00:00:00.000Z", "2030-01-01T00:00:01.000Z"],
    ["* * * * * *", "UTC", "2030-01-01T00:00:00.400Z", "2030-01-01T00:00:01.000Z"],
    ["0 2 * * *", "Europe/Berlin", "2030-01-01T12:00:00.000Z", "2030-01-02T01:00:00.000Z"],
    ["0 9 * * 1-5", "America/New_York", "2030-01-04T15:00:00.000Z", "2030-01-07T14:00:00.000Z"],
  ])("%s in %s after %s is %s", (cron, tz, after, next) => {
    expect(new Date(nextTick(cron, tz, at(after)) ?? 0).toISOString()).toBe(next);
  });

  it("is null for a pattern that never fires", () => {
    expect(nextTick("0 0 31 2 *", "UTC", 0)).toBeNull();
  });
});

describe("isTimeZone", () => {
  it.each(["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"])("knows %s", (tz) => {
    expect(isTimeZone(tz)).toBe(true);
  });
  it.each(["Mars/Base", "", "Europe/Berlinn"])("rejects %j", (tz) => {
    expect(isTimeZone(tz)).toBe(false);
  });
});
