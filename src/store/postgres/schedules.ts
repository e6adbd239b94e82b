/**
 * Schedules in the PostgreSQL store. Each function runs inside the caller's transaction.
 * A tick fires at most once: its row in schedule_ticks (primary key schedule + tick) is inserted
 * in the same transaction as its job, and a conflict means another process fired it first.
 * Syncs take one advisory lock so that processes syncing the same config at once do not both
 * insert a new name; other changes lock the schedule's row.
 */
import { OverseerError } from "../../core/errors.js";
import type { NewJob } from "../../core/job-options.js";
import type { Job, ScheduleDefinition, ScheduleRecord } from "../../core/types.js";
import { iso, type ScheduleRow, toSchedule } from "../rows.js";
import { changedFields } from "../schedule-fields.js";
import type { EnqueueResult, FireTickResult, SyncSchedulesResult } from "../store.js";
import { LOCK, type PgConnection, type Tx } from "./connection.js";
import * as sql from "./statements.js";

type InsertJob = (tx: Tx, job: NewJob) => Promise<EnqueueResult>;

/** Tick rows are only needed while a scheduler could still race for them; a day is ample. */
const TICK_RETENTION_MS = 24 * 3_600_000;

export async function syncSchedulesInTransaction(
  tx: Tx,
  defs: readonly ScheduleDefinition[],
): Promise<SyncSchedulesResult> {
  const now = tx.now;
  await tx.lock(LOCK.schedules, "sync");
  const result: SyncSchedulesResult = { added: [], updated: [], removed: [] };
  const existing = new Map((await tx.rows<ScheduleRow>(sql.LIST_SCHEDULES)).map((r) => [r.name, r]));
  const seen = new Set<string>();
  for (const d of defs) {
    if (seen.has(d.name)) {
      throw new OverseerError("INVALID_ARGUMENT", `schedule "${d.name}" is defined twice`, { field: d.name });
    }
    seen.add(d.name);
    const row = existing.get(d.name);
    if (!row) {
      await tx.run(sql.INSERT_SCHEDULE, [
        d.name,
        d.cron,
        d.timezone,
        d.task,
        d.payloadJson,
        d.queue,
        d.priority,
        d.catchUp,
        d.enabled ? 1 : 0,
        now,
      ]);
      tx.event("schedule.added", null, null, { schedule: d.name, cron: d.cron, task: d.task });
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
    await tx.run(sql.UPDATE_SCHEDULE, [
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
    ]);
    if (returning) {
      tx.event("schedule.added", null, null, { schedule: d.name, cron: d.cron, task: d.task, returning: true });
      result.added.push(d.name);
    } else {
      if (row.config_enabled !== configEnabled) changed.push("enabled");
      tx.event("schedule.updated", null, null, { schedule: d.name, changed });
      result.updated.push(d.name);
    }
  }
  for (const row of existing.values()) {
    if (seen.has(row.name) || row.removed_at !== null) continue;
    await tx.run(sql.MARK_SCHEDULE_REMOVED, [now, row.name]);
    tx.event("schedule.removed", null, null, { schedule: row.name });
    result.removed.push(row.name);
  }
  return result;
}

export async function listSchedulesNow(conn: PgConnection): Promise<ScheduleRecord[]> {
  const now = await conn.now();
  return (await conn.rows<ScheduleRow>(sql.LIST_SCHEDULES)).map((r) => toSchedule(r, now));
}

export async function setScheduleEnabledInTransaction(tx: Tx, name: string, enabled: boolean): Promise<ScheduleRecord> {
  const now = tx.now;
  const row = await requireSchedule(tx, name);
  if ((row.enabled === 1) !== enabled) {
    // Enabling starts afresh: ticks missed while disabled are not owed.
    await tx.run(sql.SET_SCHEDULE_ENABLED, [enabled ? 1 : 0, enabled ? now : row.active_since, now, name]);
    tx.event(enabled ? "schedule.enabled" : "schedule.disabled", null, null, { schedule: name });
  }
  return toSchedule(await requireSchedule(tx, name), now);
}

export async function fireTickInTransaction(
  tx: Tx,
  insertJob: InsertJob,
  name: string,
  tick: number,
  job: NewJob,
): Promise<FireTickResult> {
  const row = await requireSchedule(tx, name);
  const notFired: FireTickResult = { fired: false, job: null };
  if (row.enabled !== 1 || row.removed_at !== null || tick < row.active_since) return notFired;
  // Ticks fire in order: a scheduler with an old view of the schedule cannot fire a tick older
  // than one already fired, even after that tick's row has been pruned.
  if (row.last_tick_at !== null && tick <= row.last_tick_at) return notFired;
  if ((await tx.run(sql.INSERT_SCHEDULE_TICK, [name, tick, job.id, tx.now])) !== 1) return notFired;
  const { job: enqueued } = await insertJob(tx, job);
  await tx.run(sql.RECORD_SCHEDULE_TICK, [tick, name]);
  await tx.run(sql.PRUNE_SCHEDULE_TICKS, [name, tick - TICK_RETENTION_MS]);
  tx.event("schedule.fired", enqueued.id, null, { schedule: name, tick: iso(tick) });
  return { fired: true, job: enqueued };
}

export async function runNowInTransaction(tx: Tx, insertJob: InsertJob, name: string, job: NewJob): Promise<Job> {
  await requireSchedule(tx, name);
  const { job: enqueued } = await insertJob(tx, job);
  tx.event("schedule.triggered", enqueued.id, null, { schedule: name });
  return enqueued;
}

/** The schedule's row, locked until commit, or SCHEDULE_NOT_FOUND. */
async function requireSchedule(tx: Tx, name: string): Promise<ScheduleRow> {
  const row = await tx.one<ScheduleRow>(sql.GET_SCHEDULE_FOR_UPDATE, [name]);
  if (!row) throw new OverseerError("SCHEDULE_NOT_FOUND", `no schedule named "${name}"`, { name });
  return row;
}
