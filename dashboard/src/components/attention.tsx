/**
 * What needs a person, from `GET /attention` (one cheap read): the Overview's list, each entry
 * linking to the page filtered to it, and the navigation's count badges. Both reload on the
 * stream's events that can change a count.
 */
import type { Attention, OverseerEvent } from "../../../src/http/contract";
import { api, query } from "../api/client";
import { useLive } from "../hooks";
import { Link } from "../router";
import { timeLeft } from "./approval-card";
import { RelativeTime, useNow } from "./relative-time";

const COUNTED = ["approval.", "alert.", "job.dead", "job.retried", "job.discarded", "worker.", "queue.", "run."];

/** Whether the event can change what needs attention. */
export function isAttentionEvent(e: OverseerEvent): boolean {
  return COUNTED.some((prefix) => e.kind.startsWith(prefix));
}

export function loadAttention(signal: AbortSignal): Promise<Attention> {
  return api<Attention>("/attention", { signal });
}

/** The attention summary, kept fresh from the event stream. */
export function useAttention() {
  return useLive("attention", loadAttention, isAttentionEvent, 500);
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The Overview's list: every category with something in it, counted, its first items linked. */
export function AttentionList({ data }: { data: Attention }) {
  const now = useNow();
  const c = data.counts;
  if (c.total === 0) {
    return (
      <p className="muted" data-testid="attention-none">
        Nothing needs a person right now.
      </p>
    );
  }
  return (
    <section className="panel attention" aria-labelledby="attention-head">
      <header className="panel-head">
        <h2 id="attention-head">Needs attention ({c.total})</h2>
      </header>
      <ul className="attention-list">
        {c.approvals > 0 && (
          <li data-testid="attention-approvals">
            <Link href="/approvals">{plural(c.approvals, "pending approval")}</Link>
            <ul>
              {data.approvals.map((a) => (
                <li key={a.id}>
                  <Link href={`/approvals/${a.id}`}>{a.title}</Link>{" "}
                  <span className="muted" data-testid="time-left">
                    asked <RelativeTime at={a.createdAt} /> · {timeLeft(a, now)}
                  </span>
                </li>
              ))}
            </ul>
          </li>
        )}
        {c.alerts > 0 && (
          <li data-testid="attention-alerts">
            <Link href="/alerts?status=triggered">{plural(c.alerts, "triggered alert")}</Link>
            {c.exhaustedAlerts > 0 && (
              <>
                {" · "}
                <strong>{c.exhaustedAlerts} with nobody left to page</strong>
              </>
            )}
            <ul>
              {data.alerts.map((a) => (
                <li key={a.id}>
                  <Link href={`/alerts/${a.id}`}>{a.summary}</Link>{" "}
                  <span className="muted">
                    {a.source} · ×{a.count} · <RelativeTime at={a.createdAt} />
                    {data.exhaustedAlerts.some((x) => x.id === a.id) ? " · escalation exhausted" : ""}
                  </span>
                </li>
              ))}
            </ul>
          </li>
        )}
        {c.failedRuns > 0 && (
          <li data-testid="attention-failed-runs">
            <Link href="/runs?state=failed">{plural(c.failedRuns, "failed run")} in the last day</Link>
            <ul>
              {data.failedRuns.map((r) => (
                <li key={r.id}>
                  <Link href={`/runs/${r.id}`}>{r.profile ?? r.id}</Link> <span className="muted">{r.error ?? ""}</span>
                </li>
              ))}
            </ul>
          </li>
        )}
        {c.stalledRuns > 0 && (
          <li data-testid="attention-stalled-runs">
            <Link href="/alerts?source=run.stalled">{plural(c.stalledRuns, "stalled run")}</Link>
          </li>
        )}
        {c.lostWorkers > 0 && (
          <li data-testid="attention-lost-workers">
            <Link href="/workers">{plural(c.lostWorkers, "lost worker")}</Link>
            <ul>
              {data.lostWorkers.map((w) => (
                <li key={w.id}>
                  {w.name}{" "}
                  <span className="muted">
                    on {w.host}, last heartbeat <RelativeTime at={w.heartbeatAt} />
                  </span>
                </li>
              ))}
            </ul>
          </li>
        )}
        {c.deadJobs > 0 && (
          <li data-testid="attention-dead-jobs">
            <Link href="/jobs?state=dead">
              {data.deadJobs.capped ? `${c.deadJobs}+ dead jobs` : plural(c.deadJobs, "dead job")}
            </Link>
            <ul>
              {data.deadJobs.groups.map((g) => (
                <li key={`${g.queue}/${g.task}`}>
                  <Link href={`/jobs${query({ state: "dead", task: g.task, queue: g.queue })}`}>
                    {g.task} in {g.queue}
                  </Link>{" "}
                  <span className="muted">
                    {g.count}
                    {data.deadJobs.sampled < data.deadJobs.total ? ` of the newest ${data.deadJobs.sampled}` : ""}, last{" "}
                    <RelativeTime at={g.newestAt} />
                  </span>
                </li>
              ))}
            </ul>
          </li>
        )}
        {c.pausedQueues > 0 && (
          <li data-testid="attention-paused-queues">
            <Link href="/queues">{plural(c.pausedQueues, "paused queue")}</Link>:{" "}
            {data.pausedQueues.map((q, i) => (
              <span key={q.name}>
                {i > 0 ? ", " : ""}
                <Link href={`/jobs${query({ queue: q.name })}`}>{q.name}</Link>{" "}
                <span className="muted">
                  (since <RelativeTime at={q.pausedAt} />)
                </span>
              </span>
            ))}
          </li>
        )}
      </ul>
    </section>
  );
}
