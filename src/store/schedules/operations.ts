/**
 * Schedules, written once for both backends (see ../tx.ts). A tick fires at most once: its row in
 * schedule_ticks (primary key schedule + tick) is inserted in the same transaction as its job, and
 * a conflict means another process fired it first. Syncs take one lock (LOCK.schedules) so that
 * processes syncing the same config at once do not both insert a new name; other changes lock the
 * schedule's row. SQLite's one writer at a time serialises them anyway.
 *
 * A tick's job goes through the backend's own enqueue (the hot path, which stays per backend),
 * passed in as `enqueue`: it runs inside the same transaction.
 */
import { OverseerError } from "../../core/errors.js";
import type { NewJob } from "../../core/job-options.js";
import type { Job, JobState, ScheduleDefinition, ScheduleRecord } from "../../core/types.js";
import { LOCK } from "../locks.js";
import { iso } from "../rows.js";
import type { EnqueueResult, FireTickResult, ScheduleRun, SyncSchedulesResult } from "../store.js";
import type { Db, Op, Tx } from "../tx.js";
import { planScheduleSync, type ScheduleRow, TICK_RETENTION_MS, toSchedule } from "./rows.js";
import * as q from "./statements.js";

/** Inserts a job (and its `job.enqueued` event) in the transaction of the operation that calls it. */
export type EnqueueJob = (job: NewJob) => Op<EnqueueResult>;

const SYNC_STATEMENTS = {
  insert: q.INSERT_SCHEDULE,
  update: q.UPDATE_SCHEDULE,
  remove: q.MARK_SCHEDULE_REMOVED,
} as const;

export function* syncSchedules(tx: Tx, defs: readonly ScheduleDefinition[]): Op<SyncSchedulesResult> {
  yield* tx.lock(LOCK.schedules, "sync");
  const { steps, result } = planScheduleSync(yield* tx.rows<ScheduleRow>(q.LIST_SCHEDULES), defs, tx.at);
  for (const step of steps) {
    yield* tx.run(SYNC_STATEMENTS[step.statement], step.params);
    tx.event(step.event.kind, null, null, step.event.data);
  }
  return result;
}

export function* listSchedules(db: Db): Op<ScheduleRecord[]> {
  const now = yield* db.now();
  return (yield* db.rows<ScheduleRow>(q.LIST_SCHEDULES)).map((r) => toSchedule(r, now));
}

/** Each named schedule's latest fired ticks and their jobs, newest first, at most `limit` each. */
export function* recentScheduleRuns(db: Db, names: readonly string[], limit: number): Op<Map<string, ScheduleRun[]>> {
  const runs = new Map<string, ScheduleRun[]>();
  for (const name of names) {
    const rows = yield* db.rows<{ tick: number | string; job_id: string; state: JobState | null }>(q.RECENT_TICKS, [
      name,
      limit,
    ]);
    runs.set(
      name,
      rows.map((r) => ({ tick: iso(Number(r.tick)), jobId: r.job_id, state: r.state })),
    );
  }
  return runs;
}

export function* setScheduleEnabled(tx: Tx, name: string, enabled: boolean): Op<ScheduleRecord> {
  const row = yield* lockSchedule(tx, name);
  if ((row.enabled === 1) !== enabled) {
    // Enabling starts afresh: ticks missed while disabled are not owed.
    yield* tx.run(q.SET_SCHEDULE_ENABLED, [enabled ? 1 : 0, enabled ? tx.at : row.active_since, tx.at, name]);
    tx.event(enabled ? "schedule.enabled" : "schedule.disabled", null, null, { schedule: name });
  }
  return toSchedule(yield* lockSchedule(tx, name), tx.at);
}

/** Enqueues the tick's job unless the tick cannot fire (see `Store.fireScheduleTick`); workers are woken if it fired. */
export function* fireScheduleTick(
  tx: Tx,
  enqueue: EnqueueJob,
  name: string,
  tick: number,
  job: NewJob,
): Op<FireTickResult> {
  const row = yield* lockSchedule(tx, name);
  const notFired: FireTickResult = { fired: false, job: null };
  if (row.enabled !== 1 || row.removed_at !== null || tick < row.active_since) return notFired;
  // Ticks fire in order: a scheduler with an old view of the schedule cannot fire a tick older
  // than one already fired, even after that tick's row has been pruned.
  if (row.last_tick_at !== null && tick <= row.last_tick_at) return notFired;
  if ((yield* tx.run(q.INSERT_SCHEDULE_TICK, [name, tick, job.id, tx.at])) !== 1) return notFired;
  const { job: enqueued } = yield* enqueue(job);
  yield* tx.run(q.RECORD_SCHEDULE_TICK, [tick, name]);
  yield* tx.run(q.PRUNE_SCHEDULE_TICKS, [name, tick - TICK_RETENTION_MS]);
  tx.event("schedule.fired", enqueued.id, null, { schedule: name, tick: iso(tick) });
  tx.notify();
  return { fired: true, job: enqueued };
}

/** Enqueues the schedule's job now, outside its tick sequence; workers are woken. */
export function* runScheduleNow(tx: Tx, enqueue: EnqueueJob, name: string, job: NewJob): Op<Job> {
  yield* lockSchedule(tx, name);
  const { job: enqueued } = yield* enqueue(job);
  tx.event("schedule.triggered", enqueued.id, null, { schedule: name });
  tx.notify();
  return enqueued;
}

/** The schedule's row, locked until commit, or SCHEDULE_NOT_FOUND. */
function* lockSchedule(tx: Tx, name: string): Op<ScheduleRow> {
  const row = yield* tx.one<ScheduleRow>(q.LOCK_SCHEDULE, [name]);
  if (!row) throw new OverseerError("SCHEDULE_NOT_FOUND", `no schedule named "${name}"`, { name });
  return row;
}
