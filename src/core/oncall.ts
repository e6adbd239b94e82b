/**
 * On-call rotations: people take turns in shifts of a fixed length, handing off at a set local
 * time in a time zone; an override puts someone else on call for a while (a swap, a sick day).
 * A policy step pages `rotation:<name>` (each contact of whoever is on call) or
 * `rotation:<name>:<method>` (one of them), resolved when the step is due, so a handoff or an
 * override between two steps changes who the next step pages.
 *
 * Pure: the caller passes the instant (the store's clock) and the overrides it read.
 * Shifts of whole days are counted in local calendar days, so the handoff keeps its local hour
 * across daylight-saving changes; shorter shifts (12h, 8h) are fixed lengths from the start.
 */
import { DateTime } from "luxon";
import { parseDuration } from "./duration.js";
import { OverseerError } from "./errors.js";

const DAY_MS = 86_400_000;

export interface Rotation {
  name: string;
  /** In turn order; the first takes the shift that begins at `start`. */
  people: string[];
  /** IANA time zone `start` is read in. */
  timezone: string;
  /** The first shift's start as local date and time, `2026-12-07T09:00`. */
  start: string;
  /** A shift's length in ms: whole days (1d, 7d) or a fixed number of hours. */
  shiftMs: number;
}

/** Someone on call in place of the rotation's own person, from `startsAt` until `endsAt`. */
export interface OncallOverride {
  id: number;
  rotation: string;
  person: string;
  startsAt: string;
  endsAt: string;
  reason: string | null;
  createdBy: string;
  createdAt: string;
  /** Cancelled overrides stay in the history and put nobody on call. */
  cancelledBy: string | null;
  cancelledAt: string | null;
}

export interface Shift {
  person: string;
  /** Epoch ms. */
  from: number;
  until: number;
}

export interface OnCall {
  rotation: string;
  /** Who is on call: the override's person while one is active, else the shift's. */
  person: string;
  /** The rotation's own shift at that instant. */
  shift: Shift;
  /** The override in force, if any. */
  override: OncallOverride | null;
  /** When this stops being true: the shift's end, the override's end or the next override's start. */
  until: number;
}

/** The local instant the rotation starts, as epoch ms; NaN when `start` or the zone is invalid. */
export function rotationStartMs(rotation: Pick<Rotation, "start" | "timezone">): number {
  const start = DateTime.fromISO(rotation.start, { zone: rotation.timezone });
  return start.isValid ? start.toMillis() : Number.NaN;
}

/** The rotation's own shift (no overrides) at `atMs`; before `start`, the turns run backwards in order. */
export function shiftAt(rotation: Rotation, atMs: number): Shift {
  const n = rotation.people.length;
  const whole = rotation.shiftMs % DAY_MS === 0;
  let index: number;
  let from: number;
  let until: number;
  if (whole) {
    const days = rotation.shiftMs / DAY_MS;
    const start = DateTime.fromISO(rotation.start, { zone: rotation.timezone });
    const local = DateTime.fromMillis(atMs, { zone: rotation.timezone });
    // Local calendar days since the start's day, less one before the day's handoff time.
    let elapsed = Math.round(local.startOf("day").diff(start.startOf("day"), "days").days);
    if (local.toFormat("HH:mm:ss.SSS") < start.toFormat("HH:mm:ss.SSS")) elapsed -= 1;
    index = Math.floor(elapsed / days);
    // A handoff time that falls in a daylight-saving gap moves forward: until then, the shift before.
    if (start.plus({ days: index * days }).toMillis() > atMs) index -= 1;
    from = start.plus({ days: index * days }).toMillis();
    until = start.plus({ days: (index + 1) * days }).toMillis();
  } else {
    const start = rotationStartMs(rotation);
    index = Math.floor((atMs - start) / rotation.shiftMs);
    from = start + index * rotation.shiftMs;
    until = from + rotation.shiftMs;
  }
  return { person: rotation.people[((index % n) + n) % n] as string, from, until };
}

/** Whether an override puts its person on call at `atMs`. */
export function overrideActive(o: OncallOverride, atMs: number): boolean {
  return o.cancelledAt === null && Date.parse(o.startsAt) <= atMs && atMs < Date.parse(o.endsAt);
}

/**
 * Who is on call in `rotation` at `atMs`, given its overrides (any order; others' are ignored).
 * Of overlapping overrides the newest (highest id) wins.
 */
