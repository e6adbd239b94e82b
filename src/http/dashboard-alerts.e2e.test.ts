/**
 * The dashboard's Alerts page end to end: Debian's Chromium, driven by playwright-core, against a
 * real `overseer start` whose config has a console channel, an escalation policy paging it, and a
 * heartbeat monitor that nobody pings (so it goes late and raises an alert by itself). Two manual
 * alerts are raised through the API; in the browser one is acknowledged, the other escalated and
 * closed with a reason; the timeline shows who was notified, and the console channel standing in
 * for a webhook that refuses every delivery (its `fallback`); a viewer sees the buttons disabled.
 * Screenshots go to test-output/screenshots (git-ignored), named alerts-*.png.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dashboardHarness } from "../test-support/dashboard-harness.js";

/** A webhook receiver that is gone: every delivery is refused (410), which fails at once, for good. */
const gone = createServer((_req, res) => res.writeHead(410).end("gone"));
await new Promise<void>((resolve) => gone.listen(0, "127.0.0.1", resolve));
process.env.E2E_GONE_SECRET = "e2e-gone-secret";
afterAll(async () => {
  delete process.env.E2E_GONE_SECRET;
  await new Promise<void>((resolve) => gone.close(() => resolve()));
});

const e2e = dashboardHarness({
  prefix: "overseer-dashboard-alerts-e2e-",
  prepare(dir) {
    mkdirSync(join(dir, "tasks"));
    writeFileSync(join(dir, "tasks", "noop.mjs"), "export default async function () { return null; }\n");
    writeFileSync(
      join(dir, "overseer.config.json"),
      JSON.stringify({
        alerts: {
          channels: {
            log: { type: "console" },
            gone: {
              type: "webhook",
              url: `http://127.0.0.1:${(gone.address() as AddressInfo).port}/hook`,
              secret: "env:E2E_GONE_SECRET",
              fallback: "desk",
            },
            desk: { type: "console", bundle: { window: "0s" } },
          },
          policies: {
            shaky: { steps: [{ delay: "0s", notify: ["gone"] }] },
            ops: {
              steps: [
                { delay: "0s", notify: ["log"] },
                { delay: "10m", notify: ["log"] },
              ],
              repeat: 0,
            },
          },
          heartbeats: { "nightly-backup": { interval: "1s", policy: "ops" } },
        },
      }),
    );
  },
  globalArgs: (dir) => ["--config", join(dir, "overseer.config.json")],
  startArgs: (dir) => ["--tasks", join(dir, "tasks")],
  expectedHttpStatuses: [],
  viewport: { width: 1280, height: 900 },
  fullPageShots: true,
});
const { request, eventually, shot, signIn } = e2e;
let page: Page;
let url = "";
let admin = "";
let viewer = "";

beforeAll(() => {
  ({ page, url, admin, viewer } = e2e);
});

const card = (summary: string) => page.locator("article.alert-card", { hasText: summary });
const alertOf = async (id: string) => (await request("GET", `/api/v1/alerts/${id}`)).alert;

describe("the Alerts page in Chromium", () => {
  let disk = "";
  let cert = "";

  it("lists open alerts, raised by hand and by a late heartbeat", async () => {
    disk = (await request("POST", "/api/v1/alerts", { summary: "disk almost full on db-1", policy: "ops" })).alert.id;
    cert = (await request("POST", "/api/v1/alerts", { summary: "certificate expires in 3 days", policy: "ops" })).alert
      .id;
    await signIn(admin);
    await page.getByRole("link", { name: "Alerts" }).first().click();
    await card("disk almost full on db-1").waitFor();
    await card("certificate expires in 3 days").waitFor();
    // Nobody pings the nightly backup: its monitor goes late and raises an alert of its own.
    await card("nightly-backup").waitFor({ timeout: 20_000 });
    await shot("alerts-open");
    expect(await e2e.accessibilityViolations(), "alerts-open").toEqual([]);
  });

  it("acknowledges one alert, then escalates and closes the other with a reason", async () => {
    await card("disk almost full on db-1").getByRole("button", { name: "Acknowledge" }).click();
    await eventually(
      () => alertOf(disk),
      (a) => a.status === "acknowledged",
      "the disk alert acknowledged",
    );
    await card("disk almost full on db-1").locator(".badge", { hasText: "acknowledged" }).waitFor();

    const other = card("certificate expires in 3 days");
    await other.getByRole("button", { name: "Escalate now" }).click();
    await eventually(
      async () => (await request("GET", `/api/v1/alerts/${cert}`)).notifications.length,
      (n) => n >= 2,
      "the escalation's second page",
    );
    await other.getByLabel("Reason").fill("renewed by hand");
    await other.getByRole("button", { name: "Close" }).click();
    const closed = await eventually(
      () => alertOf(cert),
      (a) => a.status === "closed",
      "the certificate alert closed",
    );
    expect(closed.closedBy).toBe("admin");
  });

  it("shows an alert's escalation timeline", async () => {
    await page.goto(`${url}/alerts/${cert}`);
    const timeline = page.getByLabel("escalation timeline");
    await timeline.waitFor();
    expect(await timeline.locator("tbody tr").count()).toBeGreaterThanOrEqual(2);
    expect(await timeline.textContent()).toContain("log");
    await shot("alerts-timeline");
    expect(await e2e.accessibilityViolations(), "alerts-timeline").toEqual([]);
  });

  it("marks the notification a channel's fallback sent when that channel failed for good", async () => {
    const id = (await request("POST", "/api/v1/alerts", { summary: "queue stuck", policy: "shaky" })).alert.id;
    const notifications = await eventually(
      async () => (await request("GET", `/api/v1/alerts/${id}`)).notifications,
      (all: Array<{ id: number; target: string; status: string; fallbackFor: number | null }>) =>
        all.length === 2 && all[1]?.status === "sent",
      "the fallback's notification sent",
    );
    expect(notifications.map((n) => [n.target, n.fallbackFor])).toEqual([
      ["gone", null],
      ["desk", notifications[0]?.id],
    ]);
    await page.goto(`${url}/alerts/${id}`);
    const rows = page.getByLabel("escalation timeline").locator("tbody tr");
    await rows.nth(1).waitFor();
    expect(await rows.nth(0).textContent()).toMatch(/gone.*failed.*410/);
    expect(await rows.nth(1).textContent()).toMatch(/desk \(fallback\).*sent/);
    await shot("alerts-fallback");
    expect(await e2e.accessibilityViolations(), "alerts-fallback").toEqual([]);
  });

  it("shows the escalation policies", async () => {
    await page.goto(`${url}/alerts?view=policies`);
    const policy = page.getByLabel("policy ops");
    await policy.waitFor();
    expect(await policy.textContent()).toContain("log");
  });

  it("a viewer sees the alerts but the buttons say why they are off", async () => {
    await signIn(viewer);
    await page.goto(`${url}/alerts`);
    const heartbeat = card("nightly-backup");
    await heartbeat.waitFor();
    expect(await heartbeat.getByRole("button", { name: "Acknowledge" }).isDisabled()).toBe(true);
    expect(await heartbeat.textContent()).toMatch(/operator/);
    await shot("alerts-viewer");
  });
});
