/**
 * The counts of finished jobs kept in `finished_counts` (migration 034): every finished job whose
 * finish time is at or before the mark is counted there, by queue and state; the jobs finished
 * after the mark are counted at each read (COUNT_BY_QUEUE_STATE). Finishing a job writes nothing
 * here. Invariant: a counted job that leaves the finished states (retried, discarded, removed by
 * retention) is subtracted in the same transaction, and the mark only moves forward, adding the
 * jobs it passes. The mark stays FINISH_LAG_MS behind the store's clock, so a job is never passed
 * before the transaction that finished it has committed (it finished at that transaction's time).
 */
import type { JobState } from "../../core/types.js";
import type { Db, Op, Tx } from "../tx.js";
import * as q from "./statements.js";

/** How far behind the store's clock the mark stays: more than any finishing transaction lasts. */
export const FINISH_LAG_MS = 60_000;

/** What a subtraction needs of a job that was finished: its queue, state and finish time. */
export interface FinishedRow {
  queue: string;
  state: JobState;
  finished_at: number | string | null;
}

/**
 * Subtracts the jobs, taken out of the finished states by this transaction, that the counts held.
 * Locks the mark first, so that it cannot move between this read and the commit.
 */
export function* forgetFinished(tx: Tx, rows: readonly FinishedRow[]): Op<void> {
  if (rows.length === 0) return;
  const mark = yield* tx.one<{ counted_through: number | string }>(q.LOCK_FINISHED_MARK);
  const through = Number(mark?.counted_through ?? Number.POSITIVE_INFINITY);
  const gone = new Map<string, { queue: string; state: JobState; n: number }>();
  for (const r of rows) {
    if (r.finished_at === null || Number(r.finished_at) > through) continue;
    const key = `${r.state}\u0000${r.queue}`;
    const entry = gone.get(key) ?? { queue: r.queue, state: r.state, n: 0 };
    entry.n++;
    gone.set(key, entry);
  }
  for (const g of gone.values()) yield* tx.run(q.ADD_FINISHED_COUNT, [g.queue, g.state, -g.n]);
}

/**
 * Moves the mark to FINISH_LAG_MS before the transaction's time, adding the jobs it passes; does
 * nothing when it would not move. Returns whether it moved.
 */
export function* advanceFinishedMark(tx: Tx): Op<boolean> {
  const mark = yield* tx.one<{ counted_through: number | string }>(q.LOCK_FINISHED_MARK);
  if (mark === undefined) return false;
  const from = Number(mark.counted_through);
  const to = tx.at - FINISH_LAG_MS;
  if (to <= from) return false;
  const passed = yield* tx.rows<{ queue: string; state: JobState; n: number | string }>(q.FINISHED_BETWEEN, [from, to]);
  for (const r of passed) yield* tx.run(q.ADD_FINISHED_COUNT, [r.queue, r.state, Number(r.n)]);
  yield* tx.run(q.SET_FINISHED_MARK, [to]);
  return true;
}

/** A row of COUNT_BY_QUEUE_STATE. */
export interface QueueStateCount {
  queue: string;
  state: JobState;
  n: number;
}

/**
 * Jobs by queue and state (COUNT_BY_QUEUE_STATE), read with the mark the statement itself sees:
 * the mark is read first, and if it moved before the count ran, the count is read again with the
 * new one. Whatever the database's isolation, every row of one answer comes from one snapshot.
 */
export function* countByQueueState(db: Db): Op<QueueStateCount[]> {
  const first = yield* db.one<{ counted_through: number | string }>(q.READ_FINISHED_MARK);
  let mark = Number(first?.counted_through ?? -1);
  for (let read = 1; ; read++) {
    const rows = yield* db.rows<{ queue: string | null; state: string; n: number | string }>(q.COUNT_BY_QUEUE_STATE, [
      mark,
    ]);
    const seen = Number(rows.find((r) => r.queue === null)?.n ?? mark);
    // The mark moves at most every few seconds: a third read in a row finding it moved is not expected.
    if (seen === mark || read === 3) {
      return rows.flatMap((r) =>
        r.queue === null ? [] : [{ queue: r.queue, state: r.state as JobState, n: Number(r.n) }],
      );
    }
    mark = seen;
  }
}
