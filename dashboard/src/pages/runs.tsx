/**
 * Runs: the table of runs, newest first, filtered by state and profile (kept in the URL), paged
 * like the jobs table and kept fresh from the shared event stream; and the form that starts one.
 */

import { RUN_STATES, type Run, type RunPage, type RunProfiles } from "../../../src/http/contract";
import { api, query } from "../api/client";
import { ago, count, ErrorNote, Loading, Section, StateBadge } from "../components/common";
import { type Column, DataTable } from "../components/data-table";
import { Pager, pagePosition } from "../components/pager";
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
  { header: "Age", className: "num", cell: (r) => ago(r.createdAt) },
  { header: "Updated", className: "num", cell: (r) => `${ago(r.updatedAt)} ago` },
];

export function RunsPage() {
  const { search } = useLocation();
  const state = search.get("state") ?? "";
  const profile = search.get("profile") ?? "";
  const { cursor } = pagePosition(search);
  const filters = { state, profile };
  const key = query({ ...filters, cursor });
  const { data, error } = useLive<RunPage>(
    key,
    (signal) => api<RunPage>(`/runs${query({ ...filters, cursor, limit: 25 })}`, { signal }),
    (e) => changesRunRow(e.kind),
    500,
  );
  const profiles = useLive<RunProfiles>(
    "profiles",
    (signal) => api<RunProfiles>("/runs/profiles", { signal }),
    () => false,
  );

  const setFilter = (name: "state" | "profile", value: string) =>
    navigate(`/runs${query({ ...filters, [name]: value })}`);
  const stateOptions = [...STATE_GROUPS, ...RUN_STATES.map((s) => ({ label: s, value: s }))];
  if (state && !stateOptions.some((o) => o.value === state)) stateOptions.push({ label: state, value: state });

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
      <form className="filters" aria-label="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          State
          <select value={state} onChange={(e) => setFilter("state", e.target.value)}>
            <option value="">any</option>
            {stateOptions.map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Profile
          <select value={profile} onChange={(e) => setFilter("profile", e.target.value)}>
            <option value="">any</option>
            {[...new Set([...(profiles.data?.profiles.map((p) => p.name) ?? []), ...(profile ? [profile] : [])])].map(
              (name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ),
            )}
          </select>
        </label>
        <button type="button" onClick={() => navigate("/runs")}>
          Clear
        </button>
      </form>
      <ErrorNote error={error} />
      {!data && !error && <Loading what="runs" />}
      {data && (
        <>
          <DataTable
            label="runs"
            rows={data.items}
            columns={columns}
            rowKey={(r) => r.id}
            empty={state || profile ? "No runs match these filters." : "No runs yet: start one above."}
          />
          <Pager path="/runs" filters={filters} search={search} nextCursor={data.nextCursor} />
        </>
      )}
    </>
  );
}
