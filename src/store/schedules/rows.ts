/**
 * Schedules as both backends store them (same tables and columns, see migration 002), their
 * mapping to records, and the sync with a config's definitions: what to insert, update or mark
 * removed, and the event each change appends. Pure: operations.ts runs the plan's steps.
 */
import { OverseerError } from "../../core/errors.js";
import { nextTick } from "../../core/schedule.js";
import type { ScheduleDefinition, ScheduleRecord } from "../../core/types.js";
import { iso } from "../rows.js";
import type { SyncSchedulesResult } from "../store.js";

export interface ScheduleRow {
  name: string;
  cron: string;
  timezone: string;
  task: string;
  payload: string;
  queue: string | null;
  priority: number | null;
  catch_up: number;
  max_attempts: number | null;
  backoff: string | null;
  enabled: number;
  config_enabled: number;
  removed_at: number | null;
  last_tick_at: number | null;
  active_since: number;
  created_at: number;
  updated_at: number;
}

/** `nextRunAt` is the first tick after both now and the last tick, for active schedules only. */
export function toSchedule(r: ScheduleRow, now: number): ScheduleRecord {
  const active = r.enabled === 1 && r.removed_at === null;
  const next = active ? nextTick(r.cron, r.timezone, Math.max(now, r.last_tick_at ?? now)) : null;
  return {
    name: r.name,
    cron: r.cron,
    timezone: r.timezone,
    task: r.task,
    payload: JSON.parse(r.payload),
    queue: r.queue,
    priority: r.priority,
    catchUp: r.catch_up,
    maxAttempts: r.max_attempts,
    backoff: r.backoff === null ? null : JSON.parse(r.backoff),
    enabled: r.enabled === 1,
    removed: r.removed_at !== null,
    lastTickAt: r.last_tick_at === null ? null : iso(r.last_tick_at),
    nextRunAt: next === null ? null : iso(next),
    activeSince: iso(r.active_since),
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  };
}

/** Tick rows are only needed while a scheduler could still race for them; a day is ample. */
export const TICK_RETENTION_MS = 24 * 3_600_000;

export interface ScheduleSyncStep {
  statement: "insert" | "update" | "remove";
  params: Array<string | number | null>;
  event: { kind: "schedule.added" | "schedule.updated" | "schedule.removed"; data: object };
}

/** The steps that bring `rows` (every stored schedule) in line with `defs`, at `now`. */
export function planScheduleSync(
  rows: readonly ScheduleRow[],
  defs: readonly ScheduleDefinition[],
  now: number,
): { steps: ScheduleSyncStep[]; result: SyncSchedulesResult } {
  const steps: ScheduleSyncStep[] = [];
  const result: SyncSchedulesResult = { added: [], updated: [], removed: [] };
  const existing = new Map(rows.map((r) => [r.name, r]));
  const seen = new Set<string>();
  for (const d of defs) {
    if (seen.has(d.name)) {
      throw new OverseerError("INVALID_ARGUMENT", `schedule "${d.name}" is defined twice`, { field: d.name });
    }
    seen.add(d.name);
    const definition = [
      d.name,
      d.cron,
      d.timezone,
      d.task,
      d.payloadJson,
      d.queue,
      d.priority,
      d.catchUp,
      d.maxAttempts ?? null,
      d.backoffJson ?? null,
    ];
    const row = existing.get(d.name);
    if (!row) {
      steps.push({
        statement: "insert",
        params: [...definition, d.enabled ? 1 : 0, now],
        event: { kind: "schedule.added", data: { schedule: d.name, cron: d.cron, task: d.task } },
      });
      result.added.push(d.name);
      continue;
    }
    const returning = row.removed_at !== null;
    const configEnabled = d.enabled ? 1 : 0;
    // The config's enabled value wins only when it changed there; otherwise the stored flag (set
    // by `schedules enable/disable`) is kept.
    const enabled = row.config_enabled === configEnabled ? row.enabled : configEnabled;
    const changed = changedFields(row, d);
    if (!returning && changed.length === 0 && row.config_enabled === configEnabled) continue;
    const reactivated = returning || (row.enabled === 0 && enabled === 1);
    const params = [...definition, enabled, configEnabled, reactivated ? now : row.active_since, now];
    if (returning) {
      const data = { schedule: d.name, cron: d.cron, task: d.task, returning: true };
      steps.push({ statement: "update", params, event: { kind: "schedule.added", data } });
      result.added.push(d.name);
    } else {
      if (row.config_enabled !== configEnabled) changed.push("enabled");
      steps.push({
        statement: "update",
        params,
        event: { kind: "schedule.updated", data: { schedule: d.name, changed } },
      });
      result.updated.push(d.name);
    }
  }
  for (const row of rows) {
    if (seen.has(row.name) || row.removed_at !== null) continue;
    steps.push({
      statement: "remove",
      params: [now, row.name],
      event: { kind: "schedule.removed", data: { schedule: row.name } },
    });
    result.removed.push(row.name);
  }
  return { steps, result };
}

/** The names of the fields whose stored value differs from the definition's (reported in `schedule.updated`). */
function changedFields(row: ScheduleRow, d: ScheduleDefinition): string[] {
  const pairs: Array<[string, unknown, unknown]> = [
    ["cron", row.cron, d.cron],
    ["timezone", row.timezone, d.timezone],
    ["task", row.task, d.task],
    ["payload", row.payload, d.payloadJson],
    ["queue", row.queue, d.queue],
    ["priority", row.priority, d.priority],
    ["catchUp", row.catch_up, d.catchUp],
    ["maxAttempts", row.max_attempts, d.maxAttempts ?? null],
    ["backoff", row.backoff, d.backoffJson ?? null],
  ];
  return pairs.filter(([, a, b]) => a !== b).map(([field]) => field);
}
