/**
 * Approvals: the inbox of requests jobs made with `ctx.requestApproval`, pending first with
 * their age and a live countdown to the timeout, details rendered readably, approve / deny with
 * a reason; and the history of settled ones (who decided, through which channel, when, why),
 * filtered by outcome. Kept fresh from the shared event stream's `approval.*` events. The server
 * is the judge of who may decide: its refusals (403, 409) are shown as it gave them.
 */
import { type FormEvent, type ReactNode, useEffect, useState } from "react";
import {
  APPROVAL_STATES,
  type Approval,
  type ApprovalDetail,
  type ApprovalPage,
  type ApprovalState,
  type Whoami,
} from "../../../src/http/contract";
import { ApiError, api, query } from "../api/client";
import { ago, duration, ErrorNote, Loading, StateBadge } from "../components/common";
import { type Column, DataTable } from "../components/data-table";
import { SimilarLessons } from "../components/similar-lessons";
import { useLive } from "../hooks";
import { Link, navigate, useLocation } from "../router";
import { deniedReason } from "../session";

const isApprovalEvent = (kind: string) => kind.startsWith("approval.");
const SETTLED = APPROVAL_STATES.filter((s) => s !== "pending");

/** The current time, ticking every `everyMs`, for countdowns. */
function useNow(everyMs = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

export function RiskBadge({ risk }: { risk: string }) {
  return <span className={`badge risk risk-${risk}`}>risk {risk}</span>;
}

/** "9m 58s left", or that the watchdog is about to apply the timeout. */
function timeLeft(a: Approval, now: number): string {
  const ms = Date.parse(a.expiresAt) - now;
  return ms > 0 ? `${duration(ms)} left` : `timed out: ${a.onTimeout} is being applied`;
}

/** Distinct people who approved so far (a quorum counts people, not clicks). */
function approvals(a: Approval): string[] {
  return [...new Set(a.decisions.filter((d) => d.decision === "approve").map((d) => d.by))];
}

/** Strings that read better as code: commands, diffs, anything on several lines. */
function looksLikeCode(text: string): boolean {
  return (
    text.includes("\n") ||
    /^(\$ |sudo |kubectl |git |npm |psql |rm |DROP |ALTER |UPDATE |DELETE |INSERT )/i.test(text) ||
    /^(diff --git|--- |\+\+\+ |@@ )/m.test(text)
  );
}

/** Added and removed lines of a diff; its `---` / `+++` headers stay plain. */
function diffClass(line: string): string | undefined {
  if (line.startsWith("+++") || line.startsWith("---")) return undefined;
  return line.startsWith("+") ? "add" : line.startsWith("-") ? "del" : undefined;
}

/** A request's details for a person: objects as definition lists, lists as lists, code as code. */
export function DetailsView({ value, depth = 0 }: { value: unknown; depth?: number }): ReactNode {
  if (value === null || value === undefined) return <span className="muted">none</span>;
  if (typeof value === "string") {
    if (!looksLikeCode(value)) return <span>{value}</span>;
    const diff = /^(diff --git|--- |\+\+\+ |@@ )/m.test(value);
    return (
      <pre className={diff ? "code diff" : "code"}>
        <code>
          {diff
            ? value.split("\n").map((line, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: lines of a fixed text, never reordered
                <span key={i} className={diffClass(line)}>
                  {line}
                  {"\n"}
                </span>
              ))
            : value}
        </code>
      </pre>
    );
  }
  if (typeof value !== "object") return <code>{JSON.stringify(value)}</code>;
  if (depth > 4) return <code className="clip">{JSON.stringify(value)}</code>;
  if (Array.isArray(value)) {
    if (value.length === 0) return <span className="muted">(empty list)</span>;
    return (
      <ul className="details-list">
        {value.map((item, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: the list is the request's, fixed once asked
          <li key={i}>
            <DetailsView value={item} depth={depth + 1} />
          </li>
        ))}
      </ul>
    );
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return <span className="muted">(empty)</span>;
  return (
    <dl className="details">
      {entries.map(([key, v]) => (
        <div key={key} className="details-row">
          <dt>{key}</dt>
          <dd>
            <DetailsView value={v} depth={depth + 1} />
          </dd>
        </div>
      ))}
    </dl>
  );
}

/** What the server's refusal means for the person who clicked. */
function refusalText(err: unknown): string {
  if (!(err instanceof ApiError)) return String(err);
  const hint: Record<string, string> = {
    APPROVAL_FORBIDDEN: "You may not decide this request.",
    APPROVAL_SETTLED: "Someone settled it first.",
    APPROVAL_ALREADY_DECIDED: "Your approval is already counted; another approver is needed.",
    VERSION_CONFLICT: "It changed since this page read it; look again.",
    BUSY: "Someone else's decision is being applied right now; look again in a moment.",
  };
  return hint[err.code] ? `${hint[err.code]} (${err.describe()})` : err.describe();
}

/** Why this token cannot decide, as far as the page can tell (the server has the last word). */
function decideBlocked(a: Approval, who: Whoami): string | null {
  const scope = deniedReason(who, "decide");
  if (scope) return scope;
  if (a.state !== "pending") return `already ${a.state.replace("_", " ")}`;
  if (a.requestedBy === who.name) return `"${who.name}" asked for this approval and may not decide it`;
  if (a.decisions.some((d) => d.by === who.name && d.decision === "approve")) {
    return `"${who.name}" has approved already; ${a.quorum - approvals(a).length} more approver(s) needed`;
  }
  return null;
}

export interface DecisionResult {
  ok: boolean;
  text: string;
}

/**
 * The reason field and the two buttons. The answer goes to `onResult`: the card shows it, and
 * keeps showing it once the request it settled has no form any more.
 */
function DecisionForm({
  approval,
  who,
  onResult,
}: {
  approval: Approval;
  who: Whoami;
  onResult: (result: DecisionResult) => void;
}) {
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const blocked = decideBlocked(approval, who);
  const send = async (decision: "approve" | "deny", event?: FormEvent) => {
    event?.preventDefault();
    setBusy(true);
    try {
      const answer = await api<{ approval: Approval; settled: boolean }>(
        `/approvals/${encodeURIComponent(approval.id)}/decision`,
        {
          method: "POST",
          ifMatch: approval.version,
          body: { decision, channel: "dashboard", ...(reason.trim() ? { reason: reason.trim() } : {}) },
        },
      );
      const a = answer.approval;
      setReason("");
      onResult({
        ok: true,
        text: answer.settled
          ? `${a.state}: the job continues`
          : `approval recorded: ${approvals(a).length} of ${a.quorum}`,
      });
    } catch (err) {
      onResult({ ok: false, text: refusalText(err) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="decision" aria-label={`decide ${approval.title}`} onSubmit={(e) => void send("approve", e)}>
      <label className="decision-reason">
        Reason
        <input
          value={reason}
          maxLength={2000}
          placeholder="why (kept in the audit trail and given to the job)"
          disabled={blocked !== null}
          onChange={(e) => setReason(e.target.value)}
        />
      </label>
      <button type="submit" className="approve" disabled={busy || blocked !== null} title={blocked ?? undefined}>
        Approve
      </button>
      <button
        type="button"
        className="deny"
        disabled={busy || blocked !== null}
        title={blocked ?? undefined}
        onClick={() => void send("deny")}
      >
        Deny
      </button>
      {blocked && <span className="muted small-text blocked">{blocked}</span>}
    </form>
  );
}

function Decisions({ approval }: { approval: Approval }) {
  if (approval.decisions.length === 0) return null;
  return (
    <ol className="decisions" aria-label="decisions">
      {approval.decisions.map((d) => (
        <li key={`${d.at}-${d.by}`}>
          <StateBadge state={d.decision === "approve" ? "approved" : "denied"} /> by <strong>{d.by}</strong> via{" "}
          {d.channel} <time dateTime={d.at}>{ago(d.at)} ago</time>
          {d.reason && <q>{d.reason}</q>}
        </li>
      ))}
    </ol>
  );
}

/** One request: what it asks, who may decide, how far its quorum is, and the decision form. */
export function ApprovalCard({
  approval: a,
  who,
  now,
  onDone,
}: {
  approval: Approval;
  who: Whoami;
  now: number;
  /** After each answer, with it: the page reloads and may say more. */
  onDone: (result: DecisionResult, approval: Approval) => void;
}) {
  const got = approvals(a).length;
  const [result, setResult] = useState<DecisionResult | null>(null);
  const answered = (r: DecisionResult) => {
    setResult(r);
    onDone(r, a);
  };
  return (
    <article className={`approval-card risk-edge-${a.risk}`} data-approval={a.id} aria-label={a.title}>
      <header className="approval-head">
        <RiskBadge risk={a.risk} />
        <h2>
          <Link href={`/approvals/${a.id}`}>{a.title}</Link>
        </h2>
        <StateBadge state={a.state} />
      </header>
      <p className="approval-meta">
        <span>
          asked <time dateTime={a.createdAt}>{ago(a.createdAt)} ago</time>
          {a.requestedBy ? ` by ${a.requestedBy} for` : " by"} job{" "}
          <Link href={`/jobs/${a.jobId}`} className="id">
            {a.jobId.slice(-10)}
          </Link>
        </span>
        {a.state === "pending" ? (
          <span
            className="countdown"
            data-testid="time-left"
            title={`times out at ${a.expiresAt}, then ${a.onTimeout}`}
          >
            {timeLeft(a, now)}, then {a.onTimeout}
          </span>
        ) : (
          <span>settled {a.settledAt ? `${ago(a.settledAt)} ago` : ""}</span>
        )}
      </p>
      <p className="approval-meta">
        <span>
          Approvers: {a.approvers.length === 0 ? <span className="muted">any operator</span> : a.approvers.join(", ")}
        </span>
        <span className="quorum" data-testid="quorum">
          <progress max={a.quorum} value={got} aria-label="quorum" /> {got} of {a.quorum} approval
          {a.quorum === 1 ? "" : "s"}
        </span>
      </p>
      <div className="approval-details">
        <DetailsView value={a.details} />
      </div>
      {a.state === "pending" && <SimilarLessons jobId={a.jobId} limit={2} compact />}
      <Decisions approval={a} />
      {a.outcome && (
        <p className={a.outcome.approved ? "ok" : "error"} data-testid="outcome">
          {a.outcome.approved ? "Approved" : "Denied"}
          {a.outcome.timedOut ? " on timeout" : ""} by {a.outcome.decidedBy} via {a.outcome.channel}
          {a.outcome.reason ? `: ${a.outcome.reason}` : ""}
        </p>
      )}
      {a.state === "pending" && <DecisionForm approval={a} who={who} onResult={answered} />}
      {result && (
        <output className={result.ok ? "ok" : "error"} aria-label="decision result">
          {result.text}
        </output>
      )}
    </article>
  );
}

const historyColumns: Column<Approval>[] = [
  {
    header: "Request",
    cell: (a) => (
      <Link href={`/approvals/${a.id}`} title={a.id}>
        {a.title}
      </Link>
    ),
  },
  { header: "Risk", cell: (a) => <RiskBadge risk={a.risk} /> },
  { header: "Outcome", cell: (a) => <StateBadge state={a.state} /> },
  { header: "Decided by", cell: (a) => a.outcome?.decidedBy ?? "—" },
  { header: "Channel", cell: (a) => a.outcome?.channel ?? "—" },
  {
    header: "When",
    className: "num",
    cell: (a) => (a.settledAt ? <time dateTime={a.settledAt}>{ago(a.settledAt)} ago</time> : "—"),
  },
  { header: "Why", cell: (a) => <span className="clip">{a.outcome?.reason ?? ""}</span> },
  {
    header: "Job",
    cell: (a) => (
      <Link href={`/jobs/${a.jobId}`} className="id" title={a.jobId}>
        {a.jobId.slice(-10)}
      </Link>
    ),
  },
];

export function ApprovalsPage({ who }: { who: Whoami }) {
  const { search } = useLocation();
  const view = search.get("view") === "history" ? "history" : "pending";
  const outcome = search.get("state") ?? "";
  const now = useNow();
  const pending = useLive<ApprovalPage>(
    "pending",
    (signal) => api<ApprovalPage>(`/approvals${query({ state: "pending", limit: 200 })}`, { signal }),
    (e) => isApprovalEvent(e.kind),
    300,
  );
  const historyState = (SETTLED as readonly string[]).includes(outcome) ? outcome : "settled";
  const history = useLive<ApprovalPage>(
    `history:${historyState}`,
    (signal) => api<ApprovalPage>(`/approvals${query({ state: historyState, limit: 100 })}`, { signal }),
    (e) => isApprovalEvent(e.kind),
    300,
  );
  const count = pending.data?.items.length;
  // A request this person settled leaves the list at once: say what happened to it up here.
  const [notice, setNotice] = useState<string | null>(null);
  const decided = (r: DecisionResult, a: Approval) => {
    if (r.ok) setNotice(`${a.title}: ${r.text}`);
    pending.reload();
  };
  return (
    <>
      <h1>Approvals</h1>
      <nav className="tabs" aria-label="approval views">
        <Link href="/approvals" className="tab" aria-current={view === "pending" ? "page" : undefined}>
          Pending{count === undefined ? "" : ` (${count})`}
        </Link>
        <Link href="/approvals?view=history" className="tab" aria-current={view === "history" ? "page" : undefined}>
          History
        </Link>
      </nav>
      {view === "pending" ? (
        <>
          <ErrorNote error={pending.error} />
          {!pending.data && !pending.error && <Loading what="pending requests" />}
          {notice && (
            <output className="ok notice" aria-label="last decision">
              {notice}
            </output>
          )}
          {pending.data?.items.length === 0 && <p className="muted">Nothing waits for a decision.</p>}
          <section className="approval-list" aria-label="pending requests">
            {pending.data?.items.map((a) => (
              <ApprovalCard key={a.id} approval={a} who={who} now={now} onDone={decided} />
            ))}
          </section>
        </>
      ) : (
        <>
          <form className="filters" aria-label="filters" onSubmit={(e) => e.preventDefault()}>
            <label>
              Outcome
              <select
                value={historyState === "settled" ? "" : historyState}
                onChange={(e) => navigate(`/approvals${query({ view: "history", state: e.target.value })}`)}
              >
                <option value="">any</option>
                {SETTLED.map((s: ApprovalState) => (
                  <option key={s} value={s}>
                    {s.replace("_", " ")}
                  </option>
                ))}
              </select>
            </label>
          </form>
          <ErrorNote error={history.error} />
          {!history.data && !history.error && <Loading what="the history" />}
          {history.data && (
            <DataTable
              label="approval history"
              rows={history.data.items}
              columns={historyColumns}
              rowKey={(a) => a.id}
              empty={outcome ? "No requests with this outcome." : "No request has been settled yet."}
            />
          )}
        </>
      )}
    </>
  );
}

/** One request on a page of its own: what the job page links to. */
export function ApprovalDetailPage({ id, who }: { id: string; who: Whoami }) {
  const now = useNow();
  const { data, error, reload } = useLive<ApprovalDetail>(
    id,
    (signal) => api<ApprovalDetail>(`/approvals/${encodeURIComponent(id)}`, { signal }),
    (e) => isApprovalEvent(e.kind),
    200,
  );
  return (
    <>
      <p>
        <Link href="/approvals">← Approvals</Link>
      </p>
      <h1>Approval request</h1>
      <ErrorNote error={error} />
      {!data && !error && <Loading what="the request" />}
      {data && (
        <>
          <ApprovalCard approval={data.approval} who={who} now={now} onDone={() => reload()} />
          <p className="muted">
            Job{" "}
            {data.job ? (
              <>
                <Link href={`/jobs/${data.job.id}`} className="id">
                  {data.job.id}
                </Link>{" "}
                ({data.job.task}) is <StateBadge state={data.job.state} />
              </>
            ) : (
              "was discarded"
            )}
          </p>
        </>
      )}
    </>
  );
}

/** On a job's page while it waits: a link to the request it waits on, with its countdown. */
export function PendingApprovalLink({ jobId }: { jobId: string }) {
  const now = useNow();
  const { data } = useLive<ApprovalPage>(
    `job:${jobId}`,
    (signal) => api<ApprovalPage>(`/approvals${query({ state: "pending", jobId, limit: 5 })}`, { signal }),
    (e) => isApprovalEvent(e.kind) && e.jobId === jobId,
    200,
  );
  const a = data?.items[0];
  if (!a) return null;
  return (
    <p className="approval-link" data-testid="pending-approval">
      Waiting for approval: <Link href={`/approvals/${a.id}`}>{a.title}</Link> <RiskBadge risk={a.risk} />{" "}
      <span className="countdown">{timeLeft(a, now)}</span>
    </p>
  );
}
