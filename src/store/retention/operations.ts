/**
 * Retention's reads and deletes, written once for both backends (see ../tx.ts); prune.ts runs
 * them as one pass. Each delete is guarded by what its batch was archived as: a job retried, or
 * a run or alert changed (its version moved), while the archive ran stays, with its history. The
 * newest event is never deleted, so sequence numbers are never reused (an identity would not
 * reuse them on PostgreSQL anyway; the rule holds on both so both prune the same events). No
 * locks of its own: each DELETE holds only the rows it deletes, a job's row before the rows that
 * hang off it, the order every other writer takes them in.
 */
import type { OverseerEvent } from "../../core/types.js";
import { type AlertRow, type NotificationRow, toAlert, toNotification } from "../alerts/rows.js";
import { LIST_NOTIFICATIONS } from "../alerts/statements.js";
import { deleteJobDurables } from "../durable/operations.js";
import { LAST_EVENT_SEQ } from "../events/statements.js";
import { type FinishedRow, forgetFinished } from "../jobs/finished-counts.js";
import { DELETE_ATTEMPTS, DELETE_FINISHED_JOB, LIST_ATTEMPTS } from "../jobs/statements.js";
import { deleteLessonRows } from "../lessons/operations.js";
import { type LessonRow, toLesson } from "../lessons/rows.js";
import { type AttemptRow, type EventRow, type JobRow, toAttempt, toEvent, toJob } from "../rows.js";
import { type RunRow, type RunTurnRow, toRun, toRunTurn } from "../runs/rows.js";
import { LIST_TURNS } from "../runs/statements.js";
import type { PruneBatch, RetentionRule } from "../store.js";
import type { Db, Op, Sql, Tx } from "../tx.js";
import * as q from "./statements.js";

export function emptyBatch(): PruneBatch {
  return { jobs: [], events: [], runs: [], alerts: [], lessons: [] };
}

/** A rule's parameters: finished (or closed) before `cutoff`, or null for no age rule; keep the newest `keep`, or -1. */
function ruleParams(rule: RetentionRule, now: number): [cutoff: number | null, keep: number] {
  return [rule.maxAgeMs === undefined ? null : now - rule.maxAgeMs, rule.maxCount ?? -1];
}

// -- jobs ---------------------------------------------------------------------------------

/** The oldest `limit` jobs in `state` that the rule lets go. */
export function* prunableJobs(
  db: Db,
  state: "succeeded" | "dead" | "cancelled",
  rule: RetentionRule,
  now: number,
  limit: number,
): Op<JobRow[]> {
  return yield* db.rows<JobRow>(q.PRUNABLE_JOBS, [state, ...ruleParams(rule, now), limit]);
}

export function* jobsBatch(db: Db, rows: readonly JobRow[]): Op<PruneBatch> {
  const batch = emptyBatch();
  for (const r of rows) {
    const attempts = yield* db.rows<AttemptRow>(LIST_ATTEMPTS, [r.id]);
    batch.jobs.push({ job: toJob(r), attempts: attempts.map(toAttempt) });
  }
  return batch;
}

/** Deletes the jobs still finished, with their attempts, requests, steps, waits and signals; how many. */
export function* deleteJobs(tx: Tx, rows: readonly JobRow[]): Op<number> {
  const gone: FinishedRow[] = [];
  for (const r of rows) {
    const deleted = yield* tx.one<FinishedRow>(DELETE_FINISHED_JOB, [r.id]);
    if (deleted === undefined) continue;
    yield* tx.run(DELETE_ATTEMPTS, [r.id]);
    yield* deleteJobDurables(tx, r.id);
    gone.push(deleted);
  }
  // Last, once the batch's rows are locked: the mark's lock is always taken after the jobs' (see finished-counts.ts).
  yield* forgetFinished(tx, gone);
  return gone.length;
}

// -- runs and alerts: paged by key --------------------------------------------------------

/**
 * Runs or alerts: what `select` finds old enough, paged by (`at`, id) (parameters: cutoff, keep,
 * the previous page's last `at` and id, limit); the batch an archive takes; and the delete of one
 * row, false if it changed since it was read.
 */
export interface KeyedKind<R extends { id: string; version: number }> {
  select: Sql;
  at(row: R): number;
  batch(db: Db, rows: readonly R[]): Op<PruneBatch>;
  remove(tx: Tx, row: R): Op<boolean>;
}

