/**
 * Schedules: the recurring tasks from the config file, their cron in words, when they fire next,
 * the jobs their latest ticks enqueued (with each one's state), and steering them.
 */

import cronstrue from "cronstrue";
import type { Job, Schedule, Whoami } from "../../../src/http/contract";
import { api } from "../api/client";
import { ActionButton, duration, ErrorNote, Loading, StateBadge } from "../components/common";
import { type Column, DataTable } from "../components/data-table";
import { useLive } from "../hooks";
import { Link } from "../router";
import { deniedReason } from "../session";

/** "in 3m 20s (2026-11-22 01:00 UTC)": how soon, then the instant. */
function when(iso: string | null, future: boolean): string {
  if (!iso) return "—";
  const ms = Date.parse(iso) - Date.now();
  const stamp = `${iso.slice(0, 16).replace("T", " ")} UTC`;
  const span = Math.abs(ms);
  // Days past two of them: "in 41d" reads better than "in 984h 12m".
  const length = span > 2 * 86_400_000 ? `${Math.round(span / 86_400_000)}d` : duration(span);
  return future ? `in ${ms <= 0 ? "0s" : length} (${stamp})` : `${length} ago (${stamp})`;
}

/** "At 02:00 AM": the cron expression in words, or nothing when cronstrue cannot read it. */
export function cronInWords(cron: string): string | null {
  try {
    return cronstrue.toString(cron, { use24HourTimeFormat: true, verbose: false });
  } catch {
    // The server accepted the expression; a form cronstrue does not know is shown as written only.
    return null;
  }
}

/** The jobs its latest ticks enqueued, newest first, each linked with its state. */
function RecentRuns({ schedule: s }: { schedule: Schedule }) {
  const runs = s.recentRuns ?? [];
  if (runs.length === 0) return <span className="muted">none in the last day</span>;
  return (
    <ul className="recent-runs" aria-label={`last runs of ${s.name}`}>
      {runs.map((r) => (
        <li key={r.jobId}>
          <Link href={`/jobs/${r.jobId}`} title={`tick ${r.tick}`}>
            {r.tick.slice(11, 16)}
          </Link>{" "}
          {r.state === null ? <span className="muted">discarded</span> : <StateBadge state={r.state} />}
        </li>
      ))}
    </ul>
  );
}

function status(s: Schedule): string {
  if (s.removed) return "removed";
  return s.enabled ? "enabled" : "disabled";
}

export function SchedulesPage({ who }: { who: Whoami }) {
  const { data, error, reload } = useLive(
    "schedules",
    async (signal) => (await api<{ items: Schedule[] }>("/schedules", { signal })).items,
    // A fired job's state changes show in its last runs.
    (e) => e.kind.startsWith("schedule.") || e.kind.startsWith("job."),
    1_000,
  );
  const denied = deniedReason(who, "schedule");
  const path = (s: Schedule, verb: string) => `/schedules/${encodeURIComponent(s.name)}/${verb}`;
  const columns: Column<Schedule>[] = [
    { header: "Schedule", cell: (s) => <strong>{s.name}</strong> },
    {
      header: "Cron",
      cell: (s) => {
        const words = cronInWords(s.cron);
        return (
          <>
            {words && <span className="cron-words">{words}</span>} <code>{s.cron}</code>{" "}
            <span className="muted">{s.timezone}</span>
          </>
        );
      },
    },
    {
      header: "Task",
      cell: (s) => <Link href={`/jobs?task=${encodeURIComponent(s.task)}`}>{s.task}</Link>,
    },
    { header: "Status", cell: (s) => <span className={`badge schedule-${status(s)}`}>{status(s)}</span> },
    { header: "Next run", cell: (s) => when(s.nextRunAt, true) },
    { header: "Last tick", cell: (s) => when(s.lastTickAt, false) },
    { header: "Last runs", cell: (s) => <RecentRuns schedule={s} /> },
    {
      header: "Actions",
      cell: (s) => (
        <span className="actions">
          <ActionButton
            key={`${s.name}-${s.enabled}`}
            label={s.enabled ? `Disable ${s.name}` : `Enable ${s.name}`}
            denied={denied ?? (s.removed ? "removed from the config file" : null)}
            onDone={reload}
            run={async () => {
              const next = await api<Schedule>(path(s, s.enabled ? "disable" : "enable"), { method: "POST" });
              return next.enabled ? "enabled" : "disabled";
            }}
          />
          <ActionButton
            label={`Run ${s.name} now`}
            denied={denied}
            run={async () => {
              const job = await api<Job>(path(s, "run"), { method: "POST" });
              return `enqueued ${job.id}`;
            }}
          />
        </span>
      ),
    },
  ];
  return (
    <>
      <h1>Schedules</h1>
      <ErrorNote error={error} />
      {!data && !error && <Loading what="schedules" />}
      {data && (
        <DataTable
          label="schedules"
          rows={data}
          columns={columns}
          rowKey={(s) => s.name}
          empty="No schedules. Define them in a config file and start Overseer with --config FILE."
        />
      )}
    </>
  );
}
