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
    {
      header: "State",
      cell: (q) => (
        <>
          {q.paused ? (
            <strong>paused</strong>
          ) : q.breaker ? (
            <strong>{q.breaker.state === "open" ? "circuit open" : "circuit half-open"}</strong>
          ) : (
            "running"
          )}
          {q.breaker && <BreakerNote breaker={q.breaker} />}
        </>
      ),
    },
    {
      header: "Actions",
      cell: (q) => (
        <span className="actions">
          <ActionButton
            key={`${q.name}-${q.paused}`}
            label={q.paused ? `Resume ${q.name}` : `Pause ${q.name}`}
            denied={denied}
            onDone={reload}
            confirm={
              q.paused
                ? undefined
                : {
                    title: `Pause queue ${q.name}?`,
                    message: `Workers stop claiming ${q.name}'s jobs until it is resumed; ${
                      (q.counts.queued ?? 0) + (q.counts.scheduled ?? 0)
                    } waiting jobs wait on. Running jobs finish.`,
                    confirmLabel: `Yes, pause ${q.name}`,
                  }
            }
            run={async () => {
              const verb = q.paused ? "resume" : "pause";
              const next = await api<Queue>(`/queues/${encodeURIComponent(q.name)}/${verb}`, {
                method: "POST",
                body: { version: q.version },
              });
              return next.paused ? "paused" : "resumed";
            }}
          />
          {q.breaker && (
            <ActionButton
              key={`${q.name}-breaker-${q.breaker.openedAt}`}
              label={`Reset ${q.name}'s breaker`}
              denied={denied}
              onDone={reload}
              run={async () => {
                await api<Queue>(`/queues/${encodeURIComponent(q.name)}/breaker/reset`, { method: "POST", body: {} });
                return "breaker closed";
              }}
            />
          )}
        </span>
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

/** An open or half-open circuit breaker: what it does to the queue's jobs, and until when. */
function BreakerNote({ breaker }: { breaker: NonNullable<Queue["breaker"]> }) {
  const diverting = breaker.trip.divertTo ? `jobs go to ${breaker.trip.divertTo}` : "jobs wait";
  return (
    <div className="breaker">
      {breaker.trip.failures} of {breaker.trip.attempts} attempts failed; {diverting}.{" "}
      {breaker.state === "open" ? (
        <>Probe at {new Date(breaker.probeAt).toLocaleTimeString()}.</>
      ) : breaker.probeJobId ? (
        <>
          Probe: <Link href={`/jobs/${breaker.probeJobId}`}>{breaker.probeJobId}</Link>.
        </>
      ) : (
        "Probe: the next job that comes."
      )}
    </div>
  );
}
