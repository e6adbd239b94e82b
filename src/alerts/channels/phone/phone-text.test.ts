import { describe, expect, it } from "vitest";
import type { Notification } from "../channel.js";
import { MAX_SPOKEN_LENGTH } from "./phone-provider.js";
import { MAX_SMS_LENGTH, smsText, spokenText } from "./phone-text.js";

const ALERT_ID = "01JALERT00000000000000000A";
const alert: Notification = {
  kind: "alert",
  id: `${ALERT_ID}-3`,
  alertId: ALERT_ID,
  title: "Disk full on db-1",
  details: '{\n "free": "0 B"\n}',
  links: [{ label: "Alert", url: `https://ops.example.com/alerts/${ALERT_ID}` }],
  actions: ["ack"],
  at: "2026-11-21T12:00:00.000Z",
};
const approval: Notification = {
  kind: "approval",
  id: `${ALERT_ID}-4`,
  alertId: ALERT_ID,
  approvalId: "01JAPPROVAL0000000000000001",
  title: "Approval needed: Deploy api to production",
  request: { details: { command: ["kubectl", "rollout", "restart", "deploy/api"] }, execution: "dry-run", test: true },
  links: [
    { label: "Approval", url: "https://ops.example.com/approvals/01JAPPROVAL0000000000000001" },
    { label: "Alert", url: `https://ops.example.com/alerts/${ALERT_ID}` },
  ],
  actions: ["approve", "deny"],
  at: "2026-11-21T12:00:00.000Z",
};
const bundle: Notification = {
  kind: "bundle",
  id: `bundle:${ALERT_ID}-5:12`,
  title: "12 alerts: Disk full on db-1",
  details: "- Disk full on db-1\n- Disk full on db-2\n… and 10 more",
  at: "2026-11-21T12:00:15.000Z",
  bundle: { total: 12, ids: [] },
};

describe("smsText", () => {
  it("an alert: the title and the alert's page, without its details", () => {
    expect(smsText(alert)).toBe(`[Overseer] Disk full on db-1\nhttps://ops.example.com/alerts/${ALERT_ID}`);
  });

  it("an approval: marked as every channel marks it, with the approval's page", () => {
    expect(smsText(approval)).toBe(
      "[Overseer] [DRY RUN] [TEST] Approval needed: Deploy api to production\nhttps://ops.example.com/approvals/01JAPPROVAL0000000000000001",
    );
  });

  it("a bundle: how many, and the summaries it lists", () => {
    expect(smsText(bundle)).toBe(
      "[Overseer] 12 alerts: Disk full on db-1\n- Disk full on db-1\n- Disk full on db-2\n… and 10 more",
    );
  });

  it("cuts a long title to 1,600 characters in all, keeping the link whole", () => {
    const text = smsText({ ...alert, title: `Disk full ${"x".repeat(3_000)}` });
    expect(text).toHaveLength(MAX_SMS_LENGTH);
    expect(text.endsWith(`…\nhttps://ops.example.com/alerts/${ALERT_ID}`)).toBe(true);
    expect(smsText({ ...bundle, title: "y".repeat(3_000) })).toHaveLength(MAX_SMS_LENGTH);
  });

  it("keeps a title on one line", () => {
    expect(smsText({ ...alert, title: "Disk full\non db-1", links: [] })).toBe("[Overseer] Disk full on db-1");
  });
});

describe("spokenText", () => {
  it("an alert: who calls, what about, and where to act, with no URL", () => {
    expect(spokenText({ ...alert, title: "Probe failed: https://api.example.com/health is down." })).toBe(
      "This is Overseer. An alert: Probe failed: a link is down. Acknowledge it on the dashboard.",
    );
  });

  it("an approval: the dry-run and test marks said in words", () => {
    expect(spokenText(approval)).toBe(
      "This is Overseer. Dry run: approving it runs nothing. This is a test. A request waits for approval: Approval needed: Deploy api to production. Decide on the dashboard.",
    );
  });

  it("a bundle: how many, and the first summary", () => {
    expect(spokenText(bundle)).toBe("This is Overseer. 12 alerts: Disk full on db-1. See the dashboard.");
  });

  it("stays short", () => {
    expect(spokenText({ ...alert, title: "z".repeat(2_000) })).toHaveLength(MAX_SPOKEN_LENGTH);
  });
});
