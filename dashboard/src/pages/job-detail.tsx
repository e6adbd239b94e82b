/**
 * A job: its facts, payload and result, every attempt with its error, a timeline of its life
 * from its events, its latest progress, and a live tail of its events. The tail and the
 * timeline sit in fixed-height boxes, so arriving events never move the page.
 */
import { useEffect, useMemo, useState } from "react";
import {
  type Attempt,
  BULK_STATES,
  type Job,
  type JobStep,
  type OverseerEvent,
  type RetryPreview,
  type Whoami,
} from "../../../src/http/contract";
import { api, isAbort } from "../api/client";
import { eventStream } from "../api/event-stream";
import { ActionButton, ErrorNote, JsonView, Loading, Section, StateBadge } from "../components/common";
import { type Column, DataTable } from "../components/data-table";
import { useNow } from "../components/relative-time";
import { SimilarLessons } from "../components/similar-lessons";
import { UnregisteredTaskCallout } from "../components/task-registration";
import { useLive } from "../hooks";
import { Link, navigate } from "../router";
import { deniedReason } from "../session";
import { PendingApprovalLink } from "./approvals";

interface JobDetail {
  job: Job;
  attempts: Attempt[];
  events: OverseerEvent[];
  /** Its latest job.* events, which step and log events do not crowd out of the timeline. */
  lifecycle: OverseerEvent[];
  /** null if the server could not give one; the page works without it. */
  preview: RetryPreview | null;
  /** Its durable steps; null if the server could not give them. */
  steps: JobStep[] | null;
}

/**
 * One short line next to the Retry button: what happens next without anyone, and what Retry
 * would do. "Will retry automatically in 30 s (auto_retry)", "Dead: max_attempts_exceeded —
 * Retry starts a fresh set of 3 attempts", "Running: nothing to preview".
 */
export function retryPreviewText(p: RetryPreview, nowMs: number): string {
  const d = p.decision;
  if (d === null) {
    if (p.state === "running") return "Running: nothing to preview.";
    return p.manualRetry.allowed ? `${capital(p.state)} — ${retryClause(p)}` : capital(p.summary);
  }
  if (d.retry) {
    const at = p.retryAt === null ? null : Date.parse(p.retryAt) - nowMs;
    const when = at === null ? `in ${span(d.delayMs ?? 0)}` : at > 0 ? `in ${span(at)}` : "now";
    const then = p.nextDelaysMs.length === 0 ? "" : ` Should it fail: then ${p.nextDelaysMs.map(delay).join(", ")}.`;
    return `Will retry automatically ${when} (${d.reason}), attempt ${p.attempts + 1} of ${p.maxAttempts}.${then}`;
  }
  const policy = p.policy === "default" ? " (default policy)" : "";
  return p.manualRetry.allowed
    ? `${capital(p.state)}: ${d.reason}${policy} — ${retryClause(p)}`
    : `${capital(p.summary)}${policy}.`;
}

/**
 * The Retry button as the retry policy sees the job: its label says what a click does, and it is
 * enabled only when a manual retry is allowed (dead or cancelled), with the reason as its title
 * otherwise. Without a preview (the server could not give one) it is the plain button.
 */
export function retryButton(p: RetryPreview | null): { label: string; unavailable: string | null } {
  if (p === null) return { label: "Retry", unavailable: null };
  if (p.manualRetry.allowed) {
    return { label: `Retry (${p.maxAttempts} fresh attempt${p.maxAttempts === 1 ? "" : "s"})`, unavailable: null };
  }
  if (p.decision?.retry) return { label: "Retrying automatically", unavailable: p.manualRetry.message };
  return { label: "Retry", unavailable: p.manualRetry.message };
}

function retryClause(p: RetryPreview): string {
  return `Retry starts a fresh set of ${p.maxAttempts} attempt${p.maxAttempts === 1 ? "" : "s"}.`;
}

