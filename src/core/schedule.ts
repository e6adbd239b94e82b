/**
 * Tick arithmetic for recurring tasks, as pure functions: which ticks of a cron pattern are due
 * now, and when the next one comes. No clock inside; the caller passes `nowMs` (the store's now).
 * Invariants: a tick at or before `lastTickMs` is never due again, a tick before `sinceMs` (when
 * the schedule was registered or re-enabled) is never due at all, and at most `catchUp + 1`
 * ticks are due at once, however long the scheduler was away.
 */
import { Cron } from "croner";

/** Five fields (minute precision) or six (a leading seconds field). */
const CRON_MODE = "5-or-6-parts" as const;

/** A parsed pattern. Throws croner's message for a malformed one. */
export function parseCron(cron: string, timezone: string): Cron {
  return new Cron(cron, { mode: CRON_MODE, timezone });
}

/** Whether the runtime knows this IANA time zone (`Europe/Berlin`, `UTC`...). */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: name });
    return true;
  } catch {
    // RangeError: an unknown time zone. That is the answer, not a failure.
    return false;
  }
}

export interface DueTicksInput {
  cron: string;
  timezone: string;
  /** The last tick fired, or null if none has been. Ticks at or before it are done. */
  lastTickMs: number | null;
  /** When the schedule became active (registered, re-added or re-enabled): earlier ticks are not owed. */
  sinceMs: number;
  nowMs: number;
  /** How many missed ticks before the latest one to fire as well. 0: skip missed ticks. */
  catchUp: number;
}

/**
 * The ticks (epoch ms) to fire now, oldest first: the latest tick at or before `nowMs`, preceded
 * by up to `catchUp` earlier ticks that were missed. Empty when no tick is due.
 */
export function dueTicks(input: DueTicksInput): number[] {
  const { nowMs, catchUp } = input;
  const floor = Math.max(input.lastTickMs === null ? Number.NEGATIVE_INFINITY : input.lastTickMs + 1, input.sinceMs);
  if (floor > nowMs) return [];
  // previousRuns excludes its reference instant, so look back from just after now.
  const recent = parseCron(input.cron, input.timezone).previousRuns(Math.max(0, catchUp) + 1, new Date(nowMs + 1));
  return recent
    .map((d) => d.getTime())
    .filter((t) => t >= floor && t <= nowMs)
    .reverse();
}

/** The first tick strictly after `afterMs`, or null if the pattern never fires again. */
export function nextTick(cron: string, timezone: string, afterMs: number): number | null {
  return parseCron(cron, timezone).nextRun(new Date(afterMs))?.getTime() ?? null;
}
