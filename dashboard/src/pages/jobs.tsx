/**
 * Jobs: the filtered, paged table of jobs (filters, page size and position in the URL), its
 * total count, and actions on the selected rows or on every job the filter matches. The table
 * holds still while the pointer or focus is in it (new rows are announced, shown on demand).
 */
import { useEffect, useState } from "react";
import {
  BULK_STATES,
  type BulkOperation,
  type BulkResult,
  COUNT_CAP,
  JOB_STATES,
  type Job,
  type JobCount,
  type JobPage,
  type Queue,
  type Whoami,
} from "../../../src/http/contract";
import { ApiError, api, query } from "../api/client";
import { count, ErrorNote, Loading, StateBadge } from "../components/common";
import { ConfirmDialog } from "../components/confirm-dialog";
import { type Column, DataTable } from "../components/data-table";
import { describeFilters, FilterBar, type FilterField, withinStart } from "../components/filter-bar";
import { HoldControls, useHeldRows, usePointerHold } from "../components/held-rows";
import { Pager, pagePosition } from "../components/pager";
import { RelativeTime } from "../components/relative-time";
import { UnregisteredTaskBadge, UnregisteredTasksBanner } from "../components/task-registration";
import { useLive } from "../hooks";
import { Link, navigate, useLocation } from "../router";
import { type Action, deniedReason } from "../session";

/**
 * What the URL holds besides the page position; `order` is "asc" or empty (newest first);
 * `payload` is one `path=value`, sent to the API as `payload.<path>=<value>`.
 */
const FILTERS = ["state", "queue", "task", "q", "payload", "created", "finished", "order", "limit"] as const;
type Filters = Record<(typeof FILTERS)[number], string>;

/**
 * The API's query string for the filters: the payload field as its `payload.<path>` parameter,
 * an empty value included (it matches an empty string, as in the API and the CLI); without "=",
 * the whole text is the path.
 */
function apiQuery(filters: Filters, page: Record<string, string | number | undefined>): string {
  const { payload, created, finished, limit: _limit, ...rest } = filters;
  const now = Date.now();
  const base = query({
    ...rest,
    createdAfter: withinStart(created, now),
    finishedAfter: withinStart(finished, now),
    ...page,
  });
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
  { header: "Created", className: "num", cell: (j) => <RelativeTime at={j.createdAt} /> },
];

/** Page sizes offered; the first is the default. */
const PAGE_SIZES = [25, 50, 100, 200] as const;

/** The API's bulk body for the filters: the same fields as the listing's query, states as a list. */
function bulkBody(filters: Filters, limit: number): Record<string, unknown> {
  const params = new URLSearchParams(apiQuery({ ...filters, order: "" }, {}));
  const body: Record<string, unknown> = { limit };
  for (const [k, v] of params) body[k] = k === "state" ? v.split(",") : v;
  return body;
}

/** The bulk operations the filter allows: it must pick states, each one the operation applies to. */
function allowedBulk(state: string): BulkOperation[] {
  const states = state.split(",").filter((s) => s !== "");
  if (states.length === 0) return [];
  return (Object.keys(BULK_STATES) as BulkOperation[]).filter((op) =>
    states.every((s) => (BULK_STATES[op] as readonly string[]).includes(s)),
  );
}

const VERB: Record<BulkOperation, { label: string; done: string }> = {
  retry: { label: "Retry", done: "retried" },
  cancel: { label: "Cancel", done: "cancelled" },
  discard: { label: "Discard", done: "discarded" },
};

