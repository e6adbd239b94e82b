/**
 * Approvals: the inbox of requests jobs made with `ctx.requestApproval`, and of the questions and
 * approval requests runs made, pending first with their age and a live countdown to the timeout
 * (each shown by the card in components/approval-card.tsx, which decides it); and the history of
 * settled ones (who decided, through which channel, when, why), filtered by outcome. Kept fresh
 * from the shared event stream's `approval.*` events.
 */
import { useState } from "react";
import {
  APPROVAL_STATES,
  type Approval,
  type ApprovalDetail,
  type ApprovalPage,
  type ApprovalState,
  type Whoami,
} from "../../../src/http/contract";
import { api, query } from "../api/client";
import {
  ApprovalCard,
  AskerLink,
  type DecisionResult,
  ExecutionBadges,
  QuestionBadge,
  RiskBadge,
  SETTLED_WHEN,
  timeLeft,
} from "../components/approval-card";
import { BulkActions, type BulkOutcome } from "../components/bulk-actions";
import { ErrorNote, Loading, StateBadge } from "../components/common";
import { type Column, DataTable } from "../components/data-table";
import { useNow } from "../components/relative-time";
import { useLive } from "../hooks";
import { Link, navigate, useLocation } from "../router";
import { deniedReason } from "../session";

const isApprovalEvent = (kind: string) => kind.startsWith("approval.");
const SETTLED = APPROVAL_STATES.filter((s) => s !== "pending");

const historyColumns: Column<Approval>[] = [
  {
    header: "Request",
    cell: (a) => (
      <>
        <Link href={`/approvals/${a.id}`} title={a.id}>
          {a.title}
        </Link>
        {a.kind === "question" && (
          <>
            {" "}
            <QuestionBadge />
          </>
        )}
      </>
    ),
  },
  {
    header: "Risk",
    cell: (a) => (
      <>
        <RiskBadge risk={a.risk} />
        {a.execution === "dry-run" || a.test ? " " : null}
        <ExecutionBadges approval={a} />
      </>
    ),
  },
  { header: "Outcome", cell: (a) => <StateBadge state={a.state} /> },
  { header: "Decided by", cell: (a) => a.outcome?.decidedBy ?? "—" },
  { header: "Channel", cell: (a) => a.outcome?.channel ?? "—" },
  SETTLED_WHEN,
  { header: "Why, or the answer", cell: (a) => <span className="clip">{a.outcome?.reason ?? ""}</span> },
  { header: "Asked by", cell: (a) => <AskerLink approval={a} /> },
];

/** The time ranges the filter offers, as how far back. */
const SINCE: Record<string, number> = { "1h": 3_600_000, "24h": 86_400_000, "7d": 7 * 86_400_000 };
const PAGE_SIZES = [50, 100, 200];

export function ApprovalsPage({ who }: { who: Whoami }) {
  const { search } = useLocation();
  const view = search.get("view") === "history" ? "history" : "pending";
  const outcome = search.get("state") ?? "";
  const kindParam = search.get("kind") ?? "";
  const kind = kindParam === "approval" || kindParam === "question" ? kindParam : undefined;
  const since = search.get("since") ?? "";
  const sizeParam = Number(search.get("size"));
  const size = PAGE_SIZES.includes(sizeParam) ? sizeParam : 200;
  // Rounded to the minute, so that the key (and the request) only moves once a minute.
  const createdAfter =
    SINCE[since] === undefined
      ? undefined
      : new Date(Math.floor((Date.now() - (SINCE[since] ?? 0)) / 60_000) * 60_000).toISOString();
  const go = (change: Record<string, string>) =>
    navigate(`/approvals${query({ kind: kindParam, since, size: search.get("size") ?? "", ...change })}`);
  const now = useNow();
  const pending = useLive<ApprovalPage>(
    `pending:${kind ?? ""}:${createdAfter ?? ""}:${size}`,
    (signal) =>
      api<ApprovalPage>(`/approvals${query({ state: "pending", kind, createdAfter, limit: size })}`, { signal }),
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
  const count = pending.data?.total;
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
          <form className="filters" aria-label="filters" onSubmit={(e) => e.preventDefault()}>
            <label>
              Kind
              <select value={kind ?? ""} onChange={(e) => go({ kind: e.target.value })}>
                <option value="">any</option>
                <option value="approval">approval</option>
                <option value="question">question</option>
              </select>
            </label>
            <label>
              Asked
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
          {pending.data && (
            <p className="muted" data-testid="approvals-total">
              {pending.data.total} pending
              {pending.data.items.length < pending.data.total ? `, the oldest ${pending.data.items.length} shown` : ""}
            </p>
          )}
          {pending.data && kind !== "approval" && pending.data.total > 0 && (
            <p className="muted">
              Questions are answered one at a time.{" "}
              <Link href={`/approvals${query({ kind: "approval", since })}`}>Show approval requests only</Link> to
              approve or deny all that match at once.
            </p>
          )}
          {pending.data && kind === "approval" && (
            <BulkActions
              matched={pending.data.total}
              what="pending requests"
              textLabel="Reason for all"
              placeholder="why: kept on every decision"
              denied={deniedReason(who, "decide")}
              onDone={pending.reload}
              verbs={(["approve", "deny"] as const).map((decision) => ({
                label: decision === "approve" ? "Approve all" : "Deny all",
                question: (n: number) => `${decision === "approve" ? "Approve" : "Deny"} all ${n} matching requests?`,
                run: (text: string, limit: number) =>
                  api<BulkOutcome>("/approvals/decide", {
                    method: "POST",
                    body: {
                      decision,
                      kind: "approval",
                      createdAfter,
                      channel: "dashboard",
                      limit,
                      ...(text ? { reason: text } : {}),
                    },
                  }),
              }))}
            />
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

/** One request on a page of its own: what the job page links to, with the job or run that asked. */
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
          {data.approval.runId !== null ? (
            <p className="muted">
              Run{" "}
              {data.run ? (
                <>
                  <Link href={`/runs/${data.run.id}`} className="id">
                    {data.run.id}
                  </Link>{" "}
                  ({data.run.profile ?? "ad hoc"}) is <StateBadge state={data.run.state} />
                </>
              ) : (
                "was deleted"
              )}
            </p>
          ) : (
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
          )}
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