function capital(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Events held for the tail: the detail's latest 100 plus what arrives live. */
const KEEP = 300;

/** The steps of a job's life the timeline shows; progress and log lines stay in the tail. */
const LIFECYCLE = new Set([
  "job.enqueued",
  "job.started",
  "job.parked",
  "job.signalled",
  "job.failed",
  "job.retry_scheduled",
  "job.throttled",
  "job.released",
  "job.lost",
  "job.cancel_requested",
  "job.retried",
  "job.succeeded",
  "job.dead",
  "job.cancelled",
]);

/** "1.2 s", "340 ms", "3m 4s": a step's length, finer than `duration` for short jobs. */
/** A job's backoff in words: "1m, 5m, 15m (then the last again)", "exponential from 1s to 1h, jitter 20%". */
export function backoffText(b: Job["backoff"]): string {
  if (b === undefined) return "default";
  const jitter = b.jitter ? `, jitter ${Math.round(b.jitter * 100)}%` : "";
  if (b.type === "schedule") return `${(b.delaysMs ?? []).map(delay).join(", ")} (then the last again)${jitter}`;
  if (b.type === "fixed") return `fixed ${delay(b.delayMs ?? 0)}${jitter}`;
  return `exponential from ${delay(b.baseMs ?? 0)} to ${delay(b.capMs ?? 0)}${jitter}`;
}

/** A configured delay as it was likely written: 90000 is "1m 30s", 3600000 "1h", 250 "250ms". */
function delay(ms: number): string {
  const parts: string[] = [];
  let rest = ms;
  for (const [unit, size] of [
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1_000],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  if (rest > 0 || parts.length === 0) parts.push(`${rest}ms`);
  return parts.join(" ");
}

export function span(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

/** Unions two seq-sorted lists, no seq twice, oldest first, the newest KEEP. */
function mergeEvents(a: readonly OverseerEvent[], b: readonly OverseerEvent[]): OverseerEvent[] {
  const bySeq = new Map<number, OverseerEvent>();
  for (const e of a) bySeq.set(e.seq, e);
  for (const e of b) bySeq.set(e.seq, e);
  return [...bySeq.values()].sort((x, y) => x.seq - y.seq).slice(-KEEP);
}

const time = (iso: string) => iso.replace("T", " ").replace("Z", "");

const attemptColumns: Column<Attempt>[] = [
  { header: "#", className: "num", cell: (a) => a.number },
  { header: "Outcome", cell: (a) => <StateBadge state={a.outcome} /> },
  { header: "Started", cell: (a) => time(a.startedAt) },
  { header: "Finished", cell: (a) => (a.finishedAt ? time(a.finishedAt) : "—") },
  {
    header: "Took",
    className: "num",
    cell: (a) => (a.finishedAt ? span(Date.parse(a.finishedAt) - Date.parse(a.startedAt)) : "running"),
  },
  {
    header: "Worker",
    cell: (a) => (
      <Link href={`/workers/${encodeURIComponent(a.workerId)}`} aria-label={`worker ${a.workerId}`}>
        <code>{a.workerId}</code>
      </Link>
    ),
  },
  {
    header: "Error",
    cell: (a) =>
      a.error ? (
        <>
          {`${a.error.code}: ${a.error.message}${a.error.retryable ? "" : " (not retryable)"}`}
          {a.error.stack && (
            <details className="stack">
              <summary>stack</summary>
              {/* biome-ignore lint/a11y/noNoninteractiveTabindex lint/a11y/useSemanticElements: a long stack scrolls inside its pre, and a keyboard must reach it (and hear its name) to scroll it */}
              <pre tabIndex={0} role="region" aria-label="stack trace">
                {a.error.stack}
              </pre>
            </details>
          )}
        </>
      ) : (
        ""
      ),
  },
];

/** A step's stored result, read from the server the first time its row is opened. */
function StepResult({ jobId, step }: { jobId: string; step: JobStep }) {
  const [shown, setShown] = useState<{ text: string } | { error: string } | null>(null);
  const open = () => {
    if (shown) return;
    const path = `/jobs/${encodeURIComponent(jobId)}/steps/${encodeURIComponent(step.name)}`;
    api<{ result: unknown }>(path).then(
      (r) => setShown({ text: JSON.stringify(r.result, null, 2) }),
      (err: unknown) => setShown({ error: err instanceof Error ? err.message : String(err) }),
    );
  };
  return (
    <details onToggle={(e) => e.currentTarget.open && open()}>
      <summary aria-label={`${step.resultBytes} B: the result of ${step.name}`}>{step.resultBytes} B</summary>
      {shown === null ? (
        <Loading what="the result" />
      ) : "text" in shown ? (
        <pre>{shown.text}</pre>
      ) : (
        <ErrorNote error={shown.error} />
      )}
    </details>
  );
}

function stepColumns(jobId: string): Column<JobStep>[] {
  return [
    { header: "Step", cell: (s) => <code>{s.name}</code> },
    { header: "Status", cell: (s) => <StateBadge state={s.status} /> },
    { header: "Attempt", className: "num", cell: (s) => s.attempt ?? "—" },
    { header: "Started", cell: (s) => (s.startedAt ? time(s.startedAt) : "—") },
    { header: "Took", className: "num", cell: (s) => (s.durationMs === null ? "—" : span(s.durationMs)) },
    {
      header: "Result",
      cell: (s) =>
        s.resultBytes !== null ? (
          <StepResult jobId={jobId} step={s} />
        ) : s.error ? (
          <span className="error">
            {s.error.code}: {s.error.message}
          </span>
        ) : (
          "—"
        ),
    },
  ];
}

const eventColumns: Column<OverseerEvent>[] = [
  { header: "Seq", className: "num seq", cell: (e) => e.seq },
  { header: "At", className: "at", cell: (e) => e.at.slice(11, 23) },
  { header: "Kind", className: "kind", cell: (e) => e.kind },
  { header: "Data", cell: (e) => (e.data === undefined ? "" : JSON.stringify(e.data)) },
];

function Timeline({ events }: { events: readonly OverseerEvent[] }) {
  const steps = events.filter((e) => LIFECYCLE.has(e.kind));
  const first = steps[0];
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a long timeline scrolls, and a keyboard must reach it to scroll it
    <section className="timeline-box" tabIndex={0} aria-label="timeline, scrolls">
      {steps.length === 0 ? (
        <p className="muted">No lifecycle events retained for this job.</p>
      ) : (
        <ol className="timeline" aria-label="timeline">
          {steps.map((e, i) => {
            const before = steps[i - 1];
            const kind = e.kind.slice(4);
            return (
              <li key={e.seq} className={`step step-${kind}`} data-kind={e.kind}>
                <span className="step-kind">{kind.replace("_", " ")}</span>
                <time dateTime={e.at}>{time(e.at)}</time>
                <span className="muted">
                  {before ? `+${span(Date.parse(e.at) - Date.parse(before.at))}` : "start"}
                  {before && first && i === steps.length - 1
                    ? ` · ${span(Date.parse(e.at) - Date.parse(first.at))} in all`
                    : ""}
                </span>
              </li>
            );
          })}
        </ol>
      )}
    </section>
  );
}

/** A number shows as a bar (0-1 as a fraction, else as percent); anything else as JSON. */
function ProgressView({ value }: { value: unknown }) {
  if (value === null || value === undefined) return <span className="muted">none reported</span>;
  if (typeof value === "number" && Number.isFinite(value)) {
    const percent = value <= 1 ? value * 100 : Math.min(100, value);
    return (
      <span className="progress-line">
        <progress max={100} value={percent} aria-label="progress" /> {Math.round(percent)}%
      </span>
    );
  }
  return <code className="clip">{JSON.stringify(value)}</code>;
}

export function JobDetailPage({ id, who }: { id: string; who: Whoami }) {
  const { data, error, reload } = useLive<JobDetail>(
    id,
    async (signal) => {
      const path = `/jobs/${encodeURIComponent(id)}`;
      // Fetched with the job, so the line next to Retry always matches the state shown above it.
      const [detail, preview, steps] = await Promise.all([
        api<Omit<JobDetail, "preview" | "steps">>(path, { signal }),
        api<RetryPreview>(`${path}/retry-preview`, { signal }).catch((err: unknown) => {
          if (isAbort(err)) throw err;
          console.warn("retry preview unavailable", err);
          return null;
        }),
        api<{ items: JobStep[] }>(`${path}/steps`, { signal }).then(
          (page) => page.items,
          (err: unknown) => {
            if (isAbort(err)) throw err;
            console.warn("steps unavailable", err);
            return null;
          },
        ),
      ]);
      return { ...detail, preview, steps };
    },
    (e) => e.jobId === id,
    200,
  );
  const job = data?.job;
  // The live tail: this job's events from the shared stream, merged with what the detail read.
  const [live, setLive] = useState<OverseerEvent[]>([]);
  useEffect(
    () =>
      eventStream.subscribe((batch) => {
        const mine = batch.filter((e) => e.jobId === id);
        if (mine.length > 0) setLive((held) => mergeEvents(held, mine));
      }),
    [id],
  );
  const events = useMemo(() => mergeEvents(data?.events ?? [], live), [data?.events, live]);
  const lifecycle = useMemo(
    () =>
      mergeEvents(
        data?.lifecycle ?? [],
        live.filter((e) => e.kind.startsWith("job.")),
      ),
    [data?.lifecycle, live],
  );
  const latestProgress = useMemo(() => {
    const last = events.findLast((e) => e.kind === "job.progress");
    return last ? (last.data as { progress?: unknown } | undefined)?.progress : job?.progress;
  }, [events, job?.progress]);
  const write = (verb: "retry" | "cancel" | "discard") => async (): Promise<string> => {
    if (!job) return "";
    const answer = await api<any>(`/jobs/${job.id}/${verb}`, { method: "POST", ifMatch: job.version });
    if (verb === "discard") {
      navigate("/jobs");
      return "discarded";
    }
    const after: Job = answer.job ?? answer;
    return verb === "cancel" ? `${answer.effect}: now ${after.state}` : `retried: now ${after.state}`;
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
            <dt>Backoff</dt>
            <dd data-testid="backoff">{backoffText(job.backoff)}</dd>
            <dt>Priority</dt>
            <dd>{job.priority}</dd>
            {typeof job.timeoutMs === "number" && (
              <>
                <dt>Timeout</dt>
                <dd>{span(job.timeoutMs)} per attempt</dd>
              </>
            )}
            <dt>Created</dt>
            <dd>
              {job.createdAt}
              {job.enqueuedBy ? ` by ${job.enqueuedBy}` : ""}
            </dd>
            <dt>Run at</dt>
            <dd>{job.runAt}</dd>
            <dt>Finished</dt>
            <dd>{job.finishedAt ?? "—"}</dd>
            <dt>Progress</dt>
            <dd data-testid="progress">
              <ProgressView value={latestProgress} />
            </dd>
            <dt>Version</dt>
            <dd>{job.version}</dd>
          </dl>
          {job.state === "awaiting_approval" && <PendingApprovalLink jobId={job.id} />}
          <UnregisteredTaskCallout job={job} />
          <div className="toolbar" role="toolbar" aria-label="job actions">
            {(["retry", "cancel", "discard"] as const).map((verb) => {
              const retry = verb === "retry" ? retryButton(data.preview) : null;
              return (
                <ActionButton
                  key={verb}
                  label={retry?.label ?? verb[0]?.toUpperCase() + verb.slice(1)}
                  denied={deniedReason(who, verb)}
                  unavailable={retry?.unavailable ?? (verb === "retry" ? null : notAllowed(verb, job))}
                  run={write(verb)}
                  onDone={reload}
                  resetKey={actionState(job)}
                  confirm={verb === "retry" ? undefined : confirmation(verb, job)}
                />
              );
            })}
            {data.preview && (
              <span className="retry-preview" data-testid="retry-preview" title={data.preview.summary}>
                <RetryCountdown preview={data.preview} />
              </span>
            )}
          </div>
          {/* Always one line high, so an error arriving live does not push the page down. */}
          <p className="error last-error">
            {job.lastError && job.state !== "succeeded"
              ? `Last error: ${job.lastError.code}: ${job.lastError.message}`
              : ""}
          </p>
          <div className="two-col">
            <JsonView label="Payload" value={job.payload} />
            <JsonView label="Result" value={job.result} />
          </div>
          <Section title="Lessons like this">
            <SimilarLessons jobId={job.id} />
          </Section>
          <Section title="Timeline">
            <Timeline events={lifecycle} />
          </Section>
          {data.steps && data.steps.length > 0 && (
            <Section title="Steps">
              <DataTable label="steps" rows={data.steps} columns={stepColumns(job.id)} rowKey={(s) => s.name} />
            </Section>
          )}
          <Section title="Attempts">
            <DataTable
              label="attempts"
              rows={data.attempts}
              columns={attemptColumns}
              rowKey={(a) => String(a.number)}
              empty="No attempts yet."
            />
          </Section>
          <Section title="Events, live">
            {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling box must be reachable by keyboard to be scrolled (axe scrollable-region-focusable) */}
            <section className="event-tail job-tail" tabIndex={0} aria-label="events, live">
              <DataTable
                label="events"
                className="event-table"
                rows={[...events].reverse()}
                columns={eventColumns}
                rowKey={(e) => String(e.seq)}
              />
            </section>
          </Section>
        </>
      )}
    </>
  );
}

