/**
 * Job rollups, written once for both backends: the rollup pass's reads and writes, the bulk write
 * and the read of a range. The pass (pass.ts) reads the finished jobs of whole minutes outside any
 * transaction, then writes their rows and advances the watermark in one transaction, only if the
 * watermark is still the one it started from: of two nodes rolling up the same minutes, one
 * writes and the other writes nothing. Minutes past the watermark (the last few) are read from
 * the jobs table itself, so a range always ends at the store's now.
 */
import {
  addCounts,
  emptyCounts,
  type FinishedJobTimes,
  type JobRollupRow,
  LATENCY_BUCKETS,
  type RollupCounts,
  rollUp,
} from "../../core/job-rollup.js";
import type { JobRollupQuery, JobRollupRead } from "../store.js";
import type { Db, Op, Tx } from "../tx.js";
import * as q from "./statements.js";

/** Rows per INSERT: each binds 3 + 116 parameters, under SQLite's 32,766 and PostgreSQL's 65,535. */
const INSERT_BATCH = 200;
/** A range read takes at most this many jobs from the minutes not rolled up yet; more is `truncated`. */
export const MAX_LIVE_JOBS = 50_000;

type SumRow = Record<string, number | string | null>;

function toCounts(row: SumRow): RollupCounts {
  const n = (c: string) => Number(row[c] ?? 0);
  return {
    succeeded: n("succeeded"),
    dead: n("dead"),
    cancelled: n("cancelled"),
    retries: n("retries"),
    wait: Array.from({ length: LATENCY_BUCKETS }, (_, k) => n(`w${k}`)),
    run: Array.from({ length: LATENCY_BUCKETS }, (_, k) => n(`r${k}`)),
  };
}

function countValues(c: RollupCounts): number[] {
  return [c.succeeded, c.dead, c.cancelled, c.retries, ...c.wait, ...c.run];
}

export function* watermark(db: Db): Op<number> {
  return Number((yield* db.one<{ through: number }>(q.READ_WATERMARK))?.through ?? 0);
}

/** The first finish time at or after `since`, or null. */
export function* firstFinishedSince(db: Db, since: number): Op<number | null> {
  const at = (yield* db.one<{ at: number | null }>(q.FIRST_FINISHED_SINCE, [since]))?.at;
  return at === null || at === undefined ? null : Number(at);
}

interface FinishedRow {
  queue: string;
  task: string;
  state: FinishedJobTimes["state"];
  attempts: number;
  run_at: number;
  started_at: number | null;
  finished_at: number;
}

/** The jobs that finished in [from, to), at most `limit`. */
export function* finishedBetween(db: Db, from: number, to: number, limit: number): Op<FinishedJobTimes[]> {
  const rows = yield* db.rows<FinishedRow>(q.FINISHED_BETWEEN, [from, to, limit]);
  return rows.map((r) => ({
    queue: r.queue,
    task: r.task,
    state: r.state,
    attempts: Number(r.attempts),
    runAt: Number(r.run_at),
    startedAt: r.started_at === null ? null : Number(r.started_at),
    finishedAt: Number(r.finished_at),
  }));
}

/** Adds the rows to the stored ones, and each to its quarter hour's row and its hour's row. */
export function* writeRows(tx: Tx, rows: readonly JobRollupRow[]): Op<void> {
  yield* insert(tx, "minute", rows);
  yield* insert(tx, "quarterHour", summedPer(q.GRAIN_MS.quarterHour, rows));
  yield* insert(tx, "hour", summedPer(q.GRAIN_MS.hour, rows));
}

function* insert(tx: Tx, grain: q.Grain, rows: readonly JobRollupRow[]): Op<void> {
  for (let i = 0; i < rows.length; i += INSERT_BATCH) {
    const batch = rows.slice(i, i + INSERT_BATCH);
    const params = batch.flatMap((r) => [r.minute, r.queue, r.task, ...countValues(r)]);
    yield* tx.run(q.insertRows(grain, batch.length), params);
  }
}

/** The rows summed per (quarter hour or hour, queue, task), `minute` holding its start. */
function summedPer(grainMs: number, rows: readonly JobRollupRow[]): JobRollupRow[] {
  const sums = new Map<string, JobRollupRow>();
  for (const r of rows) {
    const start = Math.floor(r.minute / grainMs) * grainMs;
    const key = JSON.stringify([start, r.queue, r.task]);
    const sum = sums.get(key);
    if (sum === undefined) sums.set(key, { ...r, minute: start, ...addCounts(emptyCounts(), r) });
    else addCounts(sum, r);
  }
  return [...sums.values()];
}

/**
 * Writes the rows of the minutes from `read` up to `through` and moves the watermark there, if
 * it is still `read`; false (nothing written) if another pass moved it.
 */
