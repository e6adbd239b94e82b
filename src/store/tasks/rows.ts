/**
 * The task registry as both backends store it (same table and columns, see migration 016): rows
 * and their mapping to records, and the names a worker's registration upserts, sorted and
 * without repeats so concurrent registrations touch shared rows in one order.
 */
import type { TaskRecord } from "../../core/known-tasks.js";
import { iso } from "../rows.js";
import type { WorkerRegistration } from "../store.js";

export interface TaskRow {
  name: string;
  first_seen_at: number;
  last_seen_at: number;
}

export function toTask(row: TaskRow): TaskRecord {
  return { name: row.name, firstSeenAt: iso(Number(row.first_seen_at)), lastSeenAt: iso(Number(row.last_seen_at)) };
}

export function registeredTaskNames(worker: WorkerRegistration): string[] {
  return [...new Set(worker.tasks)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
