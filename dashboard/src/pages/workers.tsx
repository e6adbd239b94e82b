/**
 * Workers: each one's status (a command it has not acted on yet shown with it), utilization,
 * processed and failed counts and the jobs it runs, by task, linked to the job; the name links to
 * the worker's page, where an operator quiets or stops it. On a phone each worker is a card.
 */
import { useEffect } from "react";
import type { Worker, WorkerJob } from "../../../src/http/contract";
import { api } from "../api/client";
import { count, duration, ErrorNote, Loading } from "../components/common";
import { type Column, DataTable } from "../components/data-table";
import { useLive } from "../hooks";
import { Link } from "../router";

/** Events after which a worker's row may have changed. */
export const workerEvent = (kind: string): boolean =>
  kind.startsWith("worker.") ||
  kind === "job.started" ||
  kind === "job.succeeded" ||
  kind === "job.failed" ||
  kind === "job.released" ||
  kind === "job.cancelled";

/** Its status, and a command it has been asked and not acted on yet. */
export function WorkerStatus({ worker }: { worker: Worker }) {
  const pending =
    worker.command !== null && (worker.status === "active" || (worker.status === "quiet" && worker.command === "stop"));
  return (
    <>
      <span className={`badge worker-${worker.status}`}>{worker.status}</span>
      {pending && <span className="muted small-text"> {worker.command} asked</span>}
    </>
  );
}

export function utilizationText(w: Worker): string {
  return `${w.busy} / ${w.concurrency ?? 0} (${Math.round(w.utilization * 100)}%)`;
}

/** A job it runs: its task, linked to the job. */
export function WorkerJobLink({ job }: { job: WorkerJob }) {
  return (
    <Link href={`/jobs/${job.id}`} className="worker-job">
      {job.task}
      {job.held && " (held)"}
    </Link>
  );
}

const SHOWN_JOBS = 5;

/** Heartbeats append no event: counts and heartbeat ages are read again this often. */
export const HEARTBEAT_POLL_MS = 5_000;

/** Calls `reload` every HEARTBEAT_POLL_MS while the page is open. */
export function usePolling(reload: () => void): void {
  useEffect(() => {
    const timer = setInterval(reload, HEARTBEAT_POLL_MS);
    return () => clearInterval(timer);
  }, [reload]);
}

const columns: Column<Worker>[] = [
  {
    header: "Worker",
    cell: (w) => (
      <Link href={`/workers/${encodeURIComponent(w.id)}`}>
        <code>{w.name}</code>
      </Link>
    ),
  },
  { header: "Status", cell: (w) => <WorkerStatus worker={w} /> },
  { header: "Utilization", className: "num", cell: utilizationText },
  { header: "Processed", className: "num", cell: (w) => count(w.processed) },
  { header: "Failed", className: "num", cell: (w) => count(w.failed) },
  {
    header: "Running jobs",
    cell: (w) =>
      w.jobs.length === 0 ? (
        "—"
      ) : (
        <span className="worker-jobs">
          {w.jobs.slice(0, SHOWN_JOBS).map((j) => (
            <WorkerJobLink key={j.id} job={j} />
          ))}
          {w.jobs.length > SHOWN_JOBS && <span className="muted">and {w.jobs.length - SHOWN_JOBS} more</span>}
        </span>
      ),
  },
  { header: "Heartbeat age", className: "num", cell: (w) => duration(w.heartbeatAgeMs) },
  { header: "Host / pid", cell: (w) => `${w.host} / ${w.pid}` },
  { header: "Queues", cell: (w) => w.queues?.join(", ") ?? "all" },
];

export function WorkersPage() {
  const { data, error, reload } = useLive(
    "workers",
    async (signal) => (await api<{ items: Worker[] }>("/workers", { signal })).items,
    (e) => workerEvent(e.kind),
    1000,
  );
  usePolling(reload);
  return (
    <>
      <h1>Workers</h1>
      <ErrorNote error={error} />
      {!data && !error && <Loading what="workers" />}
      {data && (
        <DataTable
          label="workers"
          rows={data}
          columns={columns}
          rowKey={(w) => w.id}
          className="stack-narrow"
          empty="No workers have registered."
        />
      )}
    </>
  );
}
