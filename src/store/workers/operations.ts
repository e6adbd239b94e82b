/**
 * Workers as the store keeps them, written once for both backends (see ../tx.ts): their status
 * as they stop, and the ones that went quiet marked lost. Registering a worker fills the task
 * registry too, so it is in ../tasks.
 */
import { OverseerError } from "../../core/errors.js";
import type { WorkerCommand, WorkerJob, WorkerRecord } from "../../core/types.js";
import { isoOrNull, toWorker, type WorkerRow } from "../rows.js";
import type { Db, Op, Tx } from "../tx.js";
import * as q from "./statements.js";

/**
 * What the worker says it does now. `quiet` and `active` (after a resume) are its answers to an
 * operator's command, each with its event; `released` is how many jobs it handed back unstarted
 * when it went quiet.
 */
export function* setWorkerStatus(
  tx: Tx,
  workerId: string,
  status: "active" | "quiet" | "stopping" | "stopped",
  released = 0,
): Op<void> {
  const changed = yield* tx.run(q.SET_WORKER_STATUS, [status, tx.at, workerId]);
  if (changed === 0) return;
  if (status === "stopped") tx.event("worker.stopped", null, workerId, {});
  else if (status === "quiet") tx.event("worker.quieted", null, workerId, { released });
  else if (status === "active") tx.event("worker.resumed", null, workerId, {});
}

const REQUESTED = { quiet: "worker.quiet_requested", stop: "worker.stop_requested", resume: "worker.resume_requested" };

/**
 * Records an operator's command for the worker to read at its next heartbeat, with its event, and
 * returns the worker as it is now. Asking again for what is pending changes nothing (no event);
 * `stop` overrides `quiet`; `resume` clears `quiet`. Refused with WORKER_INVALID_TRANSITION for a
 * worker that has stopped or is lost, `quiet` or `resume` once a stop was asked for, and a worker
 * that registered no tasks (a run supervisor, which reads no commands).
 */
export function* commandWorker(tx: Tx, workerId: string, command: WorkerCommand, by: string): Op<WorkerRecord> {
  const row = yield* tx.one<WorkerRow>(q.LOCK_WORKER, [workerId]);
  if (row === undefined) throw new OverseerError("WORKER_NOT_FOUND", `no worker has id "${workerId}"`, { workerId });
  const refuse = (why: string) =>
    new OverseerError("WORKER_INVALID_TRANSITION", `cannot ${command} worker "${workerId}": ${why}`, {
      workerId,
      status: row.status,
      command: row.command,
    });
  if (row.status === "stopped" || row.status === "lost") throw refuse(`it is ${row.status}`);
  if (JSON.parse(row.tasks).length === 0) throw refuse("it runs no jobs (a run supervisor takes no commands)");
  if (command !== "stop" && (row.command === "stop" || row.status === "stopping")) {
    throw refuse("it was asked to stop");
  }
  const next = command === "resume" ? null : command;
  if (row.command === next) return toWorker(row);
  yield* tx.run(q.SET_WORKER_COMMAND, [next, next === null ? null : tx.at, workerId]);
  tx.event(REQUESTED[command], null, workerId, { by });
  return toWorker({ ...row, command: next, command_at: next === null ? null : tx.at });
}

export function* getWorker(db: Db, workerId: string): Op<WorkerRecord | null> {
  const row = yield* db.one<WorkerRow>(q.GET_WORKER, [workerId]);
  return row === undefined ? null : toWorker(row);
}

/** The jobs a worker holds leases on now (every worker's with null), oldest start first; see WORKER_JOBS. */
export function* listWorkerJobs(db: Db, workerId: string | null): Op<WorkerJob[]> {
  const rows = yield* db.rows<{
    id: string;
    task: string;
    queue: string;
    lease_owner: string;
    started_at: number | null;
    held: number;
  }>(q.WORKER_JOBS, [workerId]);
  return rows.map((r) => {
    const held = Number(r.held) === 1;
    return {
      id: r.id,
      task: r.task,
      queue: r.queue,
      workerId: r.lease_owner,
      startedAt: held ? null : isoOrNull(r.started_at),
      held,
    };
  });
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
