/**
 * Alerts: what needs a person, open ones first and grouped by source, each with its status,
 * count of raises, age and policy; acknowledge, escalate now and close (with a reason), enabled
 * only where the status allows; one alert's page shows its escalation timeline (who was
 * notified when, through which channel, and whether it went out). Heartbeat monitors are listed
 * under the alerts, and the escalation policies the server knows have a view of their own.
 * Kept fresh from the shared stream's `alert.*` events; the server's refusals are shown as given.
 */
import { useState } from "react";
import {
  ALERT_SOURCES,
  type Alert,
  type AlertDetail,
  type AlertNotification,
  type AlertPage,
  type AlertSource,
  type EscalationPolicy,
  escalationExhausted,
  type Heartbeat,
  type OverseerEvent,
  type Whoami,
} from "../../../src/http/contract";
import { ApiError, api, query } from "../api/client";
import { DetailsView } from "../components/approval-card";
import { BulkActions, type BulkOutcome } from "../components/bulk-actions";
import { duration, ErrorNote, Loading, Section, StateBadge } from "../components/common";
import { type Column, DataTable } from "../components/data-table";
import { RelativeTime } from "../components/relative-time";
import { useLive } from "../hooks";
import { Link, navigate, useLocation } from "../router";
import { deniedReason } from "../session";

const isAlertEvent = (kind: string) => kind.startsWith("alert.") || kind.startsWith("heartbeat.");

type AlertVerb = "ack" | "escalate" | "close";

/** Why the status does not allow `verb`, or null when it does (the server has the last word). */
export function unavailable(a: Alert, verb: AlertVerb): string | null {
  if (a.status === "closed") return "the alert is closed";
  if (verb === "ack" && a.status === "acknowledged") return `acknowledged already by ${a.acknowledgedBy ?? "someone"}`;
  return null;
}

/** What the server's refusal means for the person who clicked. */
function refusalText(err: unknown): string {
  if (!(err instanceof ApiError)) return String(err);
  const hint: Record<string, string> = {
    ALERT_INVALID_TRANSITION: `Its status no longer allows this (now ${String(err.details.status ?? "changed")}).`,
    ALERT_NOT_FOUND: "There is no such alert any more.",
    VERSION_CONFLICT: "It changed since this page read it; look again.",
    BUSY: "Someone else's action on it is being applied right now; try again in a moment.",
    FORBIDDEN: "This token may not act on alerts.",
  };
  return hint[err.code] ? `${hint[err.code]} (${err.describe()})` : err.describe();
}

const LABEL: Record<AlertVerb, string> = { ack: "Acknowledge", escalate: "Escalate now", close: "Close" };

/** The three buttons and the close reason; the answer is shown next to them. */
function AlertActions({ alert: a, who, onDone }: { alert: Alert; who: Whoami; onDone: () => void }) {
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const denied = deniedReason(who, "alert");
  const send = async (verb: AlertVerb) => {
    setBusy(true);
    try {
      // One field: the note an acknowledgement keeps on its event, or why it is closed.
      const text = reason.trim();
      const body = text === "" || verb === "escalate" ? {} : verb === "close" ? { reason: text } : { note: text };
      const answer = await api<{ alert: Alert; notifications?: AlertNotification[] }>(
        `/alerts/${encodeURIComponent(a.id)}/${verb}`,
        { method: "POST", ifMatch: a.version, body },
      );
      const notified = answer.notifications?.map((n) => n.target) ?? [];
      setReason("");
      setResult({
        ok: true,
        text:
          verb === "escalate"
            ? notified.length > 0
              ? `escalated: ${notified.join(", ")} notified`
              : "escalated (no policy: nobody to notify)"
            : answer.alert.status,
      });
    } catch (err) {
      setResult({ ok: false, text: refusalText(err) });
    } finally {
      setBusy(false);
      onDone();
    }
  };
  const button = (verb: AlertVerb) => {
    const why = denied ?? unavailable(a, verb);
    return (
      <button
        type="button"
        className={`alert-${verb}`}
        disabled={busy || why !== null}
        title={why ?? undefined}
        onClick={() => void send(verb)}
      >
        {LABEL[verb]}
      </button>
    );
  };
  return (
    <form className="decision alert-actions" aria-label={`act on ${a.summary}`} onSubmit={(e) => e.preventDefault()}>
      {button("ack")}
      {button("escalate")}
      <label className="decision-reason">
        Note or reason
        <input
          value={reason}
          maxLength={2000}
          placeholder="a note to acknowledge with, or why it is closed"
          disabled={denied !== null || a.status === "closed"}
          onChange={(e) => setReason(e.target.value)}
        />
      </label>
      {button("close")}
      {denied && <span className="muted small-text blocked">{denied}</span>}
      {result && (
        <output className={result.ok ? "ok" : "error"} aria-label="action result">
          {result.text}
        </output>
      )}
    </form>
  );
}

