/**
 * How loaded a worker is, from the jobs it holds leases on: its busy slots (the jobs it runs;
 * a held job, claimed ahead of a free slot and not started, takes none) over its concurrency.
 * The API and the CLI show the same numbers from this one function.
 */
import type { WorkerJob, WorkerRecord } from "./types.js";

export interface WorkerLoad {
  /** Ids of the jobs it holds leases on, held ones included. */
  runningJobs: string[];
  busy: number;
  /** busy / concurrency, from 0 to 1. */
  utilization: number;
  jobs: WorkerJob[];
}

export function workerLoad(worker: Pick<WorkerRecord, "concurrency">, jobs: readonly WorkerJob[]): WorkerLoad {
  const busy = jobs.filter((j) => !j.held).length;
  return {
    runningJobs: jobs.map((j) => j.id),
    busy,
    utilization: worker.concurrency > 0 ? Math.min(1, busy / worker.concurrency) : 0,
    jobs: [...jobs],
  };
}

/** Each worker's jobs, by worker id, from one read of every worker's. */
export function jobsByWorker(jobs: readonly WorkerJob[]): Map<string, WorkerJob[]> {
  const byWorker = new Map<string, WorkerJob[]>();
  for (const job of jobs) {
    const list = byWorker.get(job.workerId);
    if (list === undefined) byWorker.set(job.workerId, [job]);
    else list.push(job);
  }
  return byWorker;
}
