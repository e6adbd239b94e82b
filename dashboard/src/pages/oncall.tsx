/**
 * On call: for each rotation of the config's `alerts.rotations`, who is on call now (an override's
 * person, naming who set it and why, while one is in force), until when (in the viewer's time
 * zone, with a countdown that ticks every second), who is next and when, the people in turn
 * order with the shift length and the handoff's time zone, and the overrides ahead. Operators
 * put someone on call and cancel an override (after a confirmation); a viewer sees no form.
 * Below, the override history of every rotation or one (`?rotation=` in the URL), cancelled
 * ones marked.
 *
 * Overrides made or cancelled append `oncall.*` events, so the page follows the event stream;
 * a handoff appends none, so the status is read again when the soonest "until" passes.
 */
import { type FormEvent, type ReactNode, type RefObject, useEffect, useRef, useState } from "react";
import type { OncallOverridePage, OncallOverrideRecord, OncallStatus, Whoami } from "../../../src/http/contract";
import { ApiError, api, query } from "../api/client";
import { ErrorNote, Loading, Section } from "../components/common";
import { type Column, DataTable } from "../components/data-table";
import { Pager, pagePosition } from "../components/pager";
import { useNow } from "../components/relative-time";
import { useLive } from "../hooks";
import { navigate, useLocation } from "../router";
import { deniedReason } from "../session";

type RotationStatus = OncallStatus["rotations"][number];

const isOncallEvent = (kind: string) => kind.startsWith("oncall.");
const HISTORY_PAGE = 20;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** A timer longer than this is cut short (setTimeout cannot wait 90 days); reading again is harmless. */
const MAX_WAIT_MS = HOUR_MS;

/** The viewer's time zone, as the browser reports it. */
const VIEWER_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone;

/**
 * "Tue 2026-12-08 09:00 CET": an instant in `timeZone` (the viewer's unless given), built from
 * parts so it reads the same in every locale.
 */
export function localTime(iso: string, timeZone?: string): string {
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone,
    weekday: "short",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
    timeZoneName: "short",
  }).formatToParts(new Date(iso));
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? "";
  return `${part("weekday")} ${part("year")}-${part("month")}-${part("day")} ${part("hour")}:${part("minute")} ${part("timeZoneName")}`;
}

/** "3d 4h 12m 5s", "12m 5s", "5s": how long until something, to the second. */
export function timeLeft(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const units: Array<[number, string]> = [
    [Math.floor(s / 86_400), "d"],
    [Math.floor((s % 86_400) / 3600), "h"],
    [Math.floor((s % 3600) / 60), "m"],
    [s % 60, "s"],
  ];
  const first = units.findIndex(([n]) => n > 0);
  return first === -1
    ? "0s"
    : units
        .slice(first)
        .map(([n, u]) => `${n}${u}`)
        .join(" ");
}

/** "in 3d 4h 12m 5s", or "now" once it is due (the page reads the status again then). */
function inTime(iso: string, now: number): string {
  const ms = Date.parse(iso) - now;
  return ms > 0 ? `in ${timeLeft(ms)}` : "now";
}

/** A shift's length in words: "1 week", "2 days", "12 hours". */
export function shiftLength(ms: number): string {
  const [n, unit] =
    ms % (7 * DAY_MS) === 0
      ? [ms / (7 * DAY_MS), "week"]
      : ms % DAY_MS === 0
        ? [ms / DAY_MS, "day"]
        : [ms / HOUR_MS, "hour"];
  return `${n} ${unit}${n === 1 ? "" : "s"}`;
}

/** "shifts of 1 week, handing off at 09:00 in Europe/Berlin"; shorter shifts do not keep a time of day. */
function shiftText(r: RotationStatus): string {
  const [day, time] = r.start.split("T");
  return r.shiftMs % DAY_MS === 0
    ? `shifts of ${shiftLength(r.shiftMs)}, handing off at ${time} in ${r.timezone}`
    : `shifts of ${shiftLength(r.shiftMs)}, the first from ${day} ${time} in ${r.timezone}`;
}

