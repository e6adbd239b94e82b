import { describe, expect, it } from "vitest";
import type { Alert } from "../core/alert.js";
import type { Approval } from "../core/approval.js";
import { visibleText } from "../test-support/fake-telegram.js";
import type { Notification } from "./channels/channel.js";
import { MAX_MESSAGE_LENGTH, telegramHtml } from "./channels/telegram-format.js";
import { settledLine, settledText } from "./settled-copies.js";

const alert = (overrides: Partial<Alert> = {}): Alert =>
  ({
    id: "a1",
    source: "job.dead",
    summary: "payments: job died",
    status: "triggered",
    acknowledgedBy: null,
    closedBy: null,
    closeReason: null,
    ...overrides,
  }) as Alert;

const approval = (
  state: Approval["state"],
  outcome: Partial<NonNullable<Approval["outcome"]>> | null = null,
  asked: Partial<Approval> = {},
) => ({ id: "ap1", state, outcome, jobId: "j1", runId: null, kind: "approval", ...asked }) as Approval;

describe("settledLine", () => {
  it("an alert: live while triggered; acknowledged and closed say by whom (and why)", () => {
    expect(settledLine(alert(), null)).toBeNull();
    expect(settledLine(alert({ status: "acknowledged", acknowledgedBy: "telegram:7" }), null)).toBe(
      "👀 Acknowledged by telegram:7",
    );
    expect(settledLine(alert({ status: "closed", closedBy: "ana", closeReason: " fixed\nthe  card " }), null)).toBe(
      "✔️ Closed by ana: fixed the card",
    );
    expect(settledLine(alert({ status: "closed", closedBy: "heartbeat" }), null)).toBe("✔️ Closed by heartbeat");
    const long = settledLine(alert({ status: "closed", closedBy: "bo", closeReason: "x".repeat(500) }), null);
    expect(long?.length).toBeLessThan(230);
  });

  it("an approval alert follows its request, not the alert's status", () => {
    const closed = alert({ source: "approval", status: "closed", closedBy: "bo" });
    expect(settledLine(closed, approval("pending"))).toBeNull();
    expect(settledLine(closed, approval("approved", { decidedBy: "ana", reason: null }))).toBe("✅ Approved by ana");
    expect(settledLine(alert(), approval("denied", { decidedBy: "ana,bo", reason: "risky" }))).toBe(
      "❌ Denied by ana,bo: risky",
    );
    expect(settledLine(alert(), approval("timed_out", { decidedBy: "watchdog", approved: false }))).toBe(
      "⌛ Timed out: denied by its timeout",
    );
    expect(settledLine(alert(), approval("cancelled"))).toBe("🚫 Cancelled: its job was cancelled");
  });

  it("a run's question is answered or dismissed, and goes with its run", () => {
    const question = { jobId: null, runId: "r1", kind: "question" as const };
    expect(settledLine(alert(), approval("approved", { decidedBy: "ana", reason: "SQLite" }, question))).toBe(
      "✅ Answered by ana: SQLite",
    );
    expect(settledLine(alert(), approval("denied", { decidedBy: "ana", reason: null }, question))).toBe(
      "❌ Dismissed by ana",
    );
    expect(settledLine(alert(), approval("timed_out", { approved: false }, question))).toBe(
      "⌛ Timed out: nobody answered in time",
    );
    expect(settledLine(alert(), approval("cancelled", null, question))).toBe("🚫 Cancelled: its run was cancelled");
  });
});

describe("settledText", () => {
  const n: Notification = { kind: "alert", id: "a1", title: "disk full", details: "db-1", at: "2030-01-01T00:00:00Z" };

  it("keeps the message as sent and adds the line under it", () => {
    expect(settledText(n, "👀 Acknowledged by ana")).toBe("<b>disk full</b>\n\ndb-1\n\n👀 Acknowledged by ana");
    expect(settledText(n, "✅ Approved by ana: <fine> & done")).toBe(
      `${telegramHtml(n)}\n\n✅ Approved by ana: &lt;fine&gt; &amp; done`,
    );
  });

  it("cuts the request, never the line, to fit Telegram's limit", () => {
    const text = settledText(
      { ...n, kind: "approval", request: { details: { diff: "+y\n".repeat(3_000) } } },
      "✅ Approved by ana",
    );
    expect(text.length).toBeLessThanOrEqual(MAX_MESSAGE_LENGTH);
    expect(text).toContain("cut here: the whole request is on the dashboard");
    expect(text.endsWith("\n\n✅ Approved by ana")).toBe(true);
    expect(visibleText({ text, parseMode: "HTML" }).endsWith("✅ Approved by ana")).toBe(true);
  });
});
