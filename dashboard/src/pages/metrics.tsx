/**
 * Metrics over time: throughput, failures and wait/run p50/p95 over the last hour, 6 hours, 24
 * hours or 7 days, from GET /stats/series (per-minute rollups), optionally narrowed to a queue
 * and a task, with the busiest queues and tasks of the range. The range and the pickers live in
 * the URL, so a view can be shared: `/stats?range=24h&queue=mail` (the server's `/metrics` is
 * Prometheus's).
 */
import type { SeriesRange, StatsSeries } from "../../../src/http/contract";
import { api, query } from "../api/client";
import { ErrorNote, Loading, Section } from "../components/common";
import { type Column, DataTable } from "../components/data-table";
import { MinuteChart } from "../components/minute-chart";
import { useLive } from "../hooks";
import { Link, navigate, useLocation } from "../router";

const RANGES: ReadonlyArray<{ range: SeriesRange; span: string }> = [
  { range: "1h", span: "the last hour" },
  { range: "6h", span: "the last 6 hours" },
  { range: "24h", span: "the last 24 hours" },
  { range: "7d", span: "the last 7 days" },
];

type Bucket = StatsSeries["buckets"][number];
type Named = StatsSeries["byQueue"][number];

interface MetricsData {
  series: StatsSeries;
  /** The queues and tasks to pick from: the busiest of the range, whatever is picked. */
  queues: string[];
  tasks: string[];
}

interface View {
  range: SeriesRange;
  queue: string;
  task: string;
}

async function loadMetrics(view: View, signal: AbortSignal): Promise<MetricsData> {
  const narrowed = view.queue !== "" || view.task !== "";
  const [series, all] = await Promise.all([
    api<StatsSeries>(`/stats/series${query({ range: view.range, queue: view.queue, task: view.task })}`, { signal }),
    narrowed ? api<StatsSeries>(`/stats/series${query({ range: view.range })}`, { signal }) : null,
  ]);
  const names = (rows: Named[], picked: string) => [
    ...new Set([...rows.map((r) => r.name), ...(picked ? [picked] : [])]),
  ];
  const source = all ?? series;
  return { series, queues: names(source.byQueue, view.queue), tasks: names(source.byTask, view.task) };
}

const ms = (value: number | null) => (value === null ? "—" : value >= 10_000 ? `${value / 1000} s` : `${value} ms`);

function href(view: View): string {
  return `/stats${query({ range: view.range, queue: view.queue, task: view.task })}`;
}

function columns(kind: "queue" | "task", view: View): Column<Named>[] {
  return [
    {
      header: kind === "queue" ? "Queue" : "Task",
      cell: (r) => <Link href={href({ ...view, [kind]: r.name })}>{r.name}</Link>,
    },
    { header: "Succeeded", className: "num", cell: (r) => r.succeeded },
    { header: "Dead", className: "num", cell: (r) => r.dead },
    { header: "Cancelled", className: "num", cell: (r) => r.cancelled },
    { header: "Retries", className: "num", cell: (r) => r.retries },
    { header: "Wait p50", className: "num", cell: (r) => ms(r.waitMs.p50) },
    { header: "Wait p95", className: "num", cell: (r) => ms(r.waitMs.p95) },
    { header: "Run p50", className: "num", cell: (r) => ms(r.runMs.p50) },
    { header: "Run p95", className: "num", cell: (r) => ms(r.runMs.p95) },
  ];
}