export const RUNS: KeyedKind<RunRow> = {
  select: q.PRUNABLE_RUNS,
  at: (r) => r.finished_at ?? 0,
  *batch(db, rows) {
    const batch = emptyBatch();
    for (const r of rows) {
      const turns = yield* db.rows<RunTurnRow>(LIST_TURNS, [r.id]);
      batch.runs.push({ run: toRun(r), turns: turns.map(toRunTurn) });
    }
    return batch;
  },
  *remove(tx, r) {
    if ((yield* tx.run(q.DELETE_FINISHED_RUN, [r.id, r.version])) !== 1) return false;
    yield* tx.run(q.DELETE_RUN_TURNS, [r.id]);
    yield* tx.run(q.DELETE_RUN_OUTPUT, [r.id]);
    yield* tx.run(q.DELETE_RUN_MESSAGES, [r.id]);
    yield* tx.run(q.DELETE_RUN_APPROVALS, [r.id]);
    return true;
  },
};

export const ALERTS: KeyedKind<AlertRow> = {
  select: q.PRUNABLE_ALERTS,
  at: (r) => r.closed_at ?? 0,
  *batch(db, rows) {
    const batch = emptyBatch();
    for (const r of rows) {
      const notifications = yield* db.rows<NotificationRow>(LIST_NOTIFICATIONS, [r.id]);
      batch.alerts.push({ alert: toAlert(r), notifications: notifications.map(toNotification) });
    }
    return batch;
  },
  *remove(tx, r) {
    if ((yield* tx.run(q.DELETE_CLOSED_ALERT, [r.id, r.version])) !== 1) return false;
    yield* tx.run(q.DELETE_ALERT_NOTIFICATIONS, [r.id]);
    return true;
  },
};

/** Lessons by the time they were recorded; a lesson never changes, so its version is always 0. */
export const LESSONS: KeyedKind<LessonRow & { version: number }> = {
  select: q.PRUNABLE_LESSONS,
  at: (r) => Number(r.created_at),
  // biome-ignore lint/correctness/useYield: the rows read hold the whole lesson; there is nothing more to read
  *batch(_db, rows) {
    return { ...emptyBatch(), lessons: rows.map(toLesson) };
  },
  *remove(tx, r) {
    return yield* deleteLessonRows(tx, r.id);
  },
};

/** The next page of `kind` the rule lets go, after the (at, id) of the previous page's last row. */
export function* prunableKeyed<R extends { id: string; version: number }>(
  db: Db,
  kind: KeyedKind<R>,
  rule: RetentionRule,
  now: number,
  after: readonly [at: number, id: string],
  limit: number,
): Op<R[]> {
  return yield* db.rows<R>(kind.select, [...ruleParams(rule, now), ...after, limit]);
}

/** Deletes the rows of `kind` that did not change since they were read; how many. */
export function* deleteKeyed<R extends { id: string; version: number }>(
  tx: Tx,
  kind: KeyedKind<R>,
  rows: readonly R[],
): Op<number> {
  let n = 0;
  for (const r of rows) if (yield* kind.remove(tx, r)) n++;
  return n;
}

// -- events and workers -------------------------------------------------------------------

/**
 * The newest event the rule lets go (0 for none). Never the newest of all: its sequence number is
 * what keeps the next ones from reusing older ones.
 */
export function* lastPrunableEvent(db: Db, rule: RetentionRule, now: number): Op<number> {
  const last = (yield* db.one<{ seq: number }>(LAST_EVENT_SEQ))?.seq ?? 0;
  const byAge =
    rule.maxAgeMs === undefined
      ? 0
      : ((yield* db.one<{ seq: number }>(q.LAST_EVENT_BEFORE, [now - rule.maxAgeMs]))?.seq ?? 0);
  const byCount = rule.maxCount === undefined ? 0 : last - rule.maxCount;
  return Math.min(Math.max(byAge, byCount), last - 1);
}

export function* countEventsUpTo(db: Db, upTo: number): Op<number> {
  return (yield* db.one<{ n: number }>(q.COUNT_EVENTS_UP_TO, [upTo]))?.n ?? 0;
}

/** The oldest `limit` events up to `upTo`. */
export function* eventsUpTo(db: Db, upTo: number, limit: number): Op<OverseerEvent[]> {
  return (yield* db.rows<EventRow>(q.EVENTS_UP_TO, [upTo, limit])).map(toEvent);
}

export function* deleteEventsUpTo(tx: Tx, upTo: number): Op<number> {
  return yield* tx.run(q.DELETE_EVENTS_UP_TO, [upTo]);
}

/** Forgets workers that stopped or were lost before `cutoff`. */
export function* deleteOldWorkers(tx: Tx, cutoff: number): Op<number> {
  return yield* tx.run(q.DELETE_OLD_WORKERS, [cutoff]);
}