/** Where an override stands at `now`: cancelled, ended, in force or ahead. */
function overrideState(o: OncallOverrideRecord, now: number): "cancelled" | "ended" | "in force" | "upcoming" {
  if (o.cancelledAt !== null) return "cancelled";
  if (Date.parse(o.endsAt) <= now) return "ended";
  return Date.parse(o.startsAt) <= now ? "in force" : "upcoming";
}

function OverrideBadge({ o, now }: { o: OncallOverrideRecord; now: number }) {
  const state = overrideState(o, now);
  return <span className={`badge oncall-state-${state.replace(" ", "-")}`}>{state}</span>;
}

/** "override by olivia: alice at the dentist". */
function overrideNote(o: OncallOverrideRecord): string {
  return `override by ${o.createdBy}${o.reason ? `: ${o.reason}` : ""}`;
}

/** What the server refused, and which field it named (INVALID_ARGUMENT's details.field). */
interface Refusal {
  text: string;
  field: string | null;
}

function refusal(err: unknown): Refusal {
  if (!(err instanceof ApiError)) return { text: String(err), field: null };
  return { text: err.describe(), field: typeof err.details.field === "string" ? err.details.field : null };
}

/** An upcoming override's Cancel button, which asks first; the server's refusal is shown beside it. */
function CancelOverride({ o, onDone }: { o: OncallOverrideRecord; onDone: () => void }) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const cancel = async () => {
    setBusy(true);
    try {
      await api<OncallOverrideRecord>(`/oncall/overrides/${o.id}/cancel`, { method: "POST" });
      setAsking(false);
      setError(null);
      onDone();
    } catch (err) {
      setError(refusal(err).text);
    } finally {
      setBusy(false);
    }
  };
  return (
    <span className="oncall-cancel">
      {asking ? (
        <>
          <span>Cancel {o.person}'s override?</span>
          <button type="button" className="danger" disabled={busy} onClick={() => void cancel()}>
            Yes, cancel it
          </button>
          <button type="button" disabled={busy} onClick={() => setAsking(false)}>
            Keep it
          </button>
        </>
      ) : (
        <button type="button" aria-label={`Cancel ${o.person}'s override`} onClick={() => setAsking(true)}>
          Cancel
        </button>
      )}
      {error && (
        <output className="error" aria-label="cancel result">
          {error}
        </output>
      )}
    </span>
  );
}