export function* commitPass(tx: Tx, read: number, through: number, rows: readonly JobRollupRow[]): Op<boolean> {
  if ((yield* tx.run(q.ADVANCE_WATERMARK, [through, read])) !== 1) return false;
  yield* writeRows(tx, rows);
  return true;
}

/**
 * Deletes the rollups of minutes before `cutoff`, and of the quarter hours and hours that ended
 * by it; how many minutes.
 */
export function* deleteBefore(tx: Tx, cutoff: number): Op<number> {
  for (const grain of ["quarterHour", "hour"] as const) {
    const ms = q.GRAIN_MS[grain];
    yield* tx.run(q.DELETE_BEFORE[grain], [Math.floor(cutoff / ms) * ms]);
  }
  return yield* tx.run(q.DELETE_BEFORE.minute, [cutoff]);
}

function scopeOf(query: JobRollupQuery): { scope: q.RollupScope; filters: string[] } {
  const filters = [query.queue, query.task].filter((f): f is string => f !== undefined);
  if (query.queue !== undefined && query.task !== undefined) return { scope: "both", filters };
  if (query.queue !== undefined) return { scope: "queue", filters };
  if (query.task !== undefined) return { scope: "task", filters };
  return { scope: "all", filters };
}

/**
 * A range in buckets, with totals per queue and per task: the rolled-up minutes from the rollup
 * table, the rest (from the watermark on) from the jobs that finished there.
 */
export function* readRange(db: Db, query: JobRollupQuery): Op<JobRollupRead> {
  const { from, to, bucketMs, top } = query;
  const through = yield* watermark(db);
  const { scope, filters } = scopeOf(query);
  const count = Math.max(0, Math.ceil((to - from) / bucketMs));
  const buckets = Array.from({ length: count }, () => emptyCounts());
  const rolledTo = Math.min(to, Math.max(from, through));
  const queues = new Map<string, RollupCounts>();
  const tasks = new Map<string, RollupCounts>();
  if (rolledTo > from) {
    // A quarter hour's or an hour's row holds the minutes rolled up so far, all before the
    // watermark: in whole quarter hours (or hours), their rows up to the watermark's hold what
    // the minute rows up to it do.
    const grain: q.Grain =
      (["hour", "quarterHour"] as const).find((g) => from % q.GRAIN_MS[g] === 0 && bucketMs % q.GRAIN_MS[g] === 0) ??
      "minute";
    const range = [from, rolledTo, ...filters];
    for (const row of yield* db.rows<SumRow & { bucket: number }>(q.SERIES[grain][scope], [...range, bucketMs])) {
      const b = buckets[Number(row.bucket)];
      if (b) addCounts(b, toCounts(row));
    }
    for (const row of yield* db.rows<SumRow & { name: string }>(q.BY_QUEUE[grain][scope], [...range, top])) {
      queues.set(row.name, toCounts(row));
    }
    for (const row of yield* db.rows<SumRow & { name: string }>(q.BY_TASK[grain][scope], [...range, top])) {
      tasks.set(row.name, toCounts(row));
    }
  }
  let truncated = false;
  const liveFrom = Math.max(from, through);
  if (liveFrom < to) {
    const jobs = yield* finishedBetween(db, liveFrom, to, MAX_LIVE_JOBS + 1);
    truncated = jobs.length > MAX_LIVE_JOBS;
    const wanted = jobs
      .slice(0, MAX_LIVE_JOBS)
      .filter(
        (j) =>
          (query.queue === undefined || j.queue === query.queue) && (query.task === undefined || j.task === query.task),
      );
    for (const row of rollUp(wanted)) {
      const b = buckets[Math.floor((row.minute - from) / bucketMs)];
      if (b) addCounts(b, row);
      addCounts(getOrAdd(queues, row.queue), row);
      addCounts(getOrAdd(tasks, row.task), row);
    }
  }
  const total = buckets.reduce((sum, b) => addCounts(sum, b), emptyCounts());
  return {
    buckets,
    total,
    byQueue: topOf(queues, top).map(([queue, counts]) => ({ queue, counts })),
    byTask: topOf(tasks, top).map(([task, counts]) => ({ task, counts })),
    rolledUpThrough: through,
    truncated,
  };
}

function getOrAdd(map: Map<string, RollupCounts>, key: string): RollupCounts {
  let c = map.get(key);
  if (c === undefined) {
    c = emptyCounts();
    map.set(key, c);
  }
  return c;
}

const volume = (c: RollupCounts) => c.succeeded + c.dead + c.cancelled;

function topOf(map: Map<string, RollupCounts>, top: number): Array<[string, RollupCounts]> {
  return [...map.entries()]
    .sort(([a, x], [b, y]) => volume(y) - volume(x) || (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, top);
}

/** The first minute with a rollup, or null. */
export function* oldestMinute(db: Db): Op<number | null> {
  const m = (yield* db.one<{ minute: number | null }>(q.OLDEST_MINUTE))?.minute;
  return m === null || m === undefined ? null : Number(m);
}