/** Where the alert's cause is: a job.dead alert's matching jobs, an approval alert's request. */
export function AlertLinks({ alert: a }: { alert: Alert }) {
  const d = (a.details ?? {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === "string" ? v : undefined);
  if (a.source === "job.dead" && str(d.task)) {
    return (
      <p className="approval-meta">
        <Link href={`/jobs${query({ state: "dead", task: str(d.task), queue: str(d.queue) })}`}>
          the dead jobs of {str(d.task)}
          {str(d.queue) ? ` in ${str(d.queue)}` : ""}
        </Link>
      </p>
    );
  }
  if (a.source === "approval" && str(d.approvalId)) {
    return (
      <p className="approval-meta">
        <Link href={`/approvals/${str(d.approvalId)}`}>decide the approval request</Link>
      </p>
    );
  }
  return null;
}

function PolicyName({ policy }: { policy: EscalationPolicy | null }) {
  return policy ? (
    <span title={stepsText(policy)}>{policy.name}</span>
  ) : (
    <span className="muted">none (nobody paged)</span>
  );
}

function stepsText(p: EscalationPolicy): string {
  return p.steps.map((s, i) => `${i + 1}: after ${duration(s.delayMs)} → ${s.notify.join(", ")}`).join("; ");
}

/** One alert: what, where from, how often, how old, who has it; and the actions. */
export function AlertCard({ alert: a, who, onDone }: { alert: Alert; who: Whoami; onDone: () => void }) {
  return (
    <article className={`approval-card alert-card alert-${a.status}`} data-alert={a.id} aria-label={a.summary}>
      <header className="approval-head">
        <StateBadge state={a.status} />
        <h2>
          <Link href={`/alerts/${a.id}`}>{a.summary}</Link>
        </h2>
        <span className="badge">{a.source}</span>
      </header>
      <AlertLinks alert={a} />
      <p className="approval-meta">
        <span>
          raised <RelativeTime at={a.createdAt} />
        </span>
        <span data-testid="count" title="raises of the same dedup key while open">
          ×{a.count}
        </span>
        <span>
          policy <PolicyName policy={a.policy} />
        </span>
        {a.status === "triggered" && a.nextEscalationAt && (
          <span>
            next step{" "}
            {new Date(a.nextEscalationAt) > new Date()
              ? `in ${duration(Date.parse(a.nextEscalationAt) - Date.now())}`
              : "now"}
          </span>
        )}
        {a.acknowledgedBy && (
          <span>
            acknowledged by <strong>{a.acknowledgedBy}</strong> <RelativeTime at={a.acknowledgedAt} />
          </span>
        )}
        {a.closedBy && (
          <span data-testid="closed">
            closed by <strong>{a.closedBy}</strong> <RelativeTime at={a.closedAt} />
            {a.closeReason ? `: ${a.closeReason}` : ""}
          </span>
        )}
      </p>
      <AlertActions alert={a} who={who} onDone={onDone} />
    </article>
  );
}

const closedColumns: Column<Alert>[] = [
  {
    header: "Alert",
    cell: (a) => (
      <Link href={`/alerts/${a.id}`} title={a.id}>
        {a.summary}
      </Link>
    ),
  },
  { header: "Source", cell: (a) => a.source },
  { header: "Count", className: "num", cell: (a) => String(a.count) },
  { header: "Closed by", cell: (a) => a.closedBy ?? "—" },
  {
    header: "When",
    className: "num",
    cell: (a) => (a.closedAt ? <RelativeTime at={a.closedAt} /> : "—"),
  },
  { header: "Why", cell: (a) => <span className="clip">{a.closeReason ?? ""}</span> },
];

const heartbeatColumns: Column<Heartbeat>[] = [
  { header: "Heartbeat", cell: (h) => <code>{h.name}</code> },
  { header: "State", cell: (h) => <StateBadge state={h.state} /> },
  { header: "Interval", className: "num", cell: (h) => duration(h.intervalMs) },
  {
    header: "Last ping",
    className: "num",
    cell: (h) => (h.lastPingAt ? <RelativeTime at={h.lastPingAt} /> : "never"),
  },
  {
    header: "Due",
    className: "num",
    cell: (h) => <RelativeTime at={h.dueAt} />,
  },
  { header: "Policy", cell: (h) => h.policyName ?? "—" },
  { header: "Alert", cell: (h) => (h.alertId ? <Link href={`/alerts/${h.alertId}`}>open alert</Link> : "—") },
];

/** The time ranges the filter offers, as how far back. */
const SINCE: Record<string, number> = { "1h": 3_600_000, "24h": 86_400_000, "7d": 7 * 86_400_000 };
const PAGE_SIZES = [50, 100, 200];
const OPEN_STATUSES = ["open", "triggered", "acknowledged"] as const;

export function AlertsPage({ who }: { who: Whoami }) {
  const { search } = useLocation();
  const view = search.get("view") === "policies" ? "policies" : "alerts";
  const wanted = search.get("source") ?? "";
  const source = (ALERT_SOURCES as readonly string[]).includes(wanted) ? (wanted as AlertSource) : undefined;
  const statusParam = search.get("status") ?? "";
  const status = (OPEN_STATUSES as readonly string[]).includes(statusParam) ? statusParam : "open";
  const since = search.get("since") ?? "";
  const sizeParam = Number(search.get("size"));
  const size = PAGE_SIZES.includes(sizeParam) ? sizeParam : 200;
  // Rounded to the minute, so that the key (and the request) only moves once a minute.
  const createdAfter =
    SINCE[since] === undefined
      ? undefined
      : new Date(Math.floor((Date.now() - (SINCE[since] ?? 0)) / 60_000) * 60_000).toISOString();
  const filter = { status, source, createdAfter };
  const go = (change: Record<string, string>) =>
    navigate(
      `/alerts${query({ status: statusParam, source: wanted, since, size: search.get("size") ?? "", ...change })}`,
    );
  const open = useLive<AlertPage>(
    `open:${status}:${source ?? ""}:${createdAfter ?? ""}:${size}`,
    (signal) => api<AlertPage>(`/alerts${query({ ...filter, limit: size })}`, { signal }),
    (e) => isAlertEvent(e.kind),
    300,
  );
  const bulkFilter = { source, createdAfter };
  const denied = deniedReason(who, "alert");
  const closed = useLive<AlertPage>(
    `closed:${source ?? ""}`,
    (signal) => api<AlertPage>(`/alerts${query({ status: "closed", source, limit: 50 })}`, { signal }),
    (e) => isAlertEvent(e.kind),
    300,
  );
  const heartbeats = useLive<{ items: Heartbeat[] }>(
    "heartbeats",
    (signal) => api<{ items: Heartbeat[] }>("/heartbeats", { signal }),
    (e) => isAlertEvent(e.kind),
    500,
  );
  const reload = () => {
    open.reload();
    closed.reload();
  };
  const groups = new Map<AlertSource, Alert[]>();
  for (const a of open.data?.items ?? []) groups.set(a.source, [...(groups.get(a.source) ?? []), a]);
  const count = open.data?.total;
  return (
    <>
      <h1>Alerts</h1>
      <nav className="tabs" aria-label="alert views">
        <Link href="/alerts" className="tab" aria-current={view === "alerts" ? "page" : undefined}>
          Open{count === undefined ? "" : ` (${count})`}
        </Link>
        <Link href="/alerts?view=policies" className="tab" aria-current={view === "policies" ? "page" : undefined}>
          Escalation policies
        </Link>
      </nav>
      {view === "policies" ? (
        <PoliciesView />
      ) : (
        <>
          <form className="filters" aria-label="filters" onSubmit={(e) => e.preventDefault()}>
            <label>
              Status
              <select value={status} onChange={(e) => go({ status: e.target.value === "open" ? "" : e.target.value })}>
                {OPEN_STATUSES.map((s) => (
                  <option key={s} value={s}>
                    {s}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Source
              <select value={source ?? ""} onChange={(e) => go({ source: e.target.value })}>
                <option value="">any</option>
                {ALERT_SOURCES.map((s) => (
                  <option key={s} value={s}>
                    {s}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Raised
              <select value={since} onChange={(e) => go({ since: e.target.value })}>
                <option value="">any time</option>
                <option value="1h">in the last hour</option>
                <option value="24h">in the last day</option>
                <option value="7d">in the last week</option>
              </select>
            </label>
            <label>
              Page size
              <select value={String(size)} onChange={(e) => go({ size: e.target.value })}>
                {PAGE_SIZES.map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
              </select>
            </label>
          </form>
          {open.data && (
            <p className="muted" data-testid="alerts-total">
              {open.data.total} {status === "open" ? "open" : status} alert{open.data.total === 1 ? "" : "s"}
              {open.data.items.length < open.data.total ? `, the newest ${open.data.items.length} shown` : ""}
            </p>
          )}
          {open.data && (
            <BulkActions
              matched={open.data.total}
              what="alerts"
              textLabel="Note or reason for all"
              placeholder="kept on each alert"
              denied={denied}
              onDone={reload}
              verbs={[
                // Only triggered alerts can be acknowledged: none are listed under "acknowledged".
                ...(status === "acknowledged"
                  ? []
                  : [
                      {
                        label: "Acknowledge all",
                        question: (n: number) =>
                          status === "triggered"
                            ? `Acknowledge all ${n} matching alerts?`
                            : `Acknowledge the triggered alerts among these ${n}?`,
                        run: (text: string, limit: number) =>
                          api<BulkOutcome>("/alerts/acknowledge", {
                            method: "POST",
                            body: {
                              ...bulkFilter,
                              status: "triggered",
                              ...(text ? { note: text } : {}),
                              limit,
                            },
                          }),
                      },
                    ]),
                {
                  label: "Close all",
                  question: (n) => `Close all ${n} matching alerts?`,
                  run: (text, limit) =>
                    api<BulkOutcome>("/alerts/close", {
                      method: "POST",
                      body: {
                        ...bulkFilter,
                        ...(status === "open" ? {} : { status }),
                        ...(text ? { reason: text } : {}),
                        limit,
                      },
                    }),
                },
              ]}
            />
          )}
          <ErrorNote error={open.error} />
          {!open.data && !open.error && <Loading what="open alerts" />}
          {open.data?.items.length === 0 && <p className="muted">No open alerts{source ? ` from ${source}` : ""}.</p>}
          {[...groups].map(([s, alerts]) => (
            <section key={s} className="approval-list alert-group" aria-label={`open alerts from ${s}`}>
              <h2 className="group-head">
                {s} <span className="muted">({alerts.length})</span>
              </h2>
              {alerts.map((a) => (
                <AlertCard key={a.id} alert={a} who={who} onDone={reload} />
              ))}
            </section>
          ))}
          <Section title="Heartbeats">
            <ErrorNote error={heartbeats.error} />
            {heartbeats.data && (
              <DataTable
                label="heartbeats"
                rows={heartbeats.data.items}
                columns={heartbeatColumns}
                rowKey={(h) => h.name}
                empty="No heartbeat monitors (the config's alerts.heartbeats)."
              />
            )}
          </Section>
          <Section title="Closed">
            <ErrorNote error={closed.error} />
            {closed.data && (
              <DataTable
                label="closed alerts"
                rows={closed.data.items}
                columns={closedColumns}
                rowKey={(a) => a.id}
                empty="No alert has been closed yet."
              />
            )}
          </Section>
        </>
      )}
    </>
  );
}

/** The escalation policies the server knows (the config's alerts.policies). */
function PoliciesView() {
  const { data, error } = useLive<{ policies: EscalationPolicy[] }>(
    "policies",
    (signal) => api<{ policies: EscalationPolicy[] }>("/alerts/policies", { signal }),
    () => false,
  );
  return (
    <>
      <ErrorNote error={error} />
      {!data && !error && <Loading what="the policies" />}
      {data?.policies.length === 0 && (
        <p className="muted">
          No escalation policies: add them to the config file's <code>alerts.policies</code>.
        </p>
      )}
      {data?.policies.map((p) => (
        <section key={p.name} className="panel policy" aria-label={`policy ${p.name}`}>
          <header className="panel-head">
            <h2>{p.name}</h2>
          </header>
          <ol className="policy-steps">
            {p.steps.map((s, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: steps are the policy's, in order
              <li key={i}>
                {i === 0 && s.delayMs === 0 ? "at once" : `after ${duration(s.delayMs)}`} → {s.notify.join(", ")}
              </li>
            ))}
          </ol>
          <p className="muted">
            {p.repeat === 0
              ? "once through"
              : `repeats ${p.repeat} time${p.repeat === 1 ? "" : "s"}, ${duration(p.repeatDelayMs)} apart`}
            {" · "}
            {p.ackTimeoutMs === null
              ? "no acknowledgement timeout"
              : `re-triggered if acknowledged and not closed within ${duration(p.ackTimeoutMs)}`}
          </p>
        </section>
      ))}
    </>
  );
}

const timelineColumns: Column<AlertNotification>[] = [
  {
    header: "When",
    className: "num",
    cell: (n) => (
      <time dateTime={n.at} title={n.at}>
        <RelativeTime at={n.at} />
      </time>
    ),
  },
  { header: "Step", className: "num", cell: (n) => `${n.step + 1}${n.round > 0 ? ` (round ${n.round + 1})` : ""}` },
  {
    header: "Notified",
    cell: (n) => (
      <>
        <code>{n.target}</code>
        {n.fallbackFor ? (
          <span className="muted" title="Sent here at once because a send through its channel failed for good">
            {" "}
            (fallback)
          </span>
        ) : null}
      </>
    ),
  },
  { header: "Status", cell: (n) => <StateBadge state={`notify-${n.status}`} /> },
  { header: "Error", cell: (n) => (n.error ? <span className="error-text">{n.error}</span> : "") },
];

/** One lifecycle step in words, from the alert's event. */
function stepText(e: OverseerEvent): string {
  const d = (e.data ?? {}) as Record<string, unknown>;
  const by = typeof d.by === "string" ? ` by ${d.by}` : "";
  switch (e.kind) {
    case "alert.raised":
      return `raised${typeof d.policy === "string" ? ` (policy ${d.policy})` : " (no policy: nobody paged)"}`;
    case "alert.bumped":
      return `raised again: ×${String(d.count ?? "")}`;
    case "alert.escalated": {
      const targets = Array.isArray(d.targets) ? d.targets.join(", ") : "";
      return `escalated${by}: step ${Number(d.step ?? 0) + 1}${Number(d.round ?? 0) > 0 ? ` (round ${Number(d.round) + 1})` : ""}${targets ? ` → ${targets}` : ""}`;
    }
    case "alert.notification_sent":
      return `notified ${String(d.target ?? "")}`;
    case "alert.notification_failed":
      return `notifying ${String(d.target ?? "")} failed: ${String(d.error ?? "")}`;
    case "alert.fallback":
      return `sent to ${String(d.fallback ?? "")} instead of ${String(d.target ?? "")}`;
    case "alert.acknowledged":
      return `acknowledged${by}${typeof d.note === "string" ? `: “${d.note}”` : ""}`;
    case "alert.retriggered":
      return "triggered again: not closed within the acknowledgement timeout";
    case "alert.closed":
      return `closed${by}${typeof d.reason === "string" && d.reason ? `: ${d.reason}` : ""}`;
    case "alert.refused":
      return `a press of Acknowledge by an unlisted Telegram user was refused`;
    default:
      return e.kind;
  }
}

/** Every step of the alert's life, oldest first, from its events; its end when nobody is left to page. */
function Lifecycle({ detail }: { detail: AlertDetail }) {
  const events = detail.events ?? [];
  const exhausted = escalationExhausted(detail.alert);
  return (
    <ol className="lifecycle" aria-label="lifecycle">
      {events.map((e) => (
        <li key={e.seq} data-kind={e.kind}>
          <time dateTime={e.at} title={e.at}>
            <RelativeTime at={e.at} />
          </time>{" "}
          {stepText(e)}
        </li>
      ))}
      {exhausted && (
        <li data-kind="exhausted">
          <strong>escalation exhausted</strong>: every step was notified and nobody is left to page; escalate it or
          close it
        </li>
      )}
    </ol>
  );
}

/** One alert on its own page, with its escalation timeline. */
export function AlertDetailPage({ id, who }: { id: string; who: Whoami }) {
  const { data, error, reload } = useLive<AlertDetail>(
    id,
    (signal) => api<AlertDetail>(`/alerts/${encodeURIComponent(id)}`, { signal }),
    (e) => isAlertEvent(e.kind),
    200,
  );
  return (
    <>
      <p>
        <Link href="/alerts">← Alerts</Link>
      </p>
      <h1>Alert</h1>
      <ErrorNote error={error} />
      {!data && !error && <Loading what="the alert" />}
      {data && (
        <>
          <AlertCard alert={data.alert} who={who} onDone={reload} />
          <Section title="Lifecycle">
            <Lifecycle detail={data} />
          </Section>
          <Section title="Escalation timeline">
            <DataTable
              label="escalation timeline"
              rows={data.notifications}
              columns={timelineColumns}
              rowKey={(n) => String(n.id)}
              empty={data.alert.policy ? "Nobody has been notified yet." : "No policy: nobody is notified."}
            />
          </Section>
          <Section title="Details">
            <div className="approval-details">
              <DetailsView value={data.alert.details ?? null} />
            </div>
            {data.alert.dedupKey && (
              <p className="muted">
                Dedup key <code>{data.alert.dedupKey}</code>
              </p>
            )}
          </Section>
        </>
      )}
    </>
  );
}
