/**
 * The rollup pass, for both backends: the jobs finished since the watermark, a stretch of whole
 * minutes at a time, read outside any transaction (a busy hour is many jobs, and SQLite's one
 * write lock must not wait on that read) and written as rollup rows with the watermark moved in
 * one transaction (see operations.ts). Minutes younger than `graceMs` wait for the next pass: a
 * job's finish time is read from the clock inside its transaction, which commits a moment later.
 * Rollups older than `ROLLUP_KEEP_MS` are deleted; minutes older than that are not rolled up.
 */
import { MINUTE_MS, rollUp } from "../../core/job-rollup.js";
import type { Runner } from "../retention/prune.js";
import type { RollUpResult } from "../store.js";
import * as ops from "./operations.js";

/** How long rollups are kept. */
export const ROLLUP_KEEP_MS = 7 * 86_400_000;
/** How long after a minute ends it is rolled up. */
export const ROLLUP_GRACE_MS = 120_000;
/** The most minutes one transaction writes. */
const STRETCH_MINUTES = 60;
/** Jobs read per stretch; a stretch that has more is cut at the last whole minute read. */
const STRETCH_JOBS = 100_000;

const floorMinute = (t: number) => Math.floor(t / MINUTE_MS) * MINUTE_MS;

export async function rollUpJobs(store: Runner, graceMs = ROLLUP_GRACE_MS): Promise<RollUpResult> {
  const now = await store.read((db) => db.now());
  const end = floorMinute(now - graceMs);
  const keepFrom = floorMinute(now - ROLLUP_KEEP_MS);
  const result: RollUpResult = { minutes: 0, rows: 0, jobs: 0, deleted: 0, through: 0 };
  for (;;) {
    const read = await store.read(ops.watermark);
    result.through = read;
    const start = Math.max(read, keepFrom);
    let from = start;
    if (from >= end) break;
    // A stretch with no finished jobs is passed over in one step.
    const first = await store.read((db) => ops.firstFinishedSince(db, from));
    if (first === null || first >= end) {
      // Another node moved the watermark meanwhile: read it again (retention relies on a pass
      // that returns having rolled up to `end`).
      if (!(await store.transact((tx) => ops.commitPass(tx, read, end, [])))) continue;
      result.minutes += (end - start) / MINUTE_MS;
      result.through = end;
      break;
    }
    from = Math.max(from, floorMinute(first));
    let to = Math.min(end, from + STRETCH_MINUTES * MINUTE_MS);
    let jobs = await store.read((db) => ops.finishedBetween(db, from, to, STRETCH_JOBS + 1));
    if (jobs.length > STRETCH_JOBS) {
      // Cut at the last whole minute read (they come earliest first), keeping at least the first minute whole.
      const lastMinute = floorMinute(jobs[jobs.length - 1]?.finishedAt ?? from);
      to = Math.max(from + MINUTE_MS, lastMinute);
      jobs =
        to === from + MINUTE_MS
          ? await store.read((db) => ops.finishedBetween(db, from, to, Number.MAX_SAFE_INTEGER))
          : jobs.filter((j) => j.finishedAt < to);
    }
    const rows = rollUp(jobs);
    if (!(await store.transact((tx) => ops.commitPass(tx, read, to, rows)))) continue;
    result.minutes += (to - start) / MINUTE_MS;
    result.rows += rows.length;
    result.jobs += jobs.length;
    result.through = to;
  }
  result.deleted = await store.transact((tx) => ops.deleteBefore(tx, keepFrom));
  return result;
}
