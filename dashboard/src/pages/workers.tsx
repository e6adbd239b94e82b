import type { Worker } from "../../../src/http/contract";
import { api } from "../api/client";
import { duration, ErrorNote, Loading } from "../components/common";
import { type Column, DataTable } from "../components/data-table";
import { useLive } from "../hooks";
import { Link } from "../router";

const columns: Column<Worker>[] = [
  { header: "Worker", cell: (w) => <code>{w.name}</code> },
  { header: "Status", cell: (w) => <span className={`badge worker-${w.status}`}>{w.status}</span> },
  { header: "Host / pid", cell: (w) => `${w.host} / ${w.pid}` },
  { header: "Queues", cell: (w) => w.queues?.join(", ") ?? "all" },
  { header: "Concurrency", className: "num", cell: (w) => w.concurrency },
  { header: "Heartbeat age", className: "num", cell: (w) => duration(w.heartbeatAgeMs) },
  {
    header: "Running jobs",
    cell: (w) =>
      w.runningJobs.length === 0
        ? "—"
        : w.runningJobs.slice(0, 5).map((id) => (
            <Link key={id} href={`/jobs/${id}`} className="id">
              {id.slice(-8)}{" "}
            </Link>
          )),
  },
];

export function WorkersPage() {
  const { data, error } = useLive(
    "workers",
    async (signal) => (await api<{ items: Worker[] }>("/workers", { signal })).items,
    (e) => e.kind.startsWith("worker.") || e.kind === "job.started" || e.kind === "job.succeeded",
    1000,
  );
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
          empty="No workers have registered."
        />
      )}
    </>
  );
}