export function JobsPage({ who }: { who: Whoami }) {
  const { search } = useLocation();
  const filters = {} as Filters;
  for (const f of FILTERS) filters[f] = search.get(f) ?? "";
  if (filters.order !== "asc") filters.order = "";
  const pageSize = PAGE_SIZES.find((n) => String(n) === filters.limit) ?? PAGE_SIZES[0];
  if (pageSize === PAGE_SIZES[0]) filters.limit = "";
  const { cursor } = pagePosition(search);
  const filterKey = query({ ...filters, order: "", limit: "" });
  const key = query({ ...filters, cursor });
  const { data, error, reload } = useLive<JobPage>(
    key,
    (signal) => api<JobPage>(`/jobs${apiQuery(filters, { cursor, limit: pageSize })}`, { signal }),
    (e) => e.kind.startsWith("job."),
    500,
  );
  // The total: counted up to the API's cap, so it stays cheap however many jobs there are.
  const total = useLive<JobCount>(
    filterKey,
    (signal) => api<JobCount>(`/jobs/count${apiQuery({ ...filters, order: "" }, {})}`, { signal }),
    (e) => e.kind.startsWith("job."),
    2000,
  );
  const queues = useLive<{ items: Queue[] }>(
    "queues",
    (signal) => api("/queues", { signal }),
    () => false,
  );
  const tasks = useLive<{ items: string[] }>(
    "tasks",
    (signal) => api("/tasks", { signal }),
    () => false,
  );
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [bulkResult, setBulkResult] = useState<string | null>(null);
  const [paused, setPaused] = useState(false);
  const { held: pointerIn, handlers: holdHandlers } = usePointerHold();
  const [asking, setAsking] = useState<BulkOperation | null>(null);
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new filter or page starts afresh
  useEffect(() => {
    setSelected(new Set());
    setBulkResult(null);
  }, [key]);
  const hold = paused || pointerIn || selected.size > 0 || asking !== null;
  const rows = useHeldRows(data?.items ?? null, (j) => j.id, hold, key);

  const fields: FilterField[] = [
    { kind: "select", name: "state", label: "State", options: JOB_STATES.map((s) => ({ value: s, label: s })) },
    {
      kind: "select",
      name: "queue",
      label: "Queue",
      options: (queues.data?.items ?? []).map((q) => ({ value: q.name, label: q.name })),
    },
    {
      kind: "select",
      name: "task",
      label: "Task",
      options: (tasks.data?.items ?? []).map((t) => ({ value: t, label: t })),
    },
    { kind: "text", name: "q", label: "Text", placeholder: "id or idempotency key" },
    { kind: "text", name: "payload", label: "Payload", placeholder: "field=value" },
    { kind: "within", name: "created", label: "Created" },
    { kind: "within", name: "finished", label: "Finished" },
    {
      kind: "select",
      name: "order",
      label: "Sort",
      anyLabel: "newest first",
      options: [{ value: "asc", label: "oldest first" }],
    },
    { kind: "page-size", name: "limit", label: "Per page", sizes: PAGE_SIZES },
  ];
  const apply = (next: Record<string, string>) => {
    const limit = next.limit === String(PAGE_SIZES[0]) ? "" : next.limit;
    navigate(`/jobs${query({ ...next, limit })}`);
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

  const matched = total.data;
  const matchedText = matched ? `${count(matched.count)}${matched.capped ? "+" : ""}` : "…";
  const filterText = describeFilters(fields, filters);
  const [running, setRunning] = useState(false);
  const byFilter = async (op: BulkOperation) => {
    if (!matched) return;
    setRunning(true);
    try {
      const result = await api<BulkResult>(`/jobs/${op}`, {
        method: "POST",
        body: bulkBody(filters, Math.min(matched.count, COUNT_CAP)),
      });
      const skipped = result.skipped.length > 0 ? `; ${result.skipped.length} skipped (changed meanwhile)` : "";
      setBulkResult(
        `${VERB[op].label}: ${count(result.changed)} of ${count(result.matched)} matched ${VERB[op].done}${skipped}`,
      );
    } catch (err) {
      setBulkResult(`${VERB[op].label} failed: ${err instanceof ApiError ? err.describe() : String(err)}`);
    } finally {
      setRunning(false);
      setAsking(null);
      reload();
      total.reload();
    }
  };

  return (
    <>
      <h1>Jobs</h1>
      <FilterBar fields={fields} values={filters} onApply={apply} onClear={() => navigate("/jobs")} />
      <div className="match-bar">
        <output className="match-count" aria-label="matching jobs" data-testid="job-count">
          {matched ? `${matchedText} matching` : "counting…"}
        </output>
        {matched &&
          matched.count > 0 &&
          allowedBulk(filters.state).map((op) => {
            const denied = deniedReason(who, op);
            return (
              <button
                key={op}
                type="button"
                disabled={denied !== null || running}
                title={denied ?? undefined}
                onClick={() => setAsking(op)}
              >
                {VERB[op].label} all {matchedText} matching
              </button>
            );
          })}
      </div>
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
        <HoldControls paused={paused} onPause={setPaused} fresh={rows.fresh} onShow={rows.apply} />
        {deniedReason(who, "retry") && <span className="muted">Retry and cancel {deniedReason(who, "retry")}</span>}
        {deniedReason(who, "discard") && <span className="muted">Discard {deniedReason(who, "discard")}</span>}
        {bulkResult && <output aria-label="bulk result">{bulkResult}</output>}
      </div>
      {asking && matched && (
        <ConfirmDialog
          title={`${VERB[asking].label} ${matchedText} jobs?`}
          confirmLabel={`${VERB[asking].label} ${count(Math.min(matched.count, COUNT_CAP))} jobs`}
          busy={running}
          onConfirm={() => void byFilter(asking)}
          onCancel={() => setAsking(null)}
        >
          <p>
            {matched.capped
              ? `More than ${count(COUNT_CAP)} jobs match; the newest ${count(COUNT_CAP)} will be ${VERB[asking].done}.`
              : `${count(matched.count)} job${matched.count === 1 ? "" : "s"} matching this filter will be ${VERB[asking].done}.`}
          </p>
          <p>
            Filter: <strong>{filterText}</strong>
          </p>
          {asking === "discard" && <p>Discarded jobs and their attempts are deleted; their events stay.</p>}
        </ConfirmDialog>
      )}
      <ErrorNote error={error ?? total.error} />
      {!data && !error && <Loading what="jobs" />}
      {data && rows.shown && (
        <>
          <UnregisteredTasksBanner jobs={rows.shown} />
          <div {...holdHandlers}>
            <DataTable
              label="jobs"
              rows={rows.shown}
              columns={columns}
              rowKey={(j) => j.id}
              selected={selected}
              onSelect={setSelected}
              empty="No jobs match these filters."
            />
          </div>
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
