/** Comparing a stored schedule with its definition in the config, the same for every backend. */
import type { ScheduleDefinition } from "../core/types.js";
import type { ScheduleRow } from "./rows.js";

/** The names of the fields whose stored value differs from the definition's (reported in `schedule.updated`). */
export function changedFields(row: ScheduleRow, d: ScheduleDefinition): string[] {
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
