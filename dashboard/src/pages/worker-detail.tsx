/**
 * One worker: its facts, counts and utilization, the jobs it runs (task linked to the job), and
 * Quiet, Resume and Stop, each asked for again before it is sent. A button is disabled, with
 * why, in a state that does not allow it and for a token that may not steer workers. The worker
 * reads the command at its next heartbeat; the page follows its events, and reads again every
 * few seconds for the counts its heartbeats write.
 */
import { useState } from "react";
import type { Whoami, Worker, WorkerJob } from "../../../src/http/contract";
import { api } from "../api/client";
import { count, describeOutcome, duration, ErrorNote, Loading, type Outcome, Section } from "../components/common";
import { type Column, DataTable } from "../components/data-table";
import { useLive } from "../hooks";
import { Link } from "../router";
import { deniedReason } from "../session";
import { usePolling, utilizationText, WorkerJobLink, WorkerStatus, workerEvent } from "./workers";

type Command = "quiet" | "resume" | "stop";

const COMMANDS: Record<Command, { label: string; ask: string; yes: string; done: string }> = {
  quiet: {
    label: "Quiet",
    ask: "Quiet this worker? It claims nothing more, hands back the jobs it holds unstarted and finishes the ones it runs.",
    yes: "Yes, quiet it",
    done: "asked to go quiet",
  },
  resume: {
    label: "Resume",
    ask: "Let this worker claim jobs again?",
    yes: "Yes, resume it",
    done: "asked to resume",
  },
  stop: {
    label: "Stop",
    ask: "Stop this worker? It goes quiet, finishes the jobs it runs (up to its shutdown timeout) and stops.",
    yes: "Yes, stop it",
    done: "asked to stop",
  },
};

/** Why the worker cannot take the command now, or null when it can. */
export function unavailable(w: Worker, command: Command): string | null {
  if (w.status === "stopped" || w.status === "lost") return `it is ${w.status}`;
  if (w.tasks !== undefined && w.tasks.length === 0) return "it runs no jobs (a run supervisor)";
  if (w.command === "stop" || w.status === "stopping") return "it was asked to stop";
  if (command === "quiet" && w.command === "quiet") return "it was asked to go quiet already";
  if (command === "resume" && w.command !== "quiet") return "it is not quiet";
  return null;
}

function CommandButton({
  worker,
  command,
  denied,
  onDone,
}: {
  worker: Worker;
  command: Command;
  denied: string | null;
  onDone: () => void;
}) {
  const text = COMMANDS[command];
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const why = unavailable(worker, command);
  const send = async () => {
    setBusy(true);
    try {
      await api<Worker>(`/workers/${encodeURIComponent(worker.id)}/${command}`, { method: "POST", body: {} });
      setOutcome({ ok: true, text: text.done });
    } catch (err) {
      setOutcome(describeOutcome(err));
    } finally {
      setBusy(false);
      setAsking(false);
      onDone();
    }
  };
  return (
    <span className="action">
      {asking ? (
        <span className="confirm" role="alertdialog" aria-label={`${text.label} worker ${worker.name}?`}>
          <span>{text.ask}</span>
          <button type="button" className="danger" disabled={busy} onClick={() => void send()}>
            {text.yes}
          </button>
          <button type="button" disabled={busy} onClick={() => setAsking(false)}>
            Keep it as it is
          </button>
        </span>
      ) : (
        <button
          type="button"
          disabled={denied !== null || why !== null}
          title={denied ?? (why === null ? undefined : `Not now: ${why}`)}
          onClick={() => {
            setOutcome(null);
            setAsking(true);
          }}
        >
          {text.label}
        </button>
      )}
      {outcome && (
        <output className={outcome.ok ? "ok" : "error"} aria-label={`${text.label} result`}>
          {outcome.text}
        </output>
      )}
    </span>
  );
}

const jobColumns: Column<WorkerJob>[] = [
  { header: "Task", cell: (j) => <WorkerJobLink job={j} /> },
  {
    header: "Job",
    cell: (j) => (
      <Link href={`/jobs/${j.id}`} className="id">
        {j.id}
      </Link>
    ),
  },
  { header: "Queue", cell: (j) => j.queue },
  { header: "Started", cell: (j) => (j.held ? "held, not started" : (j.startedAt ?? "—")) },
];

export function WorkerDetailPage({ id, who }: { id: string; who: Whoami }) {
  const {
    data: w,
    error,
    reload,
  } = useLive(
    `worker:${id}`,
    (signal) => api<Worker>(`/workers/${encodeURIComponent(id)}`, { signal }),
    (e) => workerEvent(e.kind),
    500,
  );
  usePolling(reload);
  // The scope that pauses queues (operator) steers workers.
  const denied = deniedReason(who, "pause");
  return (
    <>
      <p>
        <Link href="/workers">← Workers</Link>
      </p>
      <h1>
        Worker <code>{w?.name ?? id}</code>
      </h1>
      <ErrorNote error={error} />
      {!w && !error && <Loading what="the worker" />}
      {w && (
        <>
          <dl className="facts">
            <dt>Status</dt>
            <dd data-testid="worker-status">
              <WorkerStatus worker={w} />
            </dd>
            <dt>Utilization</dt>
            <dd>{utilizationText(w)}</dd>
            <dt>Processed</dt>
            <dd>{count(w.processed)}</dd>
            <dt>Failed</dt>
            <dd>{count(w.failed)}</dd>
            <dt>Id</dt>
            <dd>
              <code>{w.id}</code>
            </dd>
            <dt>Host / pid</dt>
            <dd>
              {w.host} / {w.pid}
            </dd>
            <dt>Queues</dt>
            <dd>{w.queues?.join(", ") ?? "all"}</dd>
            <dt>Tasks</dt>
            <dd>{(w.tasks ?? []).join(", ") || "—"}</dd>
            <dt>Heartbeat</dt>
            <dd>{duration(w.heartbeatAgeMs)} ago</dd>
            <dt>Started</dt>
            <dd>{w.startedAt ?? "—"}</dd>
            {w.stoppedAt && (
              <>
                <dt>Stopped</dt>
                <dd>{w.stoppedAt}</dd>
              </>
            )}
          </dl>
          <Section title="Control">
            <p className="muted">
              The worker reads a command at its next heartbeat (every few seconds; at once in the server's own process).
            </p>
            <div className="actions">
              {(["quiet", "resume", "stop"] as const).map((c) => (
                <CommandButton key={c} worker={w} command={c} denied={denied} onDone={reload} />
              ))}
            </div>
            {denied && <p className="muted small-text">{denied}</p>}
          </Section>
          <Section title={`Running jobs (${w.jobs.length})`}>
            <DataTable
              label="running jobs"
              rows={w.jobs}
              columns={jobColumns}
              rowKey={(j) => j.id}
              className="stack-narrow"
              empty="It runs no jobs now."
            />
          </Section>
        </>
      )}
    </>
  );
}
