/**
 * Syncing the stored schedules with the config's definitions, the same for every backend: what
 * to insert, update or mark removed, and the event each change appends. Each backend runs the
 * plan's steps with its own statements (INSERT_SCHEDULE, UPDATE_SCHEDULE, MARK_SCHEDULE_REMOVED,
 * whose parameters are in the same order in both).
 */
import { OverseerError } from "../core/errors.js";
import type { ScheduleDefinition } from "../core/types.js";
import type { ScheduleRow } from "./rows.js";
import type { SyncSchedulesResult } from "./store.js";

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
    const definition = [d.name, d.cron, d.timezone, d.task, d.payloadJson, d.queue, d.priority, d.catchUp];
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
  ];
  return pairs.filter(([, a, b]) => a !== b).map(([field]) => field);
}
