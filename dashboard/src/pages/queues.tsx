import { JOB_STATES, type Queue, type Whoami } from "../../../src/http/contract";
import { api } from "../api/client";
import { ActionButton, duration, ErrorNote, Loading } from "../components/common";
import { type Column, DataTable } from "../components/data-table";
import { useLive } from "../hooks";
import { Link } from "../router";
import { deniedReason } from "../session";

export function QueuesPage({ who }: { who: Whoami }) {
  const { data, error, reload } = useLive(
    "queues",
    async (signal) => (await api<{ items: Queue[] }>("/queues", { signal })).items,
    (e) => e.kind.startsWith("job.") || e.kind.startsWith("queue."),
  );
  const denied = deniedReason(who, "pause");
  const columns: Column<Queue>[] = [
    { header: "Queue", cell: (q) => <Link href={`/jobs?queue=${encodeURIComponent(q.name)}`}>{q.name}</Link> },
    { header: "Depth", className: "num", cell: (q) => (q.counts.queued ?? 0) + (q.counts.scheduled ?? 0) },
    ...JOB_STATES.map((s) => ({ header: s, className: "num", cell: (q: Queue) => q.counts[s] ?? 0 })),
    { header: "Oldest waiting", className: "num", cell: (q) => duration(q.oldestWaitingAgeMs ?? null) },
    { header: "State", cell: (q) => (q.paused ? <strong>paused</strong> : "running") },
    {
      header: "Actions",
      cell: (q) => (
        <ActionButton
          key={`${q.name}-${q.paused}`}
          label={q.paused ? `Resume ${q.name}` : `Pause ${q.name}`}
          denied={denied}
          onDone={reload}
          run={async () => {
            const verb = q.paused ? "resume" : "pause";
            const next = await api<Queue>(`/queues/${encodeURIComponent(q.name)}/${verb}`, {
              method: "POST",
              body: { version: q.version },
            });
            return next.paused ? "paused" : "resumed";
          }}
        />
      ),
    },
  ];
  return (
    <>
      <h1>Queues</h1>
      <ErrorNote error={error} />
      {!data && !error && <Loading what="queues" />}
      {data && <DataTable label="queues" rows={data} columns={columns} rowKey={(q) => q.name} empty="No queues yet." />}
    </>
  );
}
