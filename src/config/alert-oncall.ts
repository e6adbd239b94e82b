/**
 * The on-call parts of the config file's `alerts` section: `timeWindows` (business hours and the
 * like, core/time-window.ts), which rules and policy steps name with `during` / `outside`, and
 * `rotations` (core/oncall.ts), which policy steps page as `rotation:<name>[:<method>]`.
 */
import { DateTime } from "luxon";
import { z } from "zod";
import type { Rotation } from "../core/oncall.js";
import { isTimeZone } from "../core/schedule.js";
import { parseClockTime, parseWeekdays, type TimeWindow, WEEKDAYS, type WindowCondition } from "../core/time-window.js";
import { durationField } from "./duration-field.js";

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const NAME_RULE = "names are 1-64 letters, digits, '.', '_' and '-', starting with a letter or digit";

const timezone = z
  .string({ error: "must be an IANA time zone such as Europe/Berlin or UTC" })
  .refine(isTimeZone, { error: "must be an IANA time zone such as Europe/Berlin or UTC" });

const days = z.union([z.string(), z.array(z.string())]).transform((spec, ctx) => {
  const parsed = parseWeekdays(spec);
  if (parsed === null) {
    ctx.addIssue({
      code: "custom",
      message: "must be days such as mon-fri, sat,sun or daily (mon tue wed thu fri sat sun)",
    });
    return z.NEVER;
  }
  return parsed;
});

const clock = (allow24: boolean) =>
  z.string().transform((text, ctx) => {
    const minutes = parseClockTime(text, allow24);
    if (minutes === null) {
      ctx.addIssue({
        code: "custom",
        message: `must be a time of day as HH:MM, 00:00 to ${allow24 ? "24:00" : "23:59"}`,
      });
      return z.NEVER;
    }
    return minutes;
  });

const SAME_TIMES = "must differ from `from` (a whole day is 00:00 to 24:00; a later `from` runs overnight)";

const rangeSchema = z
  .strictObject({
    days: days.default(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]),
    from: clock(false),
    to: clock(true),
  })
  .refine((r) => r.from !== r.to, { path: ["to"], error: SAME_TIMES });

/** A window: one range written inline (`days`, `from`, `to`), or several under `ranges`. */
const windowSchema = z
  .strictObject({
    timezone,
    days: days.optional(),
    from: clock(false).optional(),
    to: clock(true).optional(),
    ranges: z.array(rangeSchema).min(1, { error: "must list at least one range" }).optional(),
  })
  .transform((w, ctx) => {
    const inline = w.days !== undefined || w.from !== undefined || w.to !== undefined;
    if (inline === (w.ranges !== undefined)) {
      ctx.addIssue({ code: "custom", message: "give either from and to (and days), or ranges: a list of them" });
      return z.NEVER;
    }
    if (w.ranges !== undefined) return { timezone: w.timezone, ranges: w.ranges };
    if (w.from === undefined || w.to === undefined) {
      ctx.addIssue({
        code: "custom",
        path: [w.from === undefined ? "from" : "to"],
        message: "a window needs both from and to (HH:MM)",
      });
      return z.NEVER;
    }
    if (w.from === w.to) {
      ctx.addIssue({ code: "custom", path: ["to"], message: SAME_TIMES });
      return z.NEVER;
    }
    return { timezone: w.timezone, ranges: [{ days: w.days ?? [...WEEKDAYS], from: w.from, to: w.to }] };
  });

/** `alerts.timeWindows`: window name → window. */
export const timeWindowsSchema = z
  .record(z.string(), windowSchema)
  .superRefine((windows, ctx) => {
    for (const name of Object.keys(windows)) {
      if (!NAME.test(name)) ctx.addIssue({ code: "custom", path: [name], message: `time window ${NAME_RULE}` });
    }
  })
  .default({});

const HOUR_MS = 3_600_000;

const rotationSchema = z
  .strictObject({
    /** People of `alerts.people`, in turn order. */
    people: z.array(z.string()).min(1, { error: "must list at least one person" }),
    /** A shift's length: whole hours, at most 90 days. */
    shift: durationField.refine((ms) => ms >= HOUR_MS && ms % HOUR_MS === 0 && ms <= 90 * 24 * HOUR_MS, {
      error: "must be whole hours, from 1h to 90d (such as 12h, 1d or 1w)",
    }),
    /** The first shift's start, local time: `2026-12-07T09:00`. */
    start: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/, {
      error: "must be a local date and time as YYYY-MM-DDTHH:MM, such as 2026-12-07T09:00",
    }),
    timezone,
  })
  .superRefine((r, ctx) => {
    if (!DateTime.fromISO(r.start, { zone: "UTC" }).isValid) {
      ctx.addIssue({ code: "custom", path: ["start"], message: "is not a real date and time" });
    }
    const seen = new Set<string>();
    r.people.forEach((person, i) => {
      if (seen.has(person)) ctx.addIssue({ code: "custom", path: ["people", i], message: `lists ${person} twice` });
      seen.add(person);
    });
  });

/** `alerts.rotations`: rotation name → rotation. People are checked against `alerts.people` in alerts.ts. */
export const rotationsSchema = z
  .record(z.string(), rotationSchema)
  .superRefine((rotations, ctx) => {
    for (const name of Object.keys(rotations)) {
      if (!NAME.test(name)) ctx.addIssue({ code: "custom", path: [name], message: `rotation ${NAME_RULE}` });
    }
  })
  .default({});

/** `during` / `outside` on a rule or a policy step: a time window's name (one of them, not both). */
export const windowRouting = {
  /** Only while this time window is open. */
  during: z.string().min(1, { error: "must name a time window" }).optional(),
  /** Only while this time window is shut. */
  outside: z.string().min(1, { error: "must name a time window" }).optional(),
};

export function toTimeWindows(parsed: z.output<typeof timeWindowsSchema>): Record<string, TimeWindow> {
  return Object.fromEntries(Object.entries(parsed).map(([name, w]) => [name, { name, ...w }]));
}

export function toRotations(parsed: z.output<typeof rotationsSchema>): Record<string, Rotation> {
  return Object.fromEntries(
    Object.entries(parsed).map(([name, r]) => [
      name,
      { name, people: [...r.people], timezone: r.timezone, start: r.start, shiftMs: r.shift },
    ]),
  );
}

/**
 * The condition `during` / `outside` stand for, or a problem: both given, or a name that is no
 * configured window. Null condition and no problem when neither is given.
 */
export function windowCondition(
  routing: { during?: string | undefined; outside?: string | undefined },
  windows: Readonly<Record<string, TimeWindow>>,
): { condition: WindowCondition | null; problem: { field: string; message: string } | null } {
  if (routing.during !== undefined && routing.outside !== undefined) {
    return { condition: null, problem: { field: "outside", message: "give during or outside, not both" } };
  }
  const field = routing.during !== undefined ? "during" : "outside";
  const name = routing.during ?? routing.outside;
  if (name === undefined) return { condition: null, problem: null };
  const window = Object.hasOwn(windows, name) ? windows[name] : undefined;
  if (window === undefined) {
    const known = Object.keys(windows).sort();
    return {
      condition: null,
      problem: {
        field,
        message: `names no time window "${name}" (${known.length === 0 ? "no alerts.timeWindows are configured" : `configured: ${known.join(", ")}`})`,
      },
    };
  }
  return { condition: { window, outside: routing.outside !== undefined }, problem: null };
}
