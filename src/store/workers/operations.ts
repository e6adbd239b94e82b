/**
 * Workers as the store keeps them, written once for both backends (see ../tx.ts): their status
 * as they stop, and the ones that went quiet marked lost. Registering a worker fills the task
 * registry too, so it is in ../tasks.
 */
import type { WorkerRecord } from "../../core/types.js";
import { toWorker, type WorkerRow } from "../rows.js";
import type { Db, Op, Tx } from "../tx.js";
import * as q from "./statements.js";

export function* setWorkerStatus(tx: Tx, workerId: string, status: "stopping" | "stopped"): Op<void> {
  yield* tx.run(q.SET_WORKER_STATUS, [status, tx.at, workerId]);
  if (status === "stopped") tx.event("worker.stopped", null, workerId, {});
}

/** Whether any worker has not heartbeated since `staleMs` ago: a read, so idle checks take no write lock. */
export function* anyStaleWorker(db: Db, staleMs: number): Op<boolean> {
  const cutoff = (yield* db.now()) - staleMs;
  return Boolean((yield* db.one<{ stale: boolean | number }>(q.ANY_STALE_WORKER, [cutoff]))?.stale);
}

/** Marks lost the workers that have not heartbeated since `staleMs` ago; their ids. */
export function* markLostWorkers(tx: Tx, staleMs: number): Op<string[]> {
  const rows = yield* tx.rows<{ id: string }>(q.MARK_LOST_WORKERS, [tx.at - staleMs]);
  for (const { id } of rows) tx.event("worker.lost", null, id, { staleMs });
  return rows.map((r) => r.id);
}

export function* listWorkers(db: Db): Op<WorkerRecord[]> {
  return (yield* db.rows<WorkerRow>(q.LIST_WORKERS)).map(toWorker);
}

/** Each worker's busy slots: the jobs it runs now (see BUSY_SLOTS); a worker running none is absent. */
export function* busySlots(db: Db): Op<Record<string, number>> {
  const busy: Record<string, number> = {};
  for (const r of yield* db.rows<{ worker: string; n: number }>(q.BUSY_SLOTS)) busy[r.worker] = Number(r.n);
  return busy;
}