export function onCallAt(rotation: Rotation, overrides: readonly OncallOverride[], atMs: number): OnCall {
  const shift = shiftAt(rotation, atMs);
  const mine = overrides.filter((o) => o.rotation === rotation.name && o.cancelledAt === null);
  let override: OncallOverride | null = null;
  for (const o of mine) if (overrideActive(o, atMs) && (override === null || o.id > override.id)) override = o;
  // The answer holds until the shift ends, an override ends, or one starts.
  let until = shift.until;
  for (const o of mine) {
    const startsAt = Date.parse(o.startsAt);
    if (startsAt > atMs) until = Math.min(until, startsAt);
    if (overrideActive(o, atMs)) until = Math.min(until, Date.parse(o.endsAt));
  }
  return { rotation: rotation.name, person: override?.person ?? shift.person, shift, override, until };
}

/**
 * Who comes on call next after `atMs`, and when: the first later moment someone else is on call
 * (a one-person rotation without overrides has nobody next: null).
 */
export function nextOnCall(
  rotation: Rotation,
  overrides: readonly OncallOverride[],
  atMs: number,
): { person: string; at: number; override: OncallOverride | null } | null {
  const now = onCallAt(rotation, overrides, atMs);
  let at = now.until;
  // Every step moves to a later boundary; bounded for a rotation of one person, who is always next.
  for (let i = 0; i < 64; i++) {
    const then = onCallAt(rotation, overrides, at);
    if (then.person !== now.person) return { person: then.person, at, override: then.override };
    at = then.until;
  }
  return null;
}

/** A notify target naming a rotation: `rotation:<name>`, or one contact method, `rotation:<name>:<method>`. */
export function parseRotationTarget(target: string): { rotation: string; method: string | null } | null {
  const m = /^rotation:([^:]+)(?::([^:]+))?$/.exec(target);
  return m === null ? null : { rotation: m[1] as string, method: m[2] ?? null };
}

// -- escalation ---------------------------------------------------------------------------------

/**
 * What a policy needs to page rotations when a step comes due, kept with the policy in each
 * alert (as the policy is): the rotations it names, and for each person who may be on call the
 * targets `person:<name>` stands for (their contact methods).
 */
export interface PolicyOncall {
  rotations: Record<string, Rotation>;
  people: Record<string, string[]>;
}

/** Who a rotation target was resolved to when its step came due (kept in `alert.escalated`). */
export interface OnCallPaged {
  rotation: string;
  person: string;
  overrideId: number | null;
}

/**
 * A step's targets as they are paged at `atMs`: each `rotation:<name>[:<method>]` replaced by
 * whoever is on call then (`person:<who>[:<method>]`, or each of their contacts), others kept.
 * A rotation the policy does not know is kept as written, so its send fails visibly.
 */
export function resolveRotationTargets(
  targets: readonly string[],
  oncall: PolicyOncall | undefined,
  overrides: readonly OncallOverride[],
  atMs: number,
): { targets: string[]; paged: OnCallPaged[] } {
  const paged: OnCallPaged[] = [];
  const resolved = targets.flatMap((target) => {
    const named = parseRotationTarget(target);
    const rotation = named === null ? undefined : oncall?.rotations[named.rotation];
    if (named === null || rotation === undefined) return [target];
    const now = onCallAt(rotation, overrides, atMs);
    if (!paged.some((p) => p.rotation === rotation.name)) {
      paged.push({ rotation: rotation.name, person: now.person, overrideId: now.override?.id ?? null });
    }
    if (named.method !== null) return [`person:${now.person}:${named.method}`];
    return oncall?.people[now.person] ?? [`person:${now.person}`];
  });
  return { targets: [...new Set(resolved)], paged };
}

/** The rotations named by rotation targets among `targets`. */
export function rotationsNamed(targets: readonly string[]): string[] {
  return [...new Set(targets.flatMap((t) => parseRotationTarget(t)?.rotation ?? []))];
}

// -- overrides ----------------------------------------------------------------------------------

/** The longest override: a year. */
export const MAX_OVERRIDE_MS = 366 * DAY_MS;

export interface NewOncallOverride {
  rotation: string;
  person: string;
  /** Epoch ms. */
  startsAt: number;
  endsAt: number;
  reason: string | null;
  by: string;
}

/** A rotation's status for people: who is on call now, who is next and when, and the overrides ahead. */
export interface RotationStatus {
  name: string;
  timezone: string;
  people: string[];
  shiftMs: number;
  start: string;
  now: { person: string; since: string; until: string; override: OncallOverride | null };
  next: { person: string; at: string; override: OncallOverride | null } | null;
  /** Overrides in force now or later, soonest first. */
  upcoming: OncallOverride[];
}

