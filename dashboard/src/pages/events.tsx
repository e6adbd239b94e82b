/**
 * Events: the event log's latest entries, then live ones from the shared event stream, filtered
 * by kind prefix and job id (kept in the URL). The list is bounded: only the newest KEEP events
 * are held and SHOWN rendered, and rows have a fixed height in a fixed-height box, so neither
 * memory nor layout grows with the traffic.
 */
import { type FormEvent, useEffect, useMemo, useState } from "react";
import type { OverseerEvent } from "../../../src/http/contract";
import { ApiError, api, isAbort, query } from "../api/client";
import { eventStream } from "../api/event-stream";
import { ErrorNote } from "../components/common";
import { Link, navigate, useLocation } from "../router";

/** Events held in memory, newest first. */
const KEEP = 1000;
/** Rows rendered at once. */
const SHOWN = 200;

function matches(e: OverseerEvent, kind: string, job: string): boolean {
  return (kind === "" || e.kind.startsWith(kind)) && (job === "" || (e.jobId ?? "").includes(job));
}

/** Prepends `incoming` (oldest first, as the stream delivers) to `held` (newest first), no seq twice. */
function merge(held: OverseerEvent[], incoming: OverseerEvent[]): OverseerEvent[] {
  const newest = held[0]?.seq ?? -1;
  const fresh = incoming.filter((e) => e.seq > newest).reverse();
  return fresh.length === 0 ? held : [...fresh, ...held].slice(0, KEEP);
}

export function EventsPage() {
  const { search } = useLocation();
  const kind = search.get("kind") ?? "";
  const job = search.get("job") ?? "";
  const [draft, setDraft] = useState({ kind, job });
  const [events, setEvents] = useState<OverseerEvent[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [paused, setPaused] = useState(false);

  useEffect(() => setDraft({ kind, job }), [kind, job]);

  useEffect(() => {
    if (paused) return;
    const controller = new AbortController();
    // The latest page first, so the page is not empty until something happens; again after
    // retention deleted events the stream could not deliver, so the newest are shown.
    const loadLatest = () =>
      api<{ items: OverseerEvent[] }>(`/events${query({ limit: 200 })}`, { signal: controller.signal }).then(
        (page) => setEvents((held) => merge(held, page.items)),
        (err: unknown) => {
          if (!isAbort(err)) setError(err instanceof ApiError ? err.describe() : String(err));
        },
      );
    loadLatest();
    const unsubscribe = eventStream.subscribe((batch) => setEvents((held) => merge(held, batch)));
    const unwatchGaps = eventStream.onGap(loadLatest);
    return () => {
      controller.abort();
      unsubscribe();
      unwatchGaps();
    };
  }, [paused]);

  const shown = useMemo(() => events.filter((e) => matches(e, kind, job)).slice(0, SHOWN), [events, kind, job]);
  const apply = (event: FormEvent) => {
    event.preventDefault();
    navigate(`/events${query({ kind: draft.kind.trim(), job: draft.job.trim() })}`);
  };

  return (
    <>
      <h1>Events</h1>
      <form className="filters" onSubmit={apply} aria-label="event filters">
        <label>
          Kind starts with
          <input
            name="kind"
            value={draft.kind}
            placeholder="job.  schedule.  worker."
            onChange={(e) => setDraft({ ...draft, kind: e.target.value })}
          />
        </label>
        <label>
          Job id
          <input name="job" value={draft.job} onChange={(e) => setDraft({ ...draft, job: e.target.value })} />
        </label>
        <button type="submit">Filter</button>
        <button type="button" onClick={() => navigate("/events")} disabled={kind === "" && job === ""}>
          Clear
        </button>
        <button type="button" onClick={() => setPaused(!paused)} aria-pressed={paused}>
          {paused ? "Resume tail" : "Pause tail"}
        </button>
      </form>
      <ErrorNote error={error} />
      <p className="muted small-note">
        {paused ? "Paused: " : "Live: "}showing {shown.length} of the newest {events.length} events
        {kind || job ? " that match" : ""} (at most {SHOWN}).
      </p>
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling box must be reachable by keyboard to be scrolled (axe scrollable-region-focusable) */}
      <section className="event-tail" tabIndex={0} aria-label="events, live">
        <table className="data-table event-table" aria-label="events">
          <thead>
            <tr>
              <th className="num seq">Seq</th>
              <th className="at">At</th>
              <th className="kind">Kind</th>
              <th className="job">Job</th>
              <th>Data</th>
            </tr>
          </thead>
          <tbody>
            {shown.length === 0 && (
              <tr>
                <td colSpan={5} className="empty">
                  {events.length === 0 ? "No events yet." : "No events match these filters."}
                </td>
              </tr>
            )}
            {shown.map((e) => (
              <tr key={e.seq} data-key={e.seq}>
                <td className="num">{e.seq}</td>
                <td>{e.at.slice(11, 23)}</td>
                <td>{e.kind}</td>
                <td>
                  {e.jobId ? (
                    <Link href={`/jobs/${e.jobId}`} className="id">
                      {e.jobId}
                    </Link>
                  ) : (
                    ""
                  )}
                </td>
                <td className="data">
                  <code>{e.data === undefined ? "" : JSON.stringify(e.data)}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </>
  );
}
