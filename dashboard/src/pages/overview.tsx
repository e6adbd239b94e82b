import { JOB_STATES, type Queue, type Stats, type Worker } from "../../../src/http/contract";
import { api, query } from "../api/client";
import { AttentionList, useAttention } from "../components/attention";
import { duration, ErrorNote, Loading, Section } from "../components/common";
import { type Column, DataTable } from "../components/data-table";
import { MinuteChart } from "../components/minute-chart";
import { useLive } from "../hooks";
import { Link } from "../router";

interface OverviewData {
  stats: Stats;
  queues: Queue[];
  workers: Worker[];
}

async function loadOverview(signal: AbortSignal): Promise<OverviewData> {
  const [stats, queues, workers] = await Promise.all([
    api<Stats>("/stats?minutes=60", { signal }),
    api<{ items: Queue[] }>("/queues", { signal }),
    api<{ items: Worker[] }>("/workers", { signal }),
  ]);
  return { stats, queues: queues.items, workers: workers.items };
}

const queueColumns: Column<Queue>[] = [
  { header: "Queue", cell: (q) => <Link href={`/jobs${query({ queue: q.name })}`}>{q.name}</Link> },
  ...JOB_STATES.map((s) => ({ header: s, className: "num", cell: (q: Queue) => q.counts[s] ?? 0 })),
  { header: "Oldest waiting", className: "num", cell: (q) => duration(q.oldestWaitingAgeMs ?? null) },
  { header: "Paused", cell: (q) => (q.paused ? "paused" : "") },
];

const ms = (value: number | null) => (value === null ? "—" : `${value} ms`);
/** The part of the hour that has data (the store may be younger): the jobs/min divide by it. */
const since = (coveredMs: number) =>
  coveredMs >= 3_600_000 ? "Last hour" : `Last ${Math.max(1, Math.round(coveredMs / 60_000))} min`;

export function OverviewPage() {
  const { data, error } = useLive(
    "overview",
    loadOverview,
    (e) => e.kind.startsWith("job.") || e.kind.startsWith("worker.") || e.kind.startsWith("queue."),
    500,
  );
  // What needs a person comes first, in its own read: it shows before the counts and charts.
  const attention = useAttention();
  const alive = data?.workers.filter((w) => w.status === "active" || w.status === "quiet").length ?? 0;
  return (
    <>
      <h1>Overview</h1>
      <ErrorNote error={attention.error} />
      {!attention.data && !attention.error && <Loading what="what needs attention" />}
      {attention.data && <AttentionList data={attention.data} />}
      <ErrorNote error={error} />
      {!data && !error && <Loading what="counts" />}
      {data && (
        <>
          <ul className="counts" aria-label="jobs by state">
            {JOB_STATES.map((s) => (
              <li key={s} className={`count state-${s}`}>
                <Link href={`/jobs?state=${s}`} className="count-link">
                  <span className="count-value" data-testid={`count-${s}`}>
                    {data.stats.counts[s] ?? 0}
                  </span>
                  <span className="count-label">{s}</span>
                </Link>
              </li>
            ))}
            <li className="count">
              <Link href="/workers" className="count-link">
                <span className="count-value" data-testid="workers-alive">
                  {alive}
                </span>
                <span className="count-label">workers alive</span>
              </Link>
            </li>
          </ul>
          <p className="muted">
            {since(data.stats.window.coveredMs)}: {data.stats.window.finished.succeeded} succeeded,{" "}
            {data.stats.window.finished.dead} dead ({data.stats.window.throughputPerMinute.succeeded.toFixed(1)}{" "}
            jobs/min); wait p95 {ms(data.stats.window.waitMs.p95)}, run p95 {ms(data.stats.window.runMs.p95)}.
          </p>
          <div className="charts">
            <MinuteChart
              label="Throughput per minute"
              kind="bars"
              unit="jobs"
              buckets={data.stats.window.perMinute}
              series={[
                { name: "succeeded", className: "series-ok", value: (b) => b.succeeded },
                { name: "dead", className: "series-bad", value: (b) => b.dead },
                { name: "cancelled", className: "series-muted", value: (b) => b.cancelled },
              ]}
            />
            <MinuteChart
              label="Run time per minute"
              kind="lines"
              unit="ms"
              buckets={data.stats.window.perMinute}
              series={[
                { name: "p50", className: "series-p50", value: (b) => b.runMsP50 },
                { name: "p95", className: "series-p95", value: (b) => b.runMsP95 },
              ]}
            />
          </div>
          <Section title="Queues">
            <DataTable
              label="queues"
              rows={data.queues}
              columns={queueColumns}
              rowKey={(q) => q.name}
              empty="No queues yet."
            />
          </Section>
        </>
      )}
    </>
  );
}
