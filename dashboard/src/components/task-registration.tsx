/**
 * What the dashboard says about a job whose task no worker has ever registered on this database
 * (the server's `taskRegistered: false`): such a job waits until a worker for the task starts,
 * usually a typo in the task name or a worker never started. Only waiting jobs wait; a job that
 * finished (say, cancelled) has nothing left to wait for.
 */
import type { Job } from "../../../src/http/contract";

const WAITING = new Set<Job["state"]>(["queued", "scheduled"]);

/** Whether this job waits for a worker nobody has started. */
export function waitsForUnregisteredTask(job: Job): boolean {
  return job.taskRegistered === false && WAITING.has(job.state);
}

export function unregisteredText(task: string): string {
  return `No worker has registered task ${task} — this job will wait until one does.`;
}

/** The job page's callout. */
export function UnregisteredTaskCallout({ job }: { job: Job }) {
  if (!waitsForUnregisteredTask(job)) return null;
  return (
    <p className="callout" role="status" data-testid="task-unregistered">
      {unregisteredText(job.task)}
    </p>
  );
}

/** A row's badge in the jobs list. */
export function UnregisteredTaskBadge({ job }: { job: Job }) {
  if (!waitsForUnregisteredTask(job)) return null;
  return (
    <span className="badge state-unregistered" data-testid="task-unregistered" title={unregisteredText(job.task)}>
      no worker
    </span>
  );
}

/** The jobs list's banner: the tasks of the waiting jobs shown that no worker has registered. */
export function UnregisteredTasksBanner({ jobs }: { jobs: readonly Job[] }) {
  const tasks = [...new Set(jobs.filter(waitsForUnregisteredTask).map((j) => j.task))];
  if (tasks.length === 0) return null;
  const names = tasks.join(", ");
  return (
    <p className="callout" role="status" data-testid="unregistered-tasks">
      {tasks.length === 1
        ? `No worker has registered task ${names} — its jobs will wait until one does.`
        : `No worker has registered tasks ${names} — their jobs will wait until one does.`}
    </p>
  );
}