export function MetricsPage() {
  const { search } = useLocation();
  const asked = search.get("range");
  const view: View = {
    range: RANGES.some((r) => r.range === asked) ? (asked as SeriesRange) : "1h",
    queue: search.get("queue") ?? "",
    task: search.get("task") ?? "",
  };
  const { data, error } = useLive(
    href(view),
    (signal) => loadMetrics(view, signal),
    (e) => e.kind === "job.succeeded" || e.kind === "job.dead" || e.kind === "job.cancelled",
    2_000,
  );
  const span = RANGES.find((r) => r.range === view.range)?.span ?? "";
  // Hours and minutes within a day; the date too over a week.
  const time = (iso: string | undefined) =>
    !iso ? "" : view.range === "7d" ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(11, 16);
  const go = (next: Partial<View>) => navigate(href({ ...view, ...next }));
  const series = data?.series;
  const total = series?.total;
  return (
    <>
      <h1>Metrics</h1>
      <form className="filters" aria-label="metrics filters" onSubmit={(e) => e.preventDefault()}>
        <fieldset className="range-picker">
          <legend>Range</legend>
          {RANGES.map((r) => (
            <button
              key={r.range}
              type="button"
              aria-pressed={r.range === view.range}
              onClick={() => go({ range: r.range })}
            >
              {r.range}
            </button>
          ))}
        </fieldset>
        <label>
          Queue
          <select value={view.queue} onChange={(e) => go({ queue: e.target.value })}>
            <option value="">every queue</option>
            {(data?.queues ?? (view.queue ? [view.queue] : [])).map((q) => (
              <option key={q} value={q}>
                {q}
              </option>
            ))}
          </select>
        </label>
        <label>
          Task
          <select value={view.task} onChange={(e) => go({ task: e.target.value })}>
            <option value="">every task</option>
            {(data?.tasks ?? (view.task ? [view.task] : [])).map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
      </form>
      <ErrorNote error={error} />
      {!data && !error && <Loading what="metrics" />}
      {series && total && (
        <>
          <p className="muted" data-testid="metrics-totals">
            Over {span}: {total.succeeded} succeeded, {total.dead} dead, {total.cancelled} cancelled (
            {total.perMinute.toFixed(2)} jobs/min); {total.failures} failures ({total.retries} retries); wait p50{" "}
            {ms(total.waitMs.p50)}, p95 {ms(total.waitMs.p95)}; run p50 {ms(total.runMs.p50)}, p95 {ms(total.runMs.p95)}
            .
          </p>
          <div className="charts">
            <MinuteChart<Bucket>
              label={`Throughput per ${bucketName(series.bucketMs)}`}
              kind="bars"
              unit="jobs"
              span={span}
              time={time}
              buckets={series.buckets}
              series={[
                { name: "succeeded", className: "series-ok", value: (b) => b.succeeded },
                { name: "dead", className: "series-bad", value: (b) => b.dead },
                { name: "cancelled", className: "series-muted", value: (b) => b.cancelled },
              ]}
            />
            <MinuteChart<Bucket>
              label={`Failures per ${bucketName(series.bucketMs)}`}
              kind="bars"
              unit="attempts"
              span={span}
              time={time}
              buckets={series.buckets}
              series={[
                { name: "dead", className: "series-bad", value: (b) => b.dead },
                { name: "retries", className: "series-out", value: (b) => b.retries },
              ]}
            />
            <MinuteChart<Bucket>
              label="Wait time"
              kind="lines"
              unit="ms"
              time={time}
              buckets={series.buckets}
              series={[
                { name: "p50", className: "series-p50", value: (b) => b.waitMs.p50 },
                { name: "p95", className: "series-p95", value: (b) => b.waitMs.p95 },
              ]}
            />
            <MinuteChart<Bucket>
              label="Run time"
              kind="lines"
              unit="ms"
              time={time}
              buckets={series.buckets}
              series={[
                { name: "p50", className: "series-p50", value: (b) => b.runMs.p50 },
                { name: "p95", className: "series-p95", value: (b) => b.runMs.p95 },
              ]}
            />
          </div>
          {series.truncated && (
            <p className="muted">
              More jobs finished since the last rollup than one read takes: counts are lower bounds.
            </p>
          )}
          <Section title="By queue">
            <DataTable
              label="by queue"
              rows={series.byQueue}
              columns={columns("queue", view)}
              rowKey={(r) => r.name}
              empty="No job finished in this range."
            />
          </Section>
          <Section title="By task">
            <DataTable
              label="by task"
              rows={series.byTask}
              columns={columns("task", view)}
              rowKey={(r) => r.name}
              empty="No job finished in this range."
            />
          </Section>
        </>
      )}
    </>
  );
}

function bucketName(bucketMs: number): string {
  const minutes = bucketMs / 60_000;
  return minutes === 60 ? "hour" : minutes === 1 ? "minute" : `${minutes} minutes`;
}
