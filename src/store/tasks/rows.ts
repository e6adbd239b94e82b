/**
 * The task registry as both backends store it (same table and columns, see migration 016): rows
 * and their mapping to records, and the names a worker's registration upserts, sorted and
 * without repeats so concurrent registrations touch shared rows in one order.
 */
import { followUpOf } from "../../core/follow-up.js";
import type { NewJob, TaskDefaults } from "../../core/job-options.js";
import type { TaskRecord } from "../../core/known-tasks.js";
import type { JobError } from "../../core/types.js";
import { iso, type JobRow, toTraceContext } from "../rows.js";
import type { WorkerRegistration } from "../store.js";

export interface TaskRow {
  name: string;
  first_seen_at: number;
  last_seen_at: number;
}

export function toTask(row: TaskRow): TaskRecord {
  return { name: row.name, firstSeenAt: iso(Number(row.first_seen_at)), lastSeenAt: iso(Number(row.last_seen_at)) };
}

export function registeredTaskNames(worker: WorkerRegistration): string[] {
  return [...new Set(worker.tasks)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The registry's defaults by task (migration 023); a value that no longer parses counts as none. */
export function registryDefaults(rows: ReadonlyArray<{ name: string; defaults: string }>): Map<string, TaskDefaults> {
  const out = new Map<string, TaskDefaults>();
  for (const row of rows) {
    try {
      out.set(row.name, JSON.parse(row.defaults) as TaskDefaults);
    } catch {
      // Written by JSON.stringify; unreadable only if edited by hand.
    }
  }
  return out;
}

/**
 * The follow-up the task's `onDead` asks for when a job dies of an expired lease, decided by the
 * store (the worker that ran it is gone): by the defaults its task's latest worker registered.
 */
export function deadFollowUp(
  job: JobRow,
  errorJson: string,
  registry: ReadonlyMap<string, TaskDefaults>,
): { job?: NewJob; eventData: { followUp?: string; followUpError?: string } } {
  if (registry.get(job.task)?.onDead === undefined) return { eventData: {} };
  try {
    const ended = {
      id: job.id,
      task: job.task,
      queue: job.queue,
      attempts: job.attempts,
      payload: JSON.parse(job.payload),
    };
    const end = () => JSON.parse(errorJson) as JobError;
    const followUp = followUpOf("onDead", registry.get(job.task), ended, end, (task) => registry.get(task));
    if (followUp === undefined) return { eventData: {} };
    // In the trace the job was enqueued in, if any: no attempt span is left to be its parent.
    followUp.traceContext = toTraceContext(job.trace_context);
    return { job: followUp, eventData: { followUp: followUp.id } };
  } catch (err) {
    // Registered by another version, or defaults no enqueue accepts: the death is recorded all
    // the same (a recovery that threw would leave every expired lease behind it), and says why.
    return { eventData: { followUpError: (err as Error).message } };
  }
}