/** The job's state as its actions see it: a running job asked to stop is a state of its own. */
function actionState(job: Job): string {
  return job.cancelRequested ? `${job.state} (cancel requested)` : job.state;
}

/** Why cancel or discard cannot apply to the job now (the button's title), or null when it can. */
export function notAllowed(verb: "cancel" | "discard", job: Job): string | null {
  if (verb === "cancel") {
    if (!(BULK_STATES.cancel as readonly string[]).includes(job.state)) return `a ${job.state} job cannot be cancelled`;
    return job.cancelRequested ? "cancel already requested; the handler has not stopped yet" : null;
  }
  return (BULK_STATES.discard as readonly string[]).includes(job.state)
    ? null
    : `only a finished job (succeeded, dead or cancelled) can be discarded; this one is ${job.state}`;
}

function confirmation(verb: "cancel" | "discard", job: Job) {
  return verb === "cancel"
    ? {
        title: "Cancel this job?",
        message: `The ${job.task} job ${job.id} is ${job.state}; ${
          job.state === "running" ? "its handler is asked to stop" : "it will not run"
        }. A cancelled job can be retried later.`,
        confirmLabel: "Cancel the job",
      }
    : {
        title: "Discard this job?",
        message: `The ${job.task} job ${job.id} and its attempts are deleted for good; its events stay.`,
        confirmLabel: "Discard the job",
      };
}

/** The retry policy's line, its countdown ticking with the shared clock. */
function RetryCountdown({ preview }: { preview: RetryPreview }) {
  return <>{retryPreviewText(preview, useNow())}</>;
}
