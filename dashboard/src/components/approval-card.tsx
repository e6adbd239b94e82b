/**
 * One approval request as a card: what it asks, the job or run that asked, who may decide, how
 * far its quorum is, and the form that decides it. The Approvals pages and a run's page both show
 * it, so a request is decided the same way wherever it is met. A `question` (a run asking a
 * person) is answered rather than approved: the answer is the approval's reason, so it is
 * required, and dismissing the question denies it. The server is the judge of who may decide:
 * its refusals (403, 409) are shown as it gave them.
 */
import { type FormEvent, type ReactNode, useState } from "react";
import type { Approval, Whoami } from "../../../src/http/contract";
import { ApiError, api } from "../api/client";
import { diffLineKind } from "../diff-lines";
import { Link } from "../router";
import { deniedReason } from "../session";
import { duration, StateBadge } from "./common";
import type { Column } from "./data-table";
import { RelativeTime } from "./relative-time";
import { SimilarLessons } from "./similar-lessons";

/** The current time, ticking every `everyMs`, for countdowns. */
export function RiskBadge({ risk }: { risk: string }) {
  return <span className={`badge risk risk-${risk}`}>risk {risk}</span>;
}

/**
 * What a decider must know first: DRY RUN when approving runs nothing (the job asked in dry-run
 * mode), TEST for a test item. Nothing for a request the execution switch does not govern.
 */
export function ExecutionBadges({ approval }: { approval: Pick<Approval, "execution" | "test"> }) {
  return (
    <>
      {approval.execution === "dry-run" && (
        <span className="badge dry-run" title="Approving records the action as a dry run: nothing runs">
          DRY RUN
        </span>
      )}
      {approval.test && (
        <span className="badge test-item" title="A test item: its approval never lets a real action run">
          TEST
        </span>
      )}
    </>
  );
}

/** Marks a question: its risk is always low, so the kind says more. */
export function QuestionBadge() {
  return <span className="badge kind-question">question</span>;
}

/** "9m 58s left", or that the watchdog is about to apply the timeout. */
export function timeLeft(a: Approval, now: number): string {
  const ms = Date.parse(a.expiresAt) - now;
  return ms > 0 ? `${duration(ms)} left` : `timed out: ${a.onTimeout} is being applied`;
}

/** Distinct people who approved so far (a quorum counts people, not clicks). */
function approvals(a: Approval): string[] {
  return [...new Set(a.decisions.filter((d) => d.decision === "approve").map((d) => d.by))];
}

/** How a decision reads for its request: a question is answered or dismissed, an approval approved or denied. */
export function decisionWord(a: Approval, approved: boolean): string {
  if (a.kind === "question") return approved ? "answered" : "dismissed";
  return approved ? "approved" : "denied";
}

/** When a run's request was asked: after the turn that asked, or before the first turn. */
export function stepText(a: Approval): string {
  const turn = /^turn-(\d+)$/.exec(a.step)?.[1];
  if (turn !== undefined) return `after turn ${turn}`;
  return a.step === "before-first-turn" ? "before its first turn" : a.step;
}

/** The job or the run that asked, as "job <link>" or "run <link>". */
export function AskerLink({ approval: a }: { approval: Approval }) {
  const what = a.runId !== null ? "run" : "job";
  const id = a.runId ?? a.jobId;
  if (id === null) return <span className="muted">nobody known</span>;
  return (
    <>
      {what}{" "}
      <Link href={`/${what}s/${id}`} className="id" title={id}>
        {id.slice(-10)}
      </Link>
    </>
  );
}

/** A settled request's column in a table: how long ago it was settled. */
export const SETTLED_WHEN: Column<Approval> = {
  header: "When",
  className: "num",
  cell: (a) => (a.settledAt ? <RelativeTime at={a.settledAt} /> : "—"),
};

/** A settled request's outcome in one sentence: who settled it, how, and what they said. */
export function outcomeText(a: Approval): string {
  const o = a.outcome;
  if (o === null) return a.state === "cancelled" ? "Cancelled with its asker" : "";
  if (a.kind === "question" && o.timedOut) return "Not answered in time";
  const word = decisionWord(a, o.approved === true);
  return (
    `${word[0]?.toUpperCase()}${word.slice(1)}${o.timedOut ? " on timeout" : ""} by ${o.decidedBy} via ${o.channel}` +
    (o.reason ? `: ${o.reason}` : "")
  );
}

/** Strings that read better as code: commands, diffs, anything on several lines. */
function looksLikeCode(text: string): boolean {
  return (
    text.includes("\n") ||
    /^(\$ |sudo |kubectl |git |npm |psql |rm |DROP |ALTER |UPDATE |DELETE |INSERT )/i.test(text) ||
    /^(diff --git|--- |\+\+\+ |@@ )/m.test(text)
  );
}

/** Added and removed lines of a diff stand out; the rest, its file lines included, stay plain. */
function diffClass(line: string): string | undefined {
  const kind = diffLineKind(line, true);
  return kind === "add" || kind === "del" ? kind : undefined;
}

