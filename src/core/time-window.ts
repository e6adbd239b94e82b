/**
 * Time windows: "business hours" and the like, as weekly ranges of local time in an IANA time
 * zone. Alert rules and escalation steps name one (`during` / `outside`) to route by the hour.
 * Pure: the caller passes the instant (the store's clock), and local time comes from the zone's
 * own rules, so a window keeps its local hours across daylight-saving changes.
 */
import { DateTime } from "luxon";

export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** One weekly range: on each of `days`, from `from` to `to` local minutes after midnight. */
export interface WindowRange {
  /** The days a range starts on; an overnight range (from after to) ends the next morning. */
  days: Weekday[];
  /** Minutes after local midnight, 0 to 1439. */
  from: number;
  /** Minutes after local midnight, 1 to 1440 (24:00); before `from`: the range runs overnight. */
  to: number;
}

export interface TimeWindow {
  name: string;
  /** IANA time zone the ranges are read in. */
  timezone: string;
  ranges: WindowRange[];
}

/** A window as a rule or a step uses it: open while inside it, or (outside) while not. */
export interface WindowCondition {
  window: TimeWindow;
  outside: boolean;
}

/** Whether the instant `atMs` falls inside the window. */
export function inWindow(window: TimeWindow, atMs: number): boolean {
  const local = DateTime.fromMillis(atMs, { zone: window.timezone });
  const day = WEEKDAYS[local.weekday - 1] as Weekday;
  const dayBefore = WEEKDAYS[(local.weekday + 5) % 7] as Weekday;
  const minute = local.hour * 60 + local.minute;
  return window.ranges.some((r) =>
    r.from < r.to
      ? r.days.includes(day) && minute >= r.from && minute < r.to
      : (r.days.includes(day) && minute >= r.from) || (r.days.includes(dayBefore) && minute < r.to),
  );
}

/** Whether a condition holds at `atMs`; no condition always holds. */
export function conditionHolds(condition: WindowCondition | null | undefined, atMs: number): boolean {
  if (condition === null || condition === undefined) return true;
  return inWindow(condition.window, atMs) !== condition.outside;
}

/** How a condition reads in an event or a timeline: `during business-hours`, `outside business-hours`. */
export function describeCondition(condition: WindowCondition): string {
  return `${condition.outside ? "outside" : "during"} ${condition.window.name}`;
}

/** `09:00` → 540; `24:00` → 1440 (only where `allow24` says). Null for anything else. */
export function parseClockTime(text: string, allow24 = false): number | null {
  const m = /^([01]\d|2[0-4]):([0-5]\d)$/.exec(text);
  if (m === null) return null;
  const minutes = Number(m[1]) * 60 + Number(m[2]);
  if (minutes > 1440 || (minutes === 1440 && !allow24)) return null;
  return minutes;
}

/**
 * Days as people write them: `mon-fri`, `sat,sun`, `mon,wed-fri`, `daily`, or a list of those.
 * Null when a part names no day.
 */
export function parseWeekdays(spec: string | readonly string[]): Weekday[] | null {
  const parts = (typeof spec === "string" ? [spec] : spec).flatMap((s) => s.split(","));
  const days = new Set<Weekday>();
  for (const raw of parts) {
    const part = raw.trim().toLowerCase();
    if (part === "daily" || part === "every day") {
      for (const d of WEEKDAYS) days.add(d);
      continue;
    }
    const range = /^([a-z]{3})\s*-\s*([a-z]{3})$/.exec(part);
    const [first, last] = range === null ? [part, part] : [range[1] as string, range[2] as string];
    const a = WEEKDAYS.indexOf(first as Weekday);
    const b = WEEKDAYS.indexOf(last as Weekday);
    if (a < 0 || b < 0) return null;
    // A range may wrap the week's end: fri-mon is fri, sat, sun, mon.
    for (let i = a; ; i = (i + 1) % 7) {
      days.add(WEEKDAYS[i] as Weekday);
      if (i === b) break;
    }
  }
  return days.size === 0 ? null : WEEKDAYS.filter((d) => days.has(d));
}
