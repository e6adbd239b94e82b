/**
 * What the copies of a settled alert or approval request say. Every Telegram message sent with
 * buttons has a receipt (alert_notifications.receipt); once the thing it asks about is settled,
 * each copy keeps its text, loses its buttons and gains one line saying what happened and by
 * whom. Pure: the caller reads the alert (and the approval behind an approval alert) and edits.
 * An approval alert's Approve / Deny follow the approval, not the alert: acknowledging or closing
 * the alert by hand leaves them live while the request is still pending.
 */
import type { Alert } from "../core/alert.js";
import type { Approval } from "../core/approval.js";
import type { Notification } from "./channels/channel.js";
import { telegramHtml } from "./channels/telegram-format.js";

/** Reasons longer than this are cut in the settled line. */
const MAX_REASON = 200;

/**
 * The line a settled copy gets: "✅ Approved by ana", "👀 Acknowledged by telegram:7", "✔️ Closed by
 * bo: fixed". Null while the copies should keep their buttons: a triggered alert, a pending
 * approval (or one no longer stored). `approval` is the request behind an approval alert; pass
 * null for any other alert.
 */
export function settledLine(alert: Alert, approval: Approval | null): string | null {
  if (approval !== null) return approvalLine(approval);
  switch (alert.status) {
    case "triggered":
      return null;
    case "acknowledged":
      return `👀 Acknowledged by ${alert.acknowledgedBy ?? "someone"}`;
    case "closed":
      return `✔️ Closed by ${alert.closedBy ?? "someone"}${because(alert.closeReason)}`;
  }
}

function approvalLine(approval: Approval): string | null {
  const outcome = approval.outcome;
  const question = approval.kind === "question";
  switch (approval.state) {
    case "pending":
      return null;
    case "approved":
      return `✅ ${question ? "Answered" : "Approved"} by ${outcome?.decidedBy ?? "someone"}${because(outcome?.reason)}`;
    case "denied":
      return `❌ ${question ? "Dismissed" : "Denied"} by ${outcome?.decidedBy ?? "someone"}${because(outcome?.reason)}`;
    case "timed_out":
      return question
        ? "⌛ Timed out: nobody answered in time"
        : `⌛ Timed out: ${outcome?.approved ? "approved" : "denied"} by its timeout`;
    case "cancelled":
      return `🚫 Cancelled: its ${approval.runId === null ? "job" : "run"} was cancelled`;
  }
}

function because(reason: string | null | undefined): string {
  if (reason === null || reason === undefined || reason.trim() === "") return "";
  const oneLine = reason.replace(/\s+/g, " ").trim();
  return `: ${oneLine.length > MAX_REASON ? `${oneLine.slice(0, MAX_REASON - 1)}…` : oneLine}`;
}

/** The message as sent (Telegram HTML), with the settled line last; the request is cut, not the line, to fit. */
export function settledText(n: Notification, line: string): string {
  return telegramHtml(n, line);
}