/** One rotation: now, until when, next, the turns, and the overrides ahead. */
function RotationCard({
  r,
  now,
  canAct,
  onOverride,
  onDone,
}: {
  r: RotationStatus;
  now: number;
  canAct: boolean;
  onOverride: (rotation: string) => void;
  onDone: () => void;
}) {
  const override = r.now.override;
  return (
    <article
      className={`approval-card oncall-card${override ? " oncall-overridden" : ""}`}
      aria-label={`rotation ${r.name}`}
      data-rotation={r.name}
    >
      <header className="approval-head">
        <h2>{r.name}</h2>
        {canAct && (
          <button type="button" className="small" onClick={() => onOverride(r.name)}>
            Put someone on call
          </button>
        )}
      </header>
      <dl className="oncall-facts">
        <dt>On call now</dt>
        <dd data-testid={`now-${r.name}`}>
          <strong className="oncall-person">{r.now.person}</strong>
          {override && <span className="muted"> ({overrideNote(override)})</span>}
        </dd>
        <dt>Until</dt>
        <dd>
          <time dateTime={r.now.until}>{localTime(r.now.until)}</time>{" "}
          <span className="countdown" data-testid={`until-${r.name}`}>
            {inTime(r.now.until, now)}
          </span>
        </dd>
        <dt>Next</dt>
        <dd data-testid={`next-${r.name}`}>
          {r.next ? (
            <>
              <strong>{r.next.person}</strong> at <time dateTime={r.next.at}>{localTime(r.next.at)}</time>{" "}
              <span className="muted">({inTime(r.next.at, now)})</span>
              {r.next.override && <span className="muted"> ({overrideNote(r.next.override)})</span>}
            </>
          ) : (
            <span className="muted">nobody else: {r.now.person} stays on call</span>
          )}
        </dd>
        <dt>Turns</dt>
        <dd>
          <ol className="oncall-turns" aria-label={`${r.name} turn order`}>
            {r.people.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ol>
          <span className="muted oncall-shift" data-testid={`shift-${r.name}`}>
            {shiftText(r)}
          </span>
        </dd>
      </dl>
      <h3 className="oncall-subhead">Overrides ahead</h3>
      {r.upcoming.length === 0 ? (
        <p className="muted">None: the rotation runs as scheduled.</p>
      ) : (
        <ul className="oncall-upcoming" aria-label={`${r.name} overrides ahead`}>
          {r.upcoming.map((o) => (
            <li key={o.id} data-override={o.id}>
              <span>
                <OverrideBadge o={o} now={now} /> <strong>{o.person}</strong> from{" "}
                <time dateTime={o.startsAt}>{localTime(o.startsAt)}</time> until{" "}
                <time dateTime={o.endsAt}>{localTime(o.endsAt)}</time>
              </span>
              <span className="muted">{overrideNote(o)}</span>
              {canAct && <CancelOverride key={o.id} o={o} onDone={onDone} />}
            </li>
          ))}
        </ul>
      )}
    </article>
  );
}

/** A `datetime-local` value (the viewer's zone) as an ISO instant; blank stays undefined. */
function instant(local: string): string | undefined {
  return local === "" ? undefined : new Date(local).toISOString();
}

/** Putting someone on call: rotation, person (its people, or anyone in alerts.people), from, until or for, reason. */
function OverrideForm({
  rotations,
  rotation,
  setRotation,
  personRef,
  onDone,
}: {
  rotations: RotationStatus[];
  rotation: string;
  setRotation: (name: string) => void;
  personRef: RefObject<HTMLInputElement | null>;
  onDone: () => void;
}) {
  const [person, setPerson] = useState("");
  const [from, setFrom] = useState("");
  const [ends, setEnds] = useState<"for" | "until">("for");
  const [span, setSpan] = useState("");
  const [until, setUntil] = useState("");
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<{ ok: true; text: string } | ({ ok: false } & Refusal) | null>(null);
  const people = rotations.find((r) => r.name === rotation)?.people ?? [];
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    try {
      const body = {
        rotation,
        person: person.trim(),
        from: instant(from),
        ...(ends === "for" ? { for: span.trim() } : { until: instant(until) ?? "" }),
        reason: reason.trim() || undefined,
      };
      const made = await api<OncallOverrideRecord>("/oncall/overrides", { method: "POST", body });
      setOutcome({
        ok: true,
        text: `${made.person} is on call in ${made.rotation} from ${localTime(made.startsAt)} until ${localTime(made.endsAt)}.`,
      });
      setPerson("");
      setFrom("");
      setSpan("");
      setUntil("");
      setReason("");
      onDone();
    } catch (err) {
      setOutcome({ ok: false, ...refusal(err) });
    } finally {
      setBusy(false);
    }
  };
  const invalid = (field: string) => (outcome?.ok === false && outcome.field === field ? true : undefined);
  return (
    <form className="oncall-form" aria-label="put someone on call" onSubmit={(e) => void submit(e)}>
      <Field id="oncall-rotation" label="Rotation">
        <select
          id="oncall-rotation"
          value={rotation}
          onChange={(e) => setRotation(e.target.value)}
          aria-invalid={invalid("rotation")}
        >
          {rotations.map((r) => (
            <option key={r.name} value={r.name}>
              {r.name}
            </option>
          ))}
        </select>
      </Field>
      <Field id="oncall-person" label="Person" note="the rotation's people, or anyone in alerts.people">
        <input
          id="oncall-person"
          ref={personRef}
          value={person}
          list="oncall-people"
          required
          maxLength={64}
          placeholder={people.join(", ")}
          aria-describedby="oncall-person-note"
          aria-invalid={invalid("person")}
          onChange={(e) => setPerson(e.target.value)}
        />
        <datalist id="oncall-people">
          {people.map((p) => (
            <option key={p} value={p} />
          ))}
        </datalist>
      </Field>
      <Field id="oncall-from" label="From" note={`blank: now; in your time zone (${VIEWER_ZONE})`}>
        <input
          id="oncall-from"
          type="datetime-local"
          value={from}
          aria-describedby="oncall-from-note"
          aria-invalid={invalid("from")}
          onChange={(e) => setFrom(e.target.value)}
        />
      </Field>
      <Field id="oncall-ends" label="Ends">
        <select id="oncall-ends" value={ends} onChange={(e) => setEnds(e.target.value as "for" | "until")}>
          <option value="for">after a while</option>
          <option value="until">at a time</option>
        </select>
      </Field>
      {ends === "for" ? (
        <Field id="oncall-for" label="For" note="a duration such as 4h or 2d">
          <input
            id="oncall-for"
            value={span}
            required
            maxLength={20}
            placeholder="4h"
            aria-describedby="oncall-for-note"
            aria-invalid={invalid("for")}
            onChange={(e) => setSpan(e.target.value)}
          />
        </Field>
      ) : (
        <Field id="oncall-until" label="Until" note="in your time zone">
          <input
            id="oncall-until"
            type="datetime-local"
            value={until}
            required
            aria-describedby="oncall-until-note"
            aria-invalid={invalid("until")}
            onChange={(e) => setUntil(e.target.value)}
          />
        </Field>
      )}
      <Field id="oncall-reason" label="Reason" wide>
        <input
          id="oncall-reason"
          value={reason}
          maxLength={500}
          placeholder="why (kept in the history)"
          aria-invalid={invalid("reason")}
          onChange={(e) => setReason(e.target.value)}
        />
      </Field>
      <button type="submit" disabled={busy || rotation === ""}>
        Put on call
      </button>
      {outcome && (
        <output className={outcome.ok ? "ok" : "error"} aria-label="override result">
          {outcome.text}
        </output>
      )}
    </form>
  );
}

