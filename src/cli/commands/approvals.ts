/**
 * `overseer approvals list|show|approve|deny|answer`: the requests jobs and runs made, and
 * deciding them (docs/approvals.md).
 */

import type { Command } from "commander";
import type { Approval, ApprovalDetail } from "../../client/index.js";
import { APPROVAL_STATES, type ApprovalState } from "../../core/approval.js";
import { OverseerError } from "../../core/errors.js";
import { clip } from "../../core/text.js";
import { withApprovalBackend } from "../approval-backend.js";
import { action, globals, parseIntOption, parseList, printJson, printLine, printTable } from "../context.js";

const MAX_REASON = 2_000;

export function registerApprovals(program: Command): void {
  const approvals = program
    .command("approvals")
    .description("list the approval requests and questions of jobs and runs, and decide or answer them");

  approvals
    .command("list")
    .description("list requests: pending first (oldest first), then settled ones (newest first)")
    .option("--state <states>", `comma-separated: ${APPROVAL_STATES.join(", ")}, or settled`)
    .option("--job <id>", "only the requests of this job")
    .option("--run <id>", "only the requests of this run")
    .option("--limit <n>", "at most this many (1-1000)", "50")
    .action(
      action(async (flags: { state?: string; job?: string; run?: string; limit: string }, command: Command) => {
        const g = globals(command);
        const states = parseStates(flags.state);
        const limit = parseIntOption(flags.limit, "--limit", 1, 1000);
        const list = await withApprovalBackend(g, (b) => b.list({ states, jobId: flags.job, runId: flags.run, limit }));
        if (g.json) return printJson(list);
        if (list.length === 0)
          return printLine(flags.state || flags.job || flags.run ? "no requests match" : "no approval requests");
        const now = Date.now();
        printTable(
          ["ID", "STATE", "RISK", "APPROVALS", "WHEN", "ASKED BY", "TITLE"],
          list.map((a) => [a.id, a.state, a.risk, votes(a), when(a, now), askerOf(a), clip(titleOf(a), 60)]),
        );
      }),
    );

  approvals
    .command("show")
    .description("show one request: what it asks, who may decide, and every decision")
    .argument("<id>")
    .action(
      action(async (id: string, _flags, command: Command) => {
        const g = globals(command);
        const detail = await withApprovalBackend(g, (b) => b.detail(id));
        if (g.json) return printJson(detail);
        for (const line of describe(detail, Date.now())) printLine(line);
      }),
    );

  for (const verb of ["approve", "deny"] as const) {
    approvals
      .command(verb)
      .description(
        verb === "approve"
          ? "approve a pending request (with a quorum, one of the approvals it needs)"
          : "deny a pending request: one denial settles it",
      )
      .argument("<id>")
      .option("--reason <text>", "why, for the audit trail and the job")
      .option("--as <name>", "local mode: decide as this name (default $USER); with --url the token decides")
      .action(
        action(async (id: string, flags: { reason?: string; as?: string }, command: Command) => {
          const g = globals(command);
          const reason = parseReason(flags.reason);
          const approval = await withApprovalBackend({ ...g, as: flags.as }, (b) =>
            b.decide(id, verb === "approve" ? "approve" : "deny", reason),
          );
          if (g.json) return printJson(approval);
          printLine(decided(approval, verb));
        }),
      );
  }

  approvals
    .command("answer")
    .description("answer a run's pending question: its next turn gets the answer")
    .argument("<id>")
    .argument("<answer>", "the answer, at most 2000 characters")
    .option("--as <name>", "local mode: answer as this name (default $USER); with --url the token decides")
    .action(
      action(async (id: string, text: string, flags: { as?: string }, command: Command) => {
        const g = globals(command);
        const answer = parseReason(text, "the answer");
        if (answer === null) {
          throw new OverseerError("INVALID_ARGUMENT", "the answer must not be empty", { field: "answer" });
        }
        const approval = await withApprovalBackend({ ...g, as: flags.as }, async (b) => {
          const { approval: asked } = await b.detail(id);
          if (asked.kind !== "question") {
            throw new OverseerError(
              "INVALID_ARGUMENT",
              `${id} is an approval request, not a question: approve or deny it (with --reason)`,
              { field: "id", kind: asked.kind },
            );
          }
          return b.decide(id, "approve", answer);
        });
        if (g.json) return printJson(approval);
        printLine(decided(approval, "approve"));
      }),
    );
}

/** "job <id>" or "run <id>". */
function askerOf(a: Approval): string {
  return a.runId === null ? `job ${a.jobId}` : `run ${a.runId}`;
}

