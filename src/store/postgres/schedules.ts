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
import { planScheduleSync } from "../schedule-sync.js";
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
  await tx.lock(LOCK.schedules, "sync");
  const { steps, result } = planScheduleSync(await tx.rows<ScheduleRow>(sql.LIST_SCHEDULES), defs, tx.now);
  for (const step of steps) {
    await tx.run(SYNC_STATEMENTS[step.statement], step.params);
    tx.event(step.event.kind, null, null, step.event.data);
  }
  return result;
}

const SYNC_STATEMENTS = {
  insert: sql.INSERT_SCHEDULE,
  update: sql.UPDATE_SCHEDULE,
  remove: sql.MARK_SCHEDULE_REMOVED,
} as const;

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
