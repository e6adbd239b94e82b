import { api } from "../api/client";
import type { Attempt, Job, OverseerEvent, Whoami } from "../api/types";
import { ActionButton, ErrorNote, JsonView, Loading, Section, StateBadge } from "../components/common";
import { type Column, DataTable } from "../components/data-table";
import { useLive } from "../hooks";
import { Link, navigate } from "../router";
import { deniedReason } from "../session";

interface JobDetail {
  job: Job;
  attempts: Attempt[];
  events: OverseerEvent[];
}

const attemptColumns: Column<Attempt>[] = [
  { header: "#", className: "num", cell: (a) => a.number },
  { header: "Outcome", cell: (a) => <StateBadge state={a.outcome} /> },
  { header: "Started", cell: (a) => a.startedAt },
  { header: "Finished", cell: (a) => a.finishedAt ?? "—" },
  { header: "Worker", cell: (a) => <code>{a.workerId.slice(-8)}</code> },
  {
    header: "Error",
    cell: (a) => (a.error ? `${a.error.code}: ${a.error.message}${a.error.retryable ? "" : " (not retryable)"}` : ""),
  },
];

const eventColumns: Column<OverseerEvent>[] = [
  { header: "Seq", className: "num", cell: (e) => e.seq },
  { header: "At", cell: (e) => e.at },
  { header: "Kind", cell: (e) => e.kind },
  { header: "Data", cell: (e) => <code className="clip">{e.data === undefined ? "" : JSON.stringify(e.data)}</code> },
];

export function JobDetailPage({ id, who }: { id: string; who: Whoami }) {
  const { data, error, reload } = useLive<JobDetail>(
    id,
    (signal) => api<JobDetail>(`/jobs/${encodeURIComponent(id)}`, { signal }),
    (e) => e.jobId === id,
    200,
  );
  const job = data?.job;
  const write = (verb: "retry" | "cancel" | "discard") => async () => {
    if (!job) return "";
    const answer = await api<any>(`/jobs/${job.id}/${verb}`, { method: "POST", ifMatch: job.version });
    if (verb === "discard") {
      navigate("/jobs");
      return "discarded";
    }
    const state = answer.job?.state ?? answer.state;
    return verb === "cancel" ? `${answer.effect}: now ${state}` : `retried: now ${state}`;
  };
  return (
    <>
      <p>
        <Link href="/jobs">← Jobs</Link>
      </p>
      <h1>
        Job <code>{id}</code>
      </h1>
      <ErrorNote error={error} />
      {!data && !error && <Loading what="the job" />}
      {job && data && (
        <>
          <dl className="facts">
            <dt>State</dt>
            <dd>
              <StateBadge state={job.state} />
              {job.cancelRequested && " (cancel requested)"}
            </dd>
            <dt>Task</dt>
            <dd>{job.task}</dd>
            <dt>Queue</dt>
            <dd>{job.queue}</dd>
            <dt>Attempts</dt>
            <dd>
              {job.attempts} of {job.maxAttempts}
            </dd>
            <dt>Priority</dt>
            <dd>{job.priority}</dd>
            <dt>Created</dt>
            <dd>{job.createdAt}</dd>
            <dt>Run at</dt>
            <dd>{job.runAt}</dd>
            <dt>Finished</dt>
            <dd>{job.finishedAt ?? "—"}</dd>
            <dt>Version</dt>
            <dd>{job.version}</dd>
          </dl>
          <div className="toolbar" role="toolbar" aria-label="job actions">
            {(["retry", "cancel", "discard"] as const).map((verb) => (
              <ActionButton
                key={verb}
                label={verb[0]?.toUpperCase() + verb.slice(1)}
                denied={deniedReason(who, verb)}
                run={write(verb)}
                onDone={reload}
              />
            ))}
          </div>
          {job.lastError && job.state !== "succeeded" && (
            <p className="error">
              Last error: {job.lastError.code}: {job.lastError.message}
            </p>
          )}
          <div className="two-col">
            <JsonView label="Payload" value={job.payload} />
            <JsonView label="Result" value={job.result} />
          </div>
          {job.progress !== null && job.progress !== undefined && <JsonView label="Progress" value={job.progress} />}
          <Section title="Attempts">
            <DataTable
              label="attempts"
              rows={data.attempts}
              columns={attemptColumns}
              rowKey={(a) => String(a.number)}
              empty="No attempts yet."
            />
          </Section>
          <Section title="Events">
            <DataTable
              label="events"
              rows={[...data.events].reverse()}
              columns={eventColumns}
              rowKey={(e) => String(e.seq)}
            />
          </Section>
        </>
      )}
    </>
  );
}