/** A request's details for a person: objects as definition lists, lists as lists, code as code. */
export function DetailsView({ value, depth = 0 }: { value: unknown; depth?: number }): ReactNode {
  if (value === null || value === undefined) return <span className="muted">none</span>;
  if (typeof value === "string") {
    if (!looksLikeCode(value)) return <span>{value}</span>;
    const diff = /^(diff --git|--- |\+\+\+ |@@ )/m.test(value);
    return (
      // biome-ignore lint/a11y/noNoninteractiveTabindex lint/a11y/useSemanticElements: long code scrolls inside its pre, and a keyboard must reach it (and hear its name) to scroll it
      <pre className={diff ? "code diff" : "code"} tabIndex={0} role="region" aria-label={diff ? "diff" : "code"}>
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

/** What a settled request means for its asker, as the person who settled it reads it. */
function settledText(a: Approval): string {
  if (a.runId === null) return `${a.state}: the job continues`;
  const approved = a.outcome?.approved === true;
  if (a.step === "before-first-turn") return approved ? "approved: the run starts" : "denied: the run will not start";
  return `${decisionWord(a, approved)}: the run continues`;
}

export interface DecisionResult {
  ok: boolean;
  text: string;
}

/**
 * The reason field and the two buttons (for a question: the answer, Answer and Dismiss). The
 * answer goes to `onResult`: the card shows it, and keeps showing it once the request it
 * settled has no form any more.
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
  const question = approval.kind === "question";
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const blocked = decideBlocked(approval, who);
  // An answer is what the run's next turn reads: answering with nothing would tell it nothing.
  const unanswered = question && reason.trim() === "" ? "type the answer first" : null;
  const send = async (decision: "approve" | "deny", event?: FormEvent) => {
    event?.preventDefault();
    if (decision === "approve" && unanswered !== null) return;
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
          ? settledText(a)
          : `${question ? "answer" : "approval"} recorded: ${approvals(a).length} of ${a.quorum}`,
      });
    } catch (err) {
      onResult({ ok: false, text: refusalText(err) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      className="decision"
      aria-label={`${question ? "answer" : "decide"} ${approval.title}`}
      onSubmit={(e) => void send("approve", e)}
    >
      {question ? (
        <label className="decision-reason">
          Answer
          <textarea
            value={reason}
            maxLength={2000}
            rows={2}
            placeholder="what the run's next turn is told (kept in the audit trail)"
            disabled={blocked !== null}
            onChange={(e) => setReason(e.target.value)}
          />
        </label>
      ) : (
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
      )}
      <button
        type="submit"
        className="approve"
        disabled={busy || blocked !== null || unanswered !== null}
        title={blocked ?? unanswered ?? undefined}
      >
        {question ? "Answer" : "Approve"}
      </button>
      <button
        type="button"
        className="deny"
        disabled={busy || blocked !== null}
        title={blocked ?? undefined}
        onClick={() => void send("deny")}
      >
        {question ? "Dismiss" : "Deny"}
      </button>
      {blocked && <span className="muted small-text blocked">{blocked}</span>}
    </form>
  );
}

function Decisions({ approval }: { approval: Approval }) {
  if (approval.decisions.length === 0) return null;
  return (
    <ol className="decisions" aria-label="decisions">
      {approval.decisions.map((d) => {
        const approved = d.decision === "approve";
        return (
          <li key={`${d.at}-${d.by}`}>
            <span className={`badge state-${approved ? "approved" : "denied"}`}>
              {decisionWord(approval, approved)}
            </span>{" "}
            by <strong>{d.by}</strong> via {d.channel} <RelativeTime at={d.at} />
            {d.reason && <q>{d.reason}</q>}
          </li>
        );
      })}
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
  const question = a.kind === "question";
  const got = approvals(a).length;
  const [result, setResult] = useState<DecisionResult | null>(null);
  const answered = (r: DecisionResult) => {
    setResult(r);
    onDone(r, a);
  };
  return (
    <article
      className={`approval-card risk-edge-${a.risk}${question ? " question-card" : ""}`}
      data-approval={a.id}
      aria-label={a.title}
    >
      <header className="approval-head">
        {question ? <QuestionBadge /> : <RiskBadge risk={a.risk} />}
        <ExecutionBadges approval={a} />
        <h2>
          <Link href={`/approvals/${a.id}`}>{a.title}</Link>
        </h2>
        <StateBadge state={a.state} />
      </header>
      <p className="approval-meta">
        <span>
          asked <RelativeTime at={a.createdAt} />
          {a.requestedBy ? ` by ${a.requestedBy} for` : " by"} <AskerLink approval={a} />
          {a.runId !== null && ` ${stepText(a)}`}
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
          <span>settled {a.settledAt ? <RelativeTime at={a.settledAt} /> : ""}</span>
        )}
      </p>
      <p className="approval-meta">
        <span>
          {question ? "Who may answer" : "Approvers"}:{" "}
          {a.approvers.length === 0 ? <span className="muted">any operator</span> : a.approvers.join(", ")}
        </span>
        {/* A question answered by one person has no quorum worth a progress bar. */}
        {(!question || a.quorum > 1) && (
          <span className="quorum" data-testid="quorum">
            <progress max={a.quorum} value={got} aria-label="quorum" /> {got} of {a.quorum}{" "}
            {question ? "answer" : "approval"}
            {a.quorum === 1 ? "" : "s"}
          </span>
        )}
      </p>
      {/* A short question is all in its title; a long one keeps its whole text in the details. */}
      {(!question || a.details !== null) && (
        <div className="approval-details">
          <DetailsView value={a.details} />
        </div>
      )}
      {a.state === "pending" && a.jobId !== null && <SimilarLessons jobId={a.jobId} limit={2} compact />}
      <Decisions approval={a} />
      {a.outcome && (
        <p className={a.outcome.approved ? "ok" : "error"} data-testid="outcome">
          {outcomeText(a)}
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
