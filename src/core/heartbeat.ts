/**
 * Heartbeat monitors: an outside job (a backup, a cron on another box) pings Overseer by name
 * at least once per interval. One that goes quiet for longer than its interval is `late`: an
 * alert is raised for it (source `heartbeat`, dedup key `heartbeat:<name>`), and its next ping
 * closes that alert. Shapes and pure rules here; the stores apply them in their transactions.
 * Invariant: a heartbeat raises at most one alert per lateness, however many processes check.
 */
import type { EscalationPolicy, NewAlert } from "./alert.js";
import { formatDuration } from "./duration.js";
import { OverseerError } from "./errors.js";
import type { HeartbeatState } from "./states.js";

export { HEARTBEAT_STATES, type HeartbeatState } from "./states.js";

/** A heartbeat as the config defines it, its policy already resolved by name. */
export interface HeartbeatDefinition {
  name: string;
  /** A ping is owed at least this often. */
  intervalMs: number;
  /** Who is paged when it is late; null: the alert is raised and shown, nobody is paged. */
  policy: EscalationPolicy | null;
}

export interface Heartbeat {
  name: string;
  intervalMs: number;
  policyName: string | null;
  state: HeartbeatState;
  lastPingAt: string | null;
  /** When it turns late without a ping: last ping (or first sync, never pinged) + interval. */
  dueAt: string;
  /** The open alert while late; null while ok. */
  alertId: string | null;
  createdAt: string;
  updatedAt: string;
}

const NAME = /^[A-Za-z0-9._:-]{1,100}$/;
const MIN_INTERVAL_MS = 1_000;
const MAX_INTERVAL_MS = 366 * 24 * 3_600_000;

export function checkHeartbeatName(name: string): void {
  if (typeof name !== "string" || !NAME.test(name)) {
    throw new OverseerError("INVALID_ARGUMENT", "a heartbeat name must be 1-100 characters of [A-Za-z0-9._:-]", {
      field: "name",
    });
  }
}

/** Checks definitions at the boundary (sync): valid, distinct names and intervals from 1 s to 366 days. */
export function checkHeartbeatDefinitions(defs: readonly HeartbeatDefinition[]): void {
  const seen = new Set<string>();
  for (const def of defs) {
    checkHeartbeatName(def.name);
    if (seen.has(def.name)) {
      throw new OverseerError("INVALID_ARGUMENT", `heartbeat "${def.name}" is defined twice`, { field: "name" });
    }
    seen.add(def.name);
    if (!Number.isInteger(def.intervalMs) || def.intervalMs < MIN_INTERVAL_MS || def.intervalMs > MAX_INTERVAL_MS) {
      throw new OverseerError("INVALID_ARGUMENT", `heartbeat "${def.name}" interval must be from 1s to 366 days`, {
        field: "interval",
        name: def.name,
      });
    }
  }
}

/** Late exactly at `dueAt`, not a millisecond before (as escalation steps are due). */
export function isLate(heartbeat: { state: HeartbeatState; dueAt: number }, now: number): boolean {
  return heartbeat.state === "ok" && now >= heartbeat.dueAt;
}

export function heartbeatDedupKey(name: string): string {
  return `heartbeat:${name}`;
}

/** The alert a late heartbeat raises. */
export function lateHeartbeatAlert(
  heartbeat: { name: string; intervalMs: number; lastPingAt: string | null; dueAt: string },
  policy: EscalationPolicy | null,
  id: string,
): NewAlert {
  const quiet = heartbeat.lastPingAt === null ? "never pinged" : `no ping since ${heartbeat.lastPingAt}`;
  return {
    id,
    source: "heartbeat",
    summary: `heartbeat "${heartbeat.name}" is late: ${quiet} (interval ${formatDuration(heartbeat.intervalMs)})`,
    details: {
      heartbeat: heartbeat.name,
      intervalMs: heartbeat.intervalMs,
      lastPingAt: heartbeat.lastPingAt,
      dueAt: heartbeat.dueAt,
    },
    dedupKey: heartbeatDedupKey(heartbeat.name),
    policy,
  };
}

export function heartbeatNotFound(name: string): OverseerError {
  return new OverseerError("HEARTBEAT_NOT_FOUND", `no heartbeat named "${name}"; see GET /api/v1/heartbeats`, {
    name,
  });
}