/** A labelled control of the form, with a note under it (`ID-note`, which the control names as its description). */
function Field({
  id,
  label,
  note,
  wide = false,
  children,
}: {
  id: string;
  label: string;
  note?: string;
  wide?: boolean;
  children: ReactNode;
}) {
  return (
    <div className={wide ? "oncall-field oncall-reason" : "oncall-field"}>
      <label htmlFor={id} className="oncall-label">
        {label}
      </label>
      {children}
      {note && (
        <span id={`${id}-note`} className="oncall-note">
          {note}
        </span>
      )}
    </div>
  );
}

const historyColumns = (now: number): Column<OncallOverrideRecord>[] => [
  { header: "#", className: "num", cell: (o) => o.id },
  { header: "Rotation", cell: (o) => o.rotation },
  { header: "On call", cell: (o) => <strong>{o.person}</strong> },
  {
    header: "From",
    cell: (o) => <time dateTime={o.startsAt}>{localTime(o.startsAt)}</time>,
  },
  {
    header: "Until",
    cell: (o) => <time dateTime={o.endsAt}>{localTime(o.endsAt)}</time>,
  },
  { header: "Reason", cell: (o) => o.reason ?? "—" },
  {
    header: "Set by",
    cell: (o) => (
      <>
        {o.createdBy} <span className="muted small-text">{localTime(o.createdAt)}</span>
      </>
    ),
  },
  {
    header: "State",
    cell: (o) => (
      <>
        <OverrideBadge o={o} now={now} />{" "}
        {o.cancelledAt && (
          <span className="muted small-text">
            by {o.cancelledBy} {localTime(o.cancelledAt)}
          </span>
        )}
      </>
    ),
  },
];

