/**
 * Schedules in the SQLite store. Each function runs inside the caller's write transaction.
 * A tick fires at most once: its row in schedule_ticks (primary key schedule + tick) is inserted
 * in the same transaction as its job, and a conflict means another process fired it first.
 */
import { OverseerError } from "../../core/errors.js";
import type { NewJob } from "../../core/job-options.js";
import type { Job, ScheduleDefinition, ScheduleRecord } from "../../core/types.js";
import { iso, type ScheduleRow, toSchedule } from "../rows.js";
import { changedFields } from "../schedule-fields.js";
import type { EnqueueResult, FireTickResult, SyncSchedulesResult } from "../store.js";
import type { SqliteConnection } from "./connection.js";
import * as sql from "./statements.js";

type InsertJob = (job: NewJob, now: number) => EnqueueResult;

/** Tick rows are only needed while a scheduler could still race for them; a day is ample. */
const TICK_RETENTION_MS = 24 * 3_600_000;

export function syncSchedulesInTransaction(
  conn: SqliteConnection,
  defs: readonly ScheduleDefinition[],
  now: number,
): SyncSchedulesResult {
  const result: SyncSchedulesResult = { added: [], updated: [], removed: [] };
  const existing = new Map((conn.stmt(sql.LIST_SCHEDULES).all() as ScheduleRow[]).map((r) => [r.name, r]));
  const seen = new Set<string>();
  for (const d of defs) {
    if (seen.has(d.name)) {
      throw new OverseerError("INVALID_ARGUMENT", `schedule "${d.name}" is defined twice`, { field: d.name });
    }
    seen.add(d.name);
    const row = existing.get(d.name);
    if (!row) {
      conn
        .stmt(sql.INSERT_SCHEDULE)
        .run(d.name, d.cron, d.timezone, d.task, d.payloadJson, d.queue, d.priority, d.catchUp, d.enabled ? 1 : 0, now);
      conn.event(now, "schedule.added", null, null, { schedule: d.name, cron: d.cron, task: d.task });
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
    conn
      .stmt(sql.UPDATE_SCHEDULE)
      .run(
        d.name,
        d.cron,
        d.timezone,
        d.task,
        d.payloadJson,
        d.queue,
        d.priority,
        d.catchUp,
        enabled,
        configEnabled,
        reactivated ? now : row.active_since,
        now,
      );
    if (returning) {
      conn.event(now, "schedule.added", null, null, { schedule: d.name, cron: d.cron, task: d.task, returning: true });
      result.added.push(d.name);
    } else {
      if (row.config_enabled !== configEnabled) changed.push("enabled");
      conn.event(now, "schedule.updated", null, null, { schedule: d.name, changed });
      result.updated.push(d.name);
    }
  }
  for (const row of existing.values()) {
    if (seen.has(row.name) || row.removed_at !== null) continue;
    conn.stmt(sql.MARK_SCHEDULE_REMOVED).run(now, row.name);
    conn.event(now, "schedule.removed", null, null, { schedule: row.name });
    result.removed.push(row.name);
  }
  return result;
}

export function listSchedulesNow(conn: SqliteConnection, now: number): ScheduleRecord[] {
  return (conn.stmt(sql.LIST_SCHEDULES).all() as ScheduleRow[]).map((r) => toSchedule(r, now));
}

export function setScheduleEnabledInTransaction(
  conn: SqliteConnection,
  name: string,
  enabled: boolean,
  now: number,
): ScheduleRecord {
  const row = requireSchedule(conn, name);
  if ((row.enabled === 1) !== enabled) {
    // Enabling starts afresh: ticks missed while disabled are not owed.
    conn.stmt(sql.SET_SCHEDULE_ENABLED).run(enabled ? 1 : 0, enabled ? now : row.active_since, now, name);
    conn.event(now, enabled ? "schedule.enabled" : "schedule.disabled", null, null, { schedule: name });
  }
  return toSchedule(requireSchedule(conn, name), now);
}

export function fireTickInTransaction(
  conn: SqliteConnection,
  insertJob: InsertJob,
  name: string,
  tick: number,
  job: NewJob,
  now: number,
): FireTickResult {
  const row = requireSchedule(conn, name);
  const notFired: FireTickResult = { fired: false, job: null };
  if (row.enabled !== 1 || row.removed_at !== null || tick < row.active_since) return notFired;
  // Ticks fire in order: a scheduler with an old view of the schedule cannot fire a tick older
  // than one already fired, even after that tick's row has been pruned.
  if (row.last_tick_at !== null && tick <= row.last_tick_at) return notFired;
  if (conn.stmt(sql.INSERT_SCHEDULE_TICK).run(name, tick, job.id, now).changes !== 1) return notFired;
  const { job: enqueued } = insertJob(job, now);
  conn.stmt(sql.RECORD_SCHEDULE_TICK).run(tick, name);
  conn.stmt(sql.PRUNE_SCHEDULE_TICKS).run(name, tick - TICK_RETENTION_MS);
  conn.event(now, "schedule.fired", enqueued.id, null, { schedule: name, tick: iso(tick) });
  return { fired: true, job: enqueued };
}

export function runNowInTransaction(
  conn: SqliteConnection,
  insertJob: InsertJob,
  name: string,
  job: NewJob,
  now: number,
): Job {
  requireSchedule(conn, name);
  const { job: enqueued } = insertJob(job, now);
  conn.event(now, "schedule.triggered", enqueued.id, null, { schedule: name });
  return enqueued;
}

function requireSchedule(conn: SqliteConnection, name: string): ScheduleRow {
  const row = conn.stmt(sql.GET_SCHEDULE).get(name) as ScheduleRow | undefined;
  if (!row) throw new OverseerError("SCHEDULE_NOT_FOUND", `no schedule named "${name}"`, { name });
  return row;
}