/** A question shows as such in lists. */
function titleOf(a: Approval): string {
  return a.kind === "question" ? `Question: ${a.title}` : a.title;
}

function parseStates(text: string | undefined): ApprovalState[] | undefined {
  const names = parseList(text);
  if (names === undefined) return undefined;
  const states = new Set<ApprovalState>();
  for (const s of names) {
    if (s === "settled") {
      for (const x of APPROVAL_STATES) if (x !== "pending") states.add(x);
    } else if ((APPROVAL_STATES as readonly string[]).includes(s)) {
      states.add(s as ApprovalState);
    } else {
      throw new OverseerError(
        "INVALID_STATE_FILTER",
        `--state: unknown approval state "${s}"; the states are ${APPROVAL_STATES.join(", ")} (or settled)`,
        { field: "state" },
      );
    }
  }
  return [...states];
}

/** A reason (or a question's answer, `what`), trimmed; null when empty. */
function parseReason(reason: string | undefined, what = "--reason"): string | null {
  if (reason === undefined || reason.trim() === "") return null;
  if (reason.length > MAX_REASON) {
    throw new OverseerError("INVALID_ARGUMENT", `${what} must be at most ${MAX_REASON} characters`, {
      field: what === "--reason" ? "reason" : "answer",
    });
  }
  return reason.trim();
}

/** "1/2": approvals so far of the quorum. */
function votes(a: Approval): string {
  const approvers = new Set(
    a.decisions.filter((d) => d.decision === "approve" && d.by !== "watchdog").map((d) => d.by),
  );
  return `${approvers.size}/${a.quorum}`;
}

/** Pending: how long until the timeout; settled: when. */
function when(a: Approval, now: number): string {
  if (a.state === "pending") return `${span(Date.parse(a.expiresAt) - now)} left`;
  return a.settledAt ?? "";
}

function describe({ approval: a, job, run }: ApprovalDetail, now: number): string[] {
  const lines = [`${a.kind === "question" ? "question" : "approval"} ${a.id}: ${a.state} (risk ${a.risk}): ${a.title}`];
  if (a.runId !== null) {
    lines.push(
      `  run        ${run ? `${run.id} (${run.profile ?? "ad hoc"}, ${run.state}), ${a.step}` : `${a.runId} (deleted)`}`,
    );
  } else {
    lines.push(`  job        ${job ? `${job.id} (${job.task}, ${job.state})` : `${a.jobId} (discarded)`}`);
  }
  lines.push(`  asked      ${a.createdAt}${a.requestedBy ? ` by ${a.requestedBy}` : ""}`);
  const who = a.approvers.length === 0 ? "any operator" : a.approvers.join(", ");
  lines.push(`  approvers  ${who}; ${votes(a)} approvals${a.requestedBy ? `; ${a.requestedBy} may not decide` : ""}`);
  const left = a.state === "pending" ? ` (${span(Date.parse(a.expiresAt) - now)} left)` : "";
  lines.push(`  expires    ${a.expiresAt}${left}; then ${a.onTimeout}`);
  const details = a.details === null || a.details === undefined ? "none" : JSON.stringify(a.details, null, 2);
  lines.push(`  details    ${details.split("\n").join("\n             ")}`);
  if (a.decisions.length === 0) lines.push("  decisions  none yet");
  else {
    lines.push("  decisions");
    for (const d of a.decisions) {
      lines.push(`    ${d.at}  ${d.decision} by ${d.by} via ${d.channel}${d.reason ? `: ${d.reason}` : ""}`);
    }
  }
  if (a.outcome) {
    const o = a.outcome;
    lines.push(
      `  outcome    ${o.approved ? "approved" : "denied"}${o.timedOut ? " (timed out)" : ""} by ${o.decidedBy} via ${o.channel}` +
        `${o.reason ? `: ${o.reason}` : ""}`,
    );
  }
  return lines;
}

function decided(a: Approval, verb: "approve" | "deny"): string {
  if (a.state === "pending") {
    return `recorded your approval of ${a.id}: ${votes(a)} approvals; it stays pending until the quorum is reached`;
  }
  const past =
    a.kind === "question"
      ? verb === "approve"
        ? "answered"
        : "dismissed"
      : verb === "approve"
        ? "approved"
        : "denied";
  return `${past} ${a.id} (${clip(a.title, 60)}); ${askerOf(a)} ${nextFor(a)}`;
}

/** What the asker does now: a job or a run goes on; a run denied its start never starts. */
function nextFor(a: Approval): string {
  if (a.step !== "before-first-turn" || a.runId === null) return "continues";
  return a.outcome?.approved ? "starts" : "will not start: it is cancelled";
}

function span(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`;
}
