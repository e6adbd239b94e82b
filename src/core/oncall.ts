/**
 * On-call rotations: people take turns in shifts of a fixed length, handing off at a set local
 * time in a time zone; an override puts someone else on call for a while (a swap, a sick day).
 * A policy step pages `rotation:<name>` (each contact of whoever is on call) or
 * `rotation:<name>:<method>` (one of them), resolved when the step is due, so a handoff or an
 * override between two steps changes who the next step pages.
 *
 * Pure: the caller passes the instant (the store's clock) and the overrides it read.
 * Shifts of whole days, and shifts that divide a day (12h, 8h), are counted in local calendar
 * days, so handoffs keep their local times across daylight-saving changes; other lengths are
 * fixed steps from the start.
 */
import { DateTime } from "luxon";
import type { EscalationPolicy } from "./alert.js";
import { parseDuration } from "./duration.js";
import { OverseerError } from "./errors.js";
import { CONTACT_FIELD, CONTACT_METHODS, type ContactMethod, contactOf, type PersonContacts } from "./people.js";

const HOUR_MS = 3_600_000;
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

/**
 * When shift `k` starts (shift 0 at `start`), epoch ms. Shifts of whole days step local calendar
 * days; shifts that divide a day (12h, 8h...) step local days too, then hours within the day,
 * so their handoffs keep their local times across daylight saving (the shift spanning a change
 * is an hour longer or shorter); other lengths are fixed steps from the start.
 */
function shiftStart(rotation: Rotation, start: DateTime, k: number): number {
  const hours = rotation.shiftMs / HOUR_MS;
  if (rotation.shiftMs % DAY_MS === 0) return start.plus({ days: k * (rotation.shiftMs / DAY_MS) }).toMillis();
  if (24 % hours === 0) {
    const perDay = 24 / hours;
    const day = Math.floor(k / perDay);
    return start
      .plus({ days: day })
      .plus({ hours: (k - day * perDay) * hours })
      .toMillis();
  }
  return start.toMillis() + k * rotation.shiftMs;
}

/** The rotation's own shift (no overrides) at `atMs`; before `start`, the turns run backwards in order. */
export function shiftAt(rotation: Rotation, atMs: number): Shift {
  const start = DateTime.fromISO(rotation.start, { zone: rotation.timezone });
  // A guess from the fixed length, then corrected both ways against the real local boundaries
  // (a handoff time repeated or skipped by a daylight-saving change included).
  let k = Math.floor((atMs - start.toMillis()) / rotation.shiftMs);
  while (shiftStart(rotation, start, k + 1) <= atMs) k++;
  while (shiftStart(rotation, start, k) > atMs) k--;
  const n = rotation.people.length;
  return {
    person: rotation.people[((k % n) + n) % n] as string,
    from: shiftStart(rotation, start, k),
    until: shiftStart(rotation, start, k + 1),
  };
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
  // The answer holds until the override in force ends (the shifts beneath it do not matter) or
  // the shift ends, or until an override starts that would win.
  let until = override === null ? shift.until : Date.parse(override.endsAt);
  for (const o of mine) {
    const startsAt = Date.parse(o.startsAt);
    if (startsAt > atMs && (override === null || o.id > override.id)) until = Math.min(until, startsAt);
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
  for (let i = 0; i < 200; i++) {
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
      // Until someone else takes over: a boundary where the same person stays on does not count.
      until: new Date(next?.at ?? now.until).toISOString(),
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
  people: Readonly<Record<string, PersonContacts>>,
  policies: Readonly<Record<string, EscalationPolicy>> = {},
): NewOncallOverride {
  if (!Object.hasOwn(rotations, request.rotation)) {
    const known = Object.keys(rotations).sort();
    throw new OverseerError(
      "ROTATION_NOT_FOUND",
      `no rotation "${request.rotation}" (${known.length === 0 ? "the config has no alerts.rotations" : `configured: ${known.join(", ")}`})`,
      { rotation: request.rotation },
    );
  }
  const contacts = Object.hasOwn(people, request.person) ? people[request.person] : undefined;
  if (contacts === undefined) {
    throw new OverseerError(
      "INVALID_ARGUMENT",
      `person: "${request.person}" is nobody in the config's alerts.people (${Object.keys(people).sort().join(", ") || "none"})`,
      { field: "person" },
    );
  }
  // Whoever stands in must be reachable as the policies page the rotation (a call needs a phone).
  const lacking = methodsPaging(request.rotation, policies).filter((m) => contactOf(contacts, m) === undefined);
  if (lacking.length > 0) {
    throw new OverseerError(
      "INVALID_ARGUMENT",
      `person: ${request.person} cannot be paged as rotation ${request.rotation}'s steps page it (${lacking.map((m) => `rotation:${request.rotation}:${m}`).join(", ")}): no ${[...new Set(lacking.map((m) => CONTACT_FIELD[m]))].join(" or ")} contact`,
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

/** The contact methods the policies' steps page `rotation` through (`rotation:<name>:<method>`). */
export function methodsPaging(rotation: string, policies: Readonly<Record<string, EscalationPolicy>>): ContactMethod[] {
  const methods = new Set<ContactMethod>();
  for (const policy of Object.values(policies)) {
    for (const target of policy.steps.flatMap((step) => step.notify)) {
      const named = parseRotationTarget(target);
      if (named?.rotation === rotation && (CONTACT_METHODS as readonly string[]).includes(named.method ?? "")) {
        methods.add(named.method as ContactMethod);
      }
    }
  }
  return [...methods];
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
