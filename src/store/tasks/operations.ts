/**
 * The task registry, written once for both backends (see ../tx.ts): every task name a worker has
 * registered here, kept for good. A worker's registration feeds it in one transaction with the
 * worker's row and its `worker.started` event; the names are upserted sorted, so concurrent
 * registrations lock shared rows in one order and never deadlock on PostgreSQL.
 */
import type { TaskDefaults } from "../../core/job-options.js";
import type { TaskRecord } from "../../core/known-tasks.js";
import type { WorkerRegistration } from "../store.js";
import type { Db, Op, Tx } from "../tx.js";
import { registeredTaskNames, registryDefaults, type TaskRow, toTask } from "./rows.js";
import * as q from "./statements.js";

export function* registerWorker(tx: Tx, w: WorkerRegistration): Op<void> {
  const queues = w.queues === null ? null : JSON.stringify(w.queues);
  yield* tx.run(q.UPSERT_WORKER, [w.id, w.name, w.host, w.pid, queues, JSON.stringify(w.tasks), w.concurrency, tx.at]);
  const names = registeredTaskNames(w);
  yield* tx.run(q.UPSERT_TASKS, [tx.at, tx.list(names), tx.list(names.map((n) => w.defaults?.[n] ?? ""))]);
  tx.event("worker.started", null, w.id, {
    name: w.name,
    host: w.host,
    pid: w.pid,
    queues: w.queues,
    tasks: w.tasks,
    concurrency: w.concurrency,
  });
}

export function* taskDefaults(db: Db): Op<Map<string, TaskDefaults>> {
  return registryDefaults(yield* db.rows<{ name: string; defaults: string }>(q.TASK_DEFAULTS));
}

export function* listTasks(db: Db): Op<TaskRecord[]> {
  return (yield* db.rows<TaskRow>(q.LIST_TASKS)).map(toTask);
}
