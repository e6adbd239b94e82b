/**
 * Schedules in the SQLite store. Each function runs inside the caller's write transaction.
 * A tick fires at most once: its row in schedule_ticks (primary key schedule + tick) is inserted
 * in the same transaction as its job, and a conflict means another process fired it first.
 */
import { OverseerError } from "../../core/errors.js";
import type { NewJob } from "../../core/job-options.js";
import type { Job, ScheduleDefinition, ScheduleRecord } from "../../core/types.js";
import { iso, type ScheduleRow, toSchedule } from "../rows.js";
import { planScheduleSync } from "../schedule-sync.js";
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
  const { steps, result } = planScheduleSync(conn.stmt(sql.LIST_SCHEDULES).all() as ScheduleRow[], defs, now);
  for (const step of steps) {
    conn.stmt(SYNC_STATEMENTS[step.statement]).run(...step.params);
    conn.event(now, step.event.kind, null, null, step.event.data);
  }
  return result;
}

const SYNC_STATEMENTS = {
  insert: sql.INSERT_SCHEDULE,
  update: sql.UPDATE_SCHEDULE,
  remove: sql.MARK_SCHEDULE_REMOVED,
} as const;

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
