import { describe, expect, it } from "vitest";
import type { Alert } from "../core/alert.js";
import { notificationFor } from "./delivery.js";
import { DEFAULT_DASHBOARD_URL, dashboardLinks } from "./links.js";

const alertOf = (over: Partial<Alert>): Alert =>
  ({
    id: "01JALERT000000000000000001",
    source: "manual",
    summary: "disk full",
    details: null,
    createdAt: "2026-11-21T12:00:00.000Z",
    ...over,
  }) as Alert;

const sent = { id: 17, at: "2026-11-21T12:05:00.000Z" };

describe("dashboardLinks", () => {
  it("links the alert's page under the base URL, keeping a path prefix and dropping a trailing slash", () => {
    expect(dashboardLinks(DEFAULT_DASHBOARD_URL, { alertId: "A1" })).toEqual([
      { label: "Alert", url: "http://127.0.0.1:7070/alerts/A1" },
    ]);
    expect(dashboardLinks("https://ops.example.com/overseer/", { alertId: "A1" })).toEqual([
      { label: "Alert", url: "https://ops.example.com/overseer/alerts/A1" },
    ]);
  });

  it("puts the approval first and the job last, and escapes ids", () => {
    expect(dashboardLinks("https://o.example", { alertId: "A1", approvalId: "P1", jobId: "J/1" })).toEqual([
      { label: "Approval", url: "https://o.example/approvals/P1" },
      { label: "Alert", url: "https://o.example/alerts/A1" },
      { label: "Job", url: "https://o.example/jobs/J%2F1" },
    ]);
  });
});

describe("notificationFor", () => {
  it("a plain alert: its own id and time, the alert's id and raise time, Acknowledge, the alert's page", () => {
    expect(notificationFor(alertOf({}), sent)).toEqual({
      kind: "alert",
      id: "01JALERT000000000000000001-17",
      alertId: "01JALERT000000000000000001",
      title: "disk full",
      links: [{ label: "Alert", url: "http://127.0.0.1:7070/alerts/01JALERT000000000000000001" }],
      actions: ["ack"],
      at: "2026-11-21T12:05:00.000Z",
      raisedAt: "2026-11-21T12:00:00.000Z",
    });
  });

  it("a dead job's alert links the job", () => {
    const n = notificationFor(
      alertOf({ source: "job.dead", details: { jobId: "J1", task: "charge", queue: "payments" } }),
      sent,
      "https://o.example",
    );
    expect(n).toMatchObject({ kind: "alert", jobId: "J1", actions: ["ack"] });
    expect(n.links?.map((l) => l.url)).toEqual([
      "https://o.example/alerts/01JALERT000000000000000001",
      "https://o.example/jobs/J1",
    ]);
  });

  it("an approval's alert asks to approve or deny, and links the approval, the alert and the job", () => {
    const n = notificationFor(
      alertOf({ source: "approval", details: { approvalId: "P1", jobId: "J1" } }),
      sent,
      "https://o.example",
    );
    expect(n).toMatchObject({ kind: "approval", approvalId: "P1", jobId: "J1", actions: ["approve", "deny"] });
    expect(n.links?.map((l) => l.label)).toEqual(["Approval", "Alert", "Job"]);
  });

  it("each notification of one alert has an id of its own", () => {
    const alert = alertOf({});
    const ids = [1, 2, 3].map((id) => notificationFor(alert, { id, at: sent.at }).id);
    expect(new Set(ids).size).toBe(3);
    expect(ids.every((id) => !id.includes("."))).toBe(true); // Standard Webhooks signs id.timestamp.body
  });
});