export function OncallPage({ who }: { who: Whoami }) {
  const { search } = useLocation();
  const filter = search.get("rotation") ?? "";
  const { cursor } = pagePosition(search);
  const ticking = useNow();
  const canAct = deniedReason(who, "oncall") === null;
  const status = useLive<OncallStatus>(
    "oncall",
    (signal) => api<OncallStatus>("/oncall", { signal }),
    (e) => isOncallEvent(e.kind),
  );
  const history = useLive<OncallOverridePage>(
    `oncall-history:${filter}:${cursor}`,
    (signal) =>
      api<OncallOverridePage>(`/oncall/overrides${query({ rotation: filter, cursor, limit: HISTORY_PAGE })}`, {
        signal,
      }),
    (e) => isOncallEvent(e.kind),
  );
  const rotations = status.data?.rotations ?? [];
  // The ticking clock is up to a second behind: never behind the server's reading of the status.
  const now = Math.max(ticking, Date.parse(status.data?.at ?? "") || 0);
  const [formRotation, setFormRotation] = useState("");
  const personRef = useRef<HTMLInputElement | null>(null);
  // The form's rotation: the one picked, else the history's filter, else the first.
  const chosen = rotations.some((r) => r.name === formRotation)
    ? formRotation
    : ((rotations.find((r) => r.name === filter) ?? rotations[0])?.name ?? "");
  const reloadStatus = status.reload;
  const reloadAll = () => {
    status.reload();
    history.reload();
  };

  // A handoff appends no event: read the status again when the soonest "until" passes, and at
  // least hourly (until the server's clock agrees, each reading sets another timer).
  useEffect(() => {
    const soonest = Math.min(...(status.data?.rotations ?? []).map((r) => Date.parse(r.now.until)));
    if (!Number.isFinite(soonest)) return;
    const timer = setTimeout(reloadStatus, Math.min(MAX_WAIT_MS, Math.max(1000, soonest - Date.now() + 250)));
    return () => clearTimeout(timer);
  }, [status.data, reloadStatus]);

  const putOnCall = (rotation: string) => {
    setFormRotation(rotation);
    personRef.current?.scrollIntoView({ block: "center" });
    personRef.current?.focus();
  };

  return (
    <>
      <h1>On call</h1>
      <p className="muted">
        Who escalation policies page for each rotation of the config's <code>alerts.rotations</code>. Times are in your
        time zone ({VIEWER_ZONE}).
      </p>
      <ErrorNote error={status.error} />
      {!status.data && !status.error && <Loading what="the rotations" />}
      {status.data && rotations.length === 0 && (
        <p className="muted">
          No rotations: add them to the config file's <code>alerts.rotations</code> (people from{" "}
          <code>alerts.people</code>).
        </p>
      )}
      {rotations.length > 0 && (
        <section className="oncall-list" aria-label="rotations">
          {rotations.map((r) => (
            <RotationCard key={r.name} r={r} now={now} canAct={canAct} onOverride={putOnCall} onDone={reloadAll} />
          ))}
        </section>
      )}
      {rotations.length > 0 &&
        (canAct ? (
          <Section title="Put someone on call">
            <OverrideForm
              rotations={rotations}
              rotation={chosen}
              setRotation={setFormRotation}
              personRef={personRef}
              onDone={reloadAll}
            />
          </Section>
        ) : (
          <p className="muted small-note" data-testid="oncall-viewer-note">
            Putting someone on call or cancelling an override {deniedReason(who, "oncall")}.
          </p>
        ))}
      <Section title={filter ? `Override history of ${filter}` : "Override history"}>
        <form className="filters" aria-label="history filter" onSubmit={(e) => e.preventDefault()}>
          <label>
            Rotation
            <select value={filter} onChange={(e) => navigate(`/oncall${query({ rotation: e.target.value })}`)}>
              <option value="">every rotation</option>
              {[...new Set([...rotations.map((r) => r.name), ...(filter ? [filter] : [])])].map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </select>
          </label>
        </form>
        <ErrorNote error={history.error} />
        {!history.data && !history.error && <Loading what="the override history" />}
        {history.data && (
          <>
            <DataTable
              label="override history"
              className="stack-narrow"
              rows={history.data.items}
              columns={historyColumns(now)}
              rowKey={(o) => String(o.id)}
              empty={filter ? `No override of ${filter} yet.` : "Nobody has been put on call in anyone's place yet."}
            />
            <Pager
              path="/oncall"
              filters={filter ? { rotation: filter } : {}}
              search={search}
              nextCursor={history.data.nextCursor}
            />
          </>
        )}
      </Section>
    </>
  );
}