/** Where a rotation stands at `atMs`, for `overseer oncall`, the API and the dashboard. */
export function rotationStatus(rotation: Rotation, overrides: readonly OncallOverride[], atMs: number): RotationStatus {
  const mine = overrides.filter((o) => o.rotation === rotation.name && o.cancelledAt === null);
  const now = onCallAt(rotation, mine, atMs);
  const next = nextOnCall(rotation, mine, atMs);
  const since = now.override === null ? now.shift.from : Date.parse(now.override.startsAt);
  return {
    name: rotation.name,
    timezone: rotation.timezone,
    people: [...rotation.people],
    shiftMs: rotation.shiftMs,
    start: rotation.start,
    now: {
      person: now.person,
      since: new Date(since).toISOString(),
      until: new Date(now.until).toISOString(),
      override: now.override,
    },
    next: next === null ? null : { person: next.person, at: new Date(next.at).toISOString(), override: next.override },
    upcoming: mine
      .filter((o) => Date.parse(o.endsAt) > atMs)
      .sort((a, b) => Date.parse(a.startsAt) - Date.parse(b.startsAt) || a.id - b.id),
  };
}

/** An override as people ask for it: from a time (default now) until a time, or for a while. */
export interface OverrideRequest {
  rotation: string;
  person: string;
  /** ISO 8601 time or epoch ms; default now. */
  from?: string | number | null;
  /** ISO 8601 time or epoch ms; give this or `for`. */
  until?: string | number | null;
  /** A duration (`4h`, `2d`) from `from`; give this or `until`. */
  for?: string | number | null;
  reason?: string | null;
  by: string;
}

const MAX_REASON = 500;

/**
 * The override a request stands for, at `nowMs`: ROTATION_NOT_FOUND for a rotation not
 * configured, INVALID_ARGUMENT (naming the field) for a person not in `people`, a time that is no
 * time, both or neither of `until` and `for`, or a reason over 500 characters. The store checks
 * the times against each other and its clock.
 */
export function overrideFrom(
  request: OverrideRequest,
  nowMs: number,
  rotations: Readonly<Record<string, Rotation>>,
  people: readonly string[],
): NewOncallOverride {
  if (!Object.hasOwn(rotations, request.rotation)) {
    const known = Object.keys(rotations).sort();
    throw new OverseerError(
      "ROTATION_NOT_FOUND",
      `no rotation "${request.rotation}" (${known.length === 0 ? "the config has no alerts.rotations" : `configured: ${known.join(", ")}`})`,
      { rotation: request.rotation },
    );
  }
  if (!people.includes(request.person)) {
    throw new OverseerError(
      "INVALID_ARGUMENT",
      `person: "${request.person}" is nobody in the config's alerts.people (${[...people].sort().join(", ") || "none"})`,
      { field: "person" },
    );
  }
  const startsAt = request.from === undefined || request.from === null ? nowMs : instant(request.from, "from");
  const hasUntil = request.until !== undefined && request.until !== null;
  const hasFor = request.for !== undefined && request.for !== null;
  if (hasUntil === hasFor) {
    throw new OverseerError("INVALID_ARGUMENT", "give until (a time) or for (a duration such as 4h), not both", {
      field: "until",
    });
  }
  const endsAt = hasUntil
    ? instant(request.until as string | number, "until")
    : startsAt + parseDuration(request.for as string | number, "for");
  const reason = request.reason ?? null;
  if (reason !== null && (typeof reason !== "string" || reason.length > MAX_REASON)) {
    throw new OverseerError("INVALID_ARGUMENT", `reason must be text of at most ${MAX_REASON} characters`, {
      field: "reason",
    });
  }
  return { rotation: request.rotation, person: request.person, startsAt, endsAt, reason, by: request.by };
}

/** An ISO 8601 time with a zone (or epoch ms) as epoch ms; INVALID_ARGUMENT naming `field` otherwise. */
function instant(value: string | number, field: string): number {
  const ms =
    typeof value === "number" ? value : /(Z|[+-]\d{2}:?\d{2})$/i.test(value.trim()) ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms)) {
    throw new OverseerError(
      "INVALID_ARGUMENT",
      `${field} must be a time with its zone, such as 2026-12-08T09:00:00Z or 2026-12-08T10:00+01:00, got ${JSON.stringify(value)}`,
      { field },
    );
  }
  return ms;
}
