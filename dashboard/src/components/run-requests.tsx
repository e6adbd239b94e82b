/**
 * What a run asked people, on its page: the request it waits on, shown up front with the same
 * card as the Approvals inbox (so it is answered or decided right there), and the requests
 * already settled, each with its outcome, who settled it and what they said. Loaded once by the
 * page and kept fresh from the run's `approval.*`, `run.waiting` and `run.answered` events.
 */
import { useState } from "react";
import type { Approval, ApprovalPage, OverseerEvent, Whoami } from "../../../src/http/contract";
import { api, query } from "../api/client";
import { type Loaded, useLive } from "../hooks";
import { Link } from "../router";
import {
  ApprovalCard,
  type DecisionResult,
  decisionWord,
  QuestionBadge,
  RiskBadge,
  SETTLED_WHEN,
  stepText,
} from "./approval-card";
import { Section } from "./common";
import { type Column, DataTable } from "./data-table";
import { useNow } from "./relative-time";

/** The newest requests a run page shows: a run asks at most once a turn. */
const SHOWN = 100;

/** Events that change a run's requests. */
const changesRequests = (runId: string) => (e: OverseerEvent) =>
  e.runId === runId && (e.kind.startsWith("approval.") || e.kind === "run.waiting" || e.kind === "run.answered");

/** The run's requests: pending first (oldest first), then settled ones, newest first. */
export function useRunRequests(runId: string): Loaded<ApprovalPage> {
  return useLive<ApprovalPage>(
    `${runId}-requests`,
    (signal) => api<ApprovalPage>(`/approvals${query({ runId, limit: SHOWN })}`, { signal }),
    changesRequests(runId),
    200,
  );
}

/**
 * The requests the run waits on, each with its form. Its own component so the countdown's tick
 * redraws the cards only, not the whole run page. A request this person settled leaves at once,
 * with its card: what became of it is said here instead.
 */
export function RunPendingRequests({
  requests,
  who,
  onDone,
}: {
  requests: readonly Approval[];
  who: Whoami;
  onDone: () => void;
}) {
  const now = useNow();
  const [notice, setNotice] = useState<string | null>(null);
  const decided = (r: DecisionResult, a: Approval) => {
    if (r.ok) setNotice(`${a.title}: ${r.text}`);
    onDone();
  };
  const pending = requests.filter((a) => a.state === "pending");
  const first = pending[0];
  const said =
    notice === null ? null : (
      <output className="ok notice" aria-label="last decision">
        {notice}
      </output>
    );
  if (first === undefined) return said;
  return (
    <Section title={first.kind === "question" ? "Waiting for an answer" : "Waiting for approval"}>
      {said}
      <div className="approval-list" data-testid="run-pending-requests">
        {pending.map((a) => (
          <ApprovalCard key={a.id} approval={a} who={who} now={now} onDone={decided} />
        ))}
      </div>
    </Section>
  );
}

/** A settled request's outcome as a badge: answered, dismissed, approved, denied, timed out, cancelled. */
function OutcomeBadge({ approval: a }: { approval: Approval }) {
  const o = a.outcome;
  if (o === null) return <span className={`badge state-${a.state}`}>{a.state.replace("_", " ")}</span>;
  if (o.timedOut) return <span className="badge state-timed_out">timed out</span>;
  const approved = o.approved === true;
  return <span className={`badge state-${approved ? "approved" : "denied"}`}>{decisionWord(a, approved)}</span>;
}

const settledColumns: Column<Approval>[] = [
  { header: "Asked", cell: (a) => stepText(a) },
  {
    header: "Request",
    cell: (a) => (
      <>
        {a.kind === "question" ? <QuestionBadge /> : <RiskBadge risk={a.risk} />}{" "}
        <Link href={`/approvals/${a.id}`} title={a.id}>
          {a.title}
        </Link>
      </>
    ),
  },
  { header: "Outcome", cell: (a) => <OutcomeBadge approval={a} /> },
  { header: "By", cell: (a) => a.outcome?.decidedBy ?? "—" },
  {
    header: "Answer or reason",
    cell: (a) =>
      a.outcome?.reason ? (
        <span className="clip" title={a.outcome.reason}>
          {a.outcome.reason}
        </span>
      ) : (
        <span className="muted">none given</span>
      ),
  },
  SETTLED_WHEN,
];

/** The run's settled requests, newest first. */
export function RunSettledRequests({ requests }: { requests: readonly Approval[] }) {
  return (
    <DataTable
      label="settled requests"
      rows={requests.filter((a) => a.state !== "pending")}
      columns={settledColumns}
      rowKey={(a) => a.id}
      empty="No request of this run has been settled yet."
    />
  );
}
