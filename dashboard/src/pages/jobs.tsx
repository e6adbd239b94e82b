import { type FormEvent, useEffect, useState } from "react";
import { JOB_STATES, type Job, type JobPage, type Whoami } from "../../../src/http/contract";
import { ApiError, api, query } from "../api/client";
import { ago, ErrorNote, Loading, StateBadge } from "../components/common";
import { type Column, DataTable } from "../components/data-table";
import { Pager, pagePosition } from "../components/pager";
import { UnregisteredTaskBadge, UnregisteredTasksBanner } from "../components/task-registration";
import { useLive } from "../hooks";
import { Link, navigate, useLocation } from "../router";
import { type Action, deniedReason } from "../session";

/**
 * What the URL holds besides the page position; `order` is "asc" or empty (newest first);
 * `payload` is one `path=value`, sent to the API as `payload.<path>=<value>`.
 */
const FILTERS = ["state", "queue", "task", "q", "payload", "order"] as const;
type Filters = Record<(typeof FILTERS)[number], string>;

/**
 * The API's query string for the filters: the payload field as its `payload.<path>` parameter,
 * an empty value included (it matches an empty string, as in the API and the CLI); without "=",
 * the whole text is the path.
 */
function apiQuery({ payload, ...rest }: Filters, page: Record<string, string | number | undefined>): string {
  const base = query({ ...rest, ...page });
  if (payload.trim() === "") return base;
  const at = payload.indexOf("=");
  const [path, value] = at < 0 ? [payload, ""] : [payload.slice(0, at), payload.slice(at + 1)];
  const field = `${encodeURIComponent(`payload.${path.trim()}`)}=${encodeURIComponent(value)}`;
  return base === "" ? `?${field}` : `${base}&${field}`;
}

const columns: Column<Job>[] = [
  {
    header: "Job",
    cell: (j) => (
      <Link href={`/jobs/${j.id}`} className="id" title={j.id}>
        {j.id}
      </Link>
    ),
  },
  {
    header: "Task",
    cell: (j) => (
      <>
        {j.task} <UnregisteredTaskBadge job={j} />
      </>
    ),
  },
  { header: "Queue", cell: (j) => j.queue },
  { header: "State", cell: (j) => <StateBadge state={j.state} /> },
  { header: "Attempts", className: "num", cell: (j) => `${j.attempts}/${j.maxAttempts}` },
  { header: "Last error", cell: (j) => (j.lastError ? <span className="clip">{j.lastError.message}</span> : "") },
  { header: "Created", className: "num", cell: (j) => `${ago(j.createdAt)} ago` },
];

export function JobsPage({ who }: { who: Whoami }) {
  const { search } = useLocation();
  const filters: Filters = { state: "", queue: "", task: "", q: "", payload: "", order: "" };
  for (const f of FILTERS) filters[f] = search.get(f) ?? "";
  if (filters.order !== "asc") filters.order = "";
  const { cursor } = pagePosition(search);
  const key = query({ ...filters, cursor });
  const { data, error, reload } = useLive<JobPage>(
    key,
    (signal) => api<JobPage>(`/jobs${apiQuery(filters, { cursor, limit: 25 })}`, { signal }),
    (e) => e.kind.startsWith("job."),
    500,
  );
  const [draft, setDraft] = useState<Filters>(filters);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [bulkResult, setBulkResult] = useState<string | null>(null);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the URL is the source of truth for the form
  useEffect(() => {
    setDraft(filters);
    setSelected(new Set());
  }, [key]);

  const apply = (event?: FormEvent, next: Filters = draft) => {
    event?.preventDefault();
    navigate(`/jobs${query(next)}`);
  };

  const bulk = async (action: Action) => {
    const ids = [...selected];
    let changed = 0;
    const refused: string[] = [];
    for (const id of ids) {
      try {
        await api(`/jobs/${id}/${action}`, { method: "POST" });
        changed++;
      } catch (err) {
        refused.push(`${id.slice(-8)}: ${err instanceof ApiError ? err.describe() : String(err)}`);
      }
    }
    setBulkResult(
      `${action}: ${changed} of ${ids.length} changed${refused.length ? `; refused ${refused.join("; ")}` : ""}`,
    );
    setSelected(new Set());
    reload();
  };

  return (
    <>
      <h1>Jobs</h1>
      <form className="filters" onSubmit={apply} aria-label="filters">
        <label>
          State
          <select
            value={draft.state}
            onChange={(e) => {
              const next = { ...draft, state: e.target.value };
              setDraft(next);
              apply(undefined, next);
            }}
          >
            <option value="">any</option>
            {JOB_STATES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        {(["queue", "task", "q", "payload"] as const).map((f) => (
          <label key={f}>
            {f === "q" ? "Text" : f[0]?.toUpperCase() + f.slice(1)}
            <input
              value={draft[f]}
              placeholder={f === "q" ? "id or idempotency key" : f === "payload" ? "field=value" : ""}
              onChange={(e) => setDraft({ ...draft, [f]: e.target.value })}
            />
          </label>
        ))}
        <label>
          Sort
          <select
            value={draft.order}
            onChange={(e) => {
              const next = { ...draft, order: e.target.value };
              setDraft(next);
              apply(undefined, next);
            }}
          >
            <option value="">newest first</option>
            <option value="asc">oldest first</option>
          </select>
        </label>
        <button type="submit">Filter</button>
        <button type="button" onClick={() => navigate("/jobs")}>
          Clear
        </button>
      </form>
      <div className="toolbar">
        {(["retry", "cancel", "discard"] as const).map((action) => {
          const denied = deniedReason(who, action);
          return (
            <button
              key={action}
              type="button"
              disabled={selected.size === 0 || denied !== null}
              title={denied ?? undefined}
              onClick={() => void bulk(action)}
            >
              {action[0]?.toUpperCase() + action.slice(1)} selected ({selected.size})
            </button>
          );
        })}
        {deniedReason(who, "retry") && <span className="muted">Retry and cancel {deniedReason(who, "retry")}</span>}
        {deniedReason(who, "discard") && <span className="muted">Discard {deniedReason(who, "discard")}</span>}
        {bulkResult && <output aria-label="bulk result">{bulkResult}</output>}
      </div>
      <ErrorNote error={error} />
      {!data && !error && <Loading what="jobs" />}
      {data && (
        <>
          <UnregisteredTasksBanner jobs={data.items} />
          <DataTable
            label="jobs"
            rows={data.items}
            columns={columns}
            rowKey={(j) => j.id}
            selected={selected}
            onSelect={setSelected}
            empty="No jobs match these filters."
          />
          <Pager
            path="/jobs"
            filters={filters}
            search={search}
            nextCursor={data.nextCursor}
            firstLabel={filters.order === "asc" ? "Oldest" : "Newest"}
          />
        </>
      )}
    </>
  );
}
