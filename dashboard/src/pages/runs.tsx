/**
 * Runs: the table of runs, newest first, filtered by state, profile and creation time with a
 * page size (kept in the URL) and the number of matches, paged like the jobs table and kept fresh from the shared event stream, holding still
 * while the pointer or focus is in it; and the form that starts one.
 */

import { useState } from "react";
import { RUN_STATES, type Run, type RunCount, type RunPage, type RunProfiles } from "../../../src/http/contract";
import { api, query } from "../api/client";
import { count, ErrorNote, Loading, Section, StateBadge } from "../components/common";
import { type Column, DataTable } from "../components/data-table";
import { FilterBar, type FilterField, withinStart } from "../components/filter-bar";
import { HoldControls, useHeldRows, usePointerHold } from "../components/held-rows";
import { Pager, pagePosition } from "../components/pager";
import { RelativeTime } from "../components/relative-time";
import { StartRunForm } from "../components/start-run-form";
import { useLive } from "../hooks";
import { Link, navigate, useLocation } from "../router";

/** State filters beyond single states: the API takes a comma-separated list. */
const STATE_GROUPS = [
  { label: "active", value: "queued,running,waiting,pausing,paused,cancelling" },
  { label: "finished", value: "completed,failed,cancelled" },
];

/** Run events that change what the table shows; output lines alone do not. */
export const changesRunRow = (kind: string) => kind.startsWith("run.") && kind !== "run.output";

const columns: Column<Run>[] = [
  {
    header: "Run",
    cell: (r) => (
      <Link href={`/runs/${r.id}`} className="id" title={r.id}>
        {r.id}
      </Link>
    ),
  },
  { header: "Profile", cell: (r) => r.profile ?? <span className="muted">ad hoc</span> },
  { header: "State", cell: (r) => <StateBadge state={r.state} /> },
  { header: "Turn", className: "num", cell: (r) => `${r.currentTurn}/${r.spec.maxTurns}` },
  {
    header: "Tokens",
    className: "num",
    cell: (r) => (
      <span title={`input ${count(r.stats.tokens.input)}, output ${count(r.stats.tokens.output)}`}>
        {count(r.stats.tokens.input + r.stats.tokens.output)}
      </span>
    ),
  },
  { header: "Error", cell: (r) => (r.error ? <span className="clip error">{r.error.message}</span> : "") },
  { header: "Age", className: "num", cell: (r) => <RelativeTime at={r.createdAt} bare /> },
  { header: "Updated", className: "num", cell: (r) => <RelativeTime at={r.updatedAt} /> },
];

/** Page sizes offered; the first is the default. */
const PAGE_SIZES = [25, 50, 100, 200] as const;

export function RunsPage() {
  const { search } = useLocation();
  const state = search.get("state") ?? "";
  const profile = search.get("profile") ?? "";
  const pageSize = PAGE_SIZES.find((n) => String(n) === search.get("limit")) ?? PAGE_SIZES[0];
  const limit = pageSize === PAGE_SIZES[0] ? "" : String(pageSize);
  const { cursor } = pagePosition(search);
  const created = search.get("created") ?? "";
  const filters = { state, profile, created, limit };
  const key = query({ ...filters, cursor });
  const apiFilter = () => ({ state, profile, createdAfter: withinStart(created, Date.now()) });
  const { data, error } = useLive<RunPage>(
    key,
    (signal) => api<RunPage>(`/runs${query({ ...apiFilter(), cursor, limit: pageSize })}`, { signal }),
    (e) => changesRunRow(e.kind),
    500,
  );
  const total = useLive<RunCount>(
    query({ state, profile, created }),
    (signal) => api<RunCount>(`/runs/count${query(apiFilter())}`, { signal }),
    (e) => changesRunRow(e.kind),
    2000,
  );
  const profiles = useLive<RunProfiles>(
    "profiles",
    (signal) => api<RunProfiles>("/runs/profiles", { signal }),
    () => false,
  );
  const [paused, setPaused] = useState(false);
  const { held: pointerIn, handlers: holdHandlers } = usePointerHold();
  const rows = useHeldRows(data?.items ?? null, (r) => r.id, paused || pointerIn, key);

  const stateOptions = [...STATE_GROUPS, ...RUN_STATES.map((s) => ({ label: s, value: s }))];
  const fields: FilterField[] = [
    { kind: "select", name: "state", label: "State", options: stateOptions },
    {
      kind: "select",
      name: "profile",
      label: "Profile",
      options: (profiles.data?.profiles ?? []).map((p) => ({ value: p.name, label: p.name })),
    },
    { kind: "within", name: "created", label: "Created" },
    { kind: "page-size", name: "limit", label: "Per page", sizes: PAGE_SIZES },
  ];
  const apply = (next: Record<string, string>) =>
    navigate(`/runs${query({ ...next, limit: next.limit === String(PAGE_SIZES[0]) ? "" : next.limit })}`);

  return (
    <>
      <h1>Runs</h1>
      <Section title="Start a run">
        <ErrorNote error={profiles.error} />
        {!profiles.data && !profiles.error && <Loading what="run profiles" />}
        {profiles.data && (
          <StartRunForm profiles={profiles.data.profiles} onStarted={(run) => navigate(`/runs/${run.id}`)} />
        )}
      </Section>
      <FilterBar fields={fields} values={filters} onApply={apply} onClear={() => navigate("/runs")} />
      <div className="toolbar">
        <output className="match-count" aria-label="matching runs" data-testid="run-count">
          {total.data ? `${count(total.data.count)}${total.data.capped ? "+" : ""} matching` : "counting…"}
        </output>
        <HoldControls paused={paused} onPause={setPaused} fresh={rows.fresh} onShow={rows.apply} />
      </div>
      <ErrorNote error={error ?? total.error} />
      {!data && !error && <Loading what="runs" />}
      {data && rows.shown && (
        <>
          <div {...holdHandlers}>
            <DataTable
              label="runs"
              rows={rows.shown}
              columns={columns}
              rowKey={(r) => r.id}
              empty={state || profile || created ? "No runs match these filters." : "No runs yet: start one above."}
            />
          </div>
          <Pager path="/runs" filters={filters} search={search} nextCursor={data.nextCursor} />
        </>
      )}
    </>
  );
}
