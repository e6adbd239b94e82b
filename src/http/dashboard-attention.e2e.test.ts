/**
 * What needs a person, end to end: Debian's Chromium against a real `overseer start` whose config
 * has a console channel, a policy that pages it once (so its alerts are exhausted at once), a run
 * profile whose turn fails, and a schedule firing every second. Seeded through the API: pending
 * approvals, triggered alerts, dead jobs, a paused queue, a failed run. Checked at 1440x900 and
 * 390x844: the Overview's attention list and the navigation's badges; bulk acknowledge and close
 * of alerts and a bulk approval decision by filter, each confirmed in a dialog; an alert's
 * lifecycle and its links; the schedules' cron in words and last runs. axe finds nothing serious.
 */
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { BIN } from "../test-support/cli.js";
import { dashboardHarness } from "../test-support/dashboard-harness.js";

const e2e = dashboardHarness({
  prefix: "overseer-dashboard-attention-e2e-",
  prepare(dir) {
    mkdirSync(join(dir, "tasks"));
    writeFileSync(join(dir, "tasks", "noop.mjs"), "export default async function () { return null; }\n");
    writeFileSync(
      join(dir, "tasks", "charge.mjs"),
      'export default async function () { throw new Error("card refused"); }\n',
    );
    writeFileSync(
      join(dir, "tasks", "deploy.mjs"),
      `export default async function (payload, ctx) {
  const d = await ctx.requestApproval({ title: "Deploy " + payload.n, risk: "high", timeout: "1h", onTimeout: "deny" });
  return { approved: d.approved };
}
`,
    );
    writeFileSync(
      join(dir, "overseer.config.json"),
      JSON.stringify({
        alerts: {
          channels: { log: { type: "console" } },
          policies: { once: { steps: [{ delay: "0s", notify: ["log"] }] } },
        },
        runs: {
          profiles: {
            broken: {
              command: process.execPath,
              args: ["-e", "process.exit(3)"],
              cwd: "work/{{runId}}",
              maxTurns: 1,
              completion: { stopFile: ".stop" },
            },
          },
        },
        schedules: { heartbeat: { cron: "* * * * * *", task: "noop" } },
      }),
    );
  },
  globalArgs: (dir) => ["--config", join(dir, "overseer.config.json")],
  startArgs: (dir) => ["--tasks", join(dir, "tasks")],
  expectedHttpStatuses: [],
  viewport: { width: 1440, height: 900 },
  fullPageShots: true,
});
const { request, eventually, shot, signIn } = e2e;
let page: Page;
let url = "";
let admin = "";
/** An operator token that enqueues the jobs asking for approval: the one asking may not decide. */
let ci = "";

beforeAll(async () => {
  ({ page, url, admin } = e2e);
  const args = [BIN, "--database", join(e2e.dir, "e2e.db"), "tokens", "create", "--scope", "operator", "--name", "ci"];
  ci = (await promisify(execFile)(process.execPath, args)).stdout.trim();
});

const VIEWPORTS = [
  { name: "wide", width: 1440, height: 900 },
  { name: "phone", width: 390, height: 844 },
] as const;

const attention = () => request("GET", "/api/v1/attention");

describe("what needs attention, in Chromium", () => {
  it("seeds approvals, alerts, dead jobs, a paused queue and a failed run; the API counts them", async () => {
    for (let n = 1; n <= 3; n++) await request("POST", "/api/v1/jobs", { task: "deploy", payload: { n } }, ci);
    for (let n = 1; n <= 2; n++) {
      await request("POST", "/api/v1/jobs", { task: "charge", options: { queue: "payments", maxAttempts: 1 } });
    }
    await request("POST", "/api/v1/alerts", { summary: "disk almost full on db-1", policy: "once" });
    await request("POST", "/api/v1/alerts", { summary: "replica lag on db-2" });
    await request("POST", "/api/v1/alerts", { summary: "certificate expires soon" });
    await request("POST", "/api/v1/queues/reports/pause", {});
    await request("POST", "/api/v1/runs", { profile: "broken" });
    const counts = await eventually(
      async () => (await attention()).counts,
      (c) => c.approvals === 3 && c.deadJobs === 2 && c.alerts === 3 && c.pausedQueues === 1 && c.failedRuns === 1,
      "the seeded attention counts",
      30_000,
    );
    expect(counts.exhaustedAlerts).toBe(1);
  });

  for (const v of VIEWPORTS) {
    it(`lists what needs attention on the Overview, linked, with live nav badges (${v.name})`, async () => {
      await page.setViewportSize({ width: v.width, height: v.height });
      await signIn(admin);
      const list = page.locator("section.attention");
      await list.waitFor();
      expect(await list.locator("h2").textContent()).toMatch(/Needs attention \(\d+\)/);
      const approvals = page.getByTestId("attention-approvals");
      expect(await approvals.textContent()).toContain("3 pending approvals");
      // Oldest first, each with its time left, ticking.
      expect(await approvals.locator("li a").first().textContent()).toBe("Deploy 1");
      const left = approvals.getByTestId("time-left").first();
      const before = await left.textContent();
      expect(before).toMatch(/left/);
      await eventually(
        () => left.textContent(),
        (t) => t !== before,
        "the time left to tick",
        5_000,
      );
      expect(await page.getByTestId("attention-alerts").textContent()).toContain("1 with nobody left to page");
      expect(await page.getByTestId("attention-failed-runs").textContent()).toContain("1 failed run");
      const dead = page.getByTestId("attention-dead-jobs");
      expect(await dead.locator("li a").first().getAttribute("href")).toBe(
        "/jobs?state=dead&task=charge&queue=payments",
      );
      expect(await page.getByTestId("attention-paused-queues").textContent()).toContain("reports");
      // The badges are part of the links' names.
      const nav = page.getByRole("navigation", { name: "main" });
      const approvalsLink = nav.getByRole("link", { name: /^Approvals/ });
      await eventually(
        () => approvalsLink.evaluate((a) => a.textContent),
        (t) => t?.includes("3 pending") === true,
        "the approvals badge",
        10_000,
      );
      await nav.getByRole("link", { name: /^Approvals\s*, 3 pending$/ }).waitFor();
      await nav.getByRole("link", { name: /^Alerts\s*, 3 triggered$/ }).waitFor();
      await nav.getByRole("link", { name: /^Jobs\s*, 2 dead$/ }).waitFor();
      // Live: a new alert raises the badge without a reload.
      if (v.name === "wide") {
        const { alert } = await request("POST", "/api/v1/alerts", { summary: "transient" });
        await nav.getByRole("link", { name: /^Alerts\s*, 4 triggered$/ }).waitFor({ timeout: 10_000 });
        await request("POST", `/api/v1/alerts/${alert.id}/close`, { reason: "transient" });
        await nav.getByRole("link", { name: /^Alerts\s*, 3 triggered$/ }).waitFor({ timeout: 10_000 });
      }
      await shot(`attention-overview-${v.name}`);
      expect((await e2e.accessibilityViolations()).join("\n"), `overview ${v.name}`).toBe("");
      await dead.locator("li a").first().click();
      await page.waitForURL(/\/jobs\?state=dead&task=charge&queue=payments$/);
    });
  }

  for (const v of VIEWPORTS) {
    it(`shows an alert's lifecycle, the acknowledger's note included (${v.name})`, async () => {
      await page.setViewportSize({ width: v.width, height: v.height });
      const { alert } = await request("POST", "/api/v1/alerts", { summary: `lifecycle ${v.name}`, policy: "once" });
      await request("POST", `/api/v1/alerts/${alert.id}/ack`, { note: "looking at it" });
      await page.goto(`${url}/alerts/${alert.id}`);
      const steps = page.locator("ol[aria-label=lifecycle] li");
      await eventually(
        () => steps.allTextContents(),
        (t) => t.some((s) => s.includes("acknowledged")),
        "the acknowledgement in the lifecycle",
        10_000,
      );
      const text = (await steps.allTextContents()).join("\n");
      expect(text).toContain("raised (policy once)");
      expect(text).toContain("escalated by escalator: step 1 → log");
      expect(text).toContain("acknowledged by admin: “looking at it”");
      await shot(`attention-lifecycle-${v.name}`);
      expect((await e2e.accessibilityViolations()).join("\n"), `lifecycle ${v.name}`).toBe("");
    });
  }

  it("bulk acknowledges the matching alerts with one note, then closes them, each after a confirmation", async () => {
    await page.setViewportSize({ width: 1440, height: 900 });
    const triggered = (await request("GET", "/api/v1/alerts?status=triggered&source=manual")).total;
    const ackedBefore = (await request("GET", "/api/v1/alerts?status=acknowledged&source=manual")).total;
    expect(triggered).toBeGreaterThanOrEqual(3);
    await page.goto(`${url}/alerts?status=triggered&source=manual`);
    const matched = page.getByTestId("matched-count");
    await eventually(
      () => matched.textContent(),
      (t) => t?.startsWith(`${triggered} matching alerts`) === true,
      "the triggered manual alerts counted",
    );
    await page.getByLabel("Note or reason for all").fill("failover in progress");
    await page.getByRole("button", { name: "Acknowledge all" }).click();
    const dialog = page.locator("dialog.confirm-dialog");
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain(`Acknowledge all ${triggered} matching alerts?`);
    await shot("attention-bulk-confirm");
    expect((await e2e.accessibilityViolations()).join("\n"), "bulk confirm").toBe("");
    await dialog.getByRole("button", { name: "Confirm" }).click();
    await page.locator("output[aria-label='bulk result']").waitFor();
    expect(await page.locator("output[aria-label='bulk result']").textContent()).toBe(
      `${triggered} of ${triggered} done`,
    );
    const open = triggered + ackedBefore;
    expect((await request("GET", "/api/v1/alerts?status=acknowledged&source=manual")).total).toBe(open);

    await page.goto(`${url}/alerts?source=manual`);
    await eventually(
      () => matched.textContent(),
      (t) => t?.startsWith(`${open} matching alerts`) === true,
      "the open manual alerts counted",
    );
    await page.getByRole("button", { name: "Close all" }).click();
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain(`Close all ${open} matching alerts?`);
    await dialog.getByRole("button", { name: "Confirm" }).click();
    await eventually(
      () => page.locator("output[aria-label='bulk result']").textContent(),
      (t) => t === `${open} of ${open} done`,
      "the close result",
    );
    expect((await request("GET", "/api/v1/alerts?status=open&source=manual")).total).toBe(0);
  });

  it("bulk approves the pending requests a filter matches with one reason, at phone width", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${url}/approvals?kind=approval`);
    const matched = page.getByTestId("matched-count");
    await eventually(
      () => matched.textContent(),
      (t) => /^3 matching pending requests/.test(t ?? ""),
      "3 pending requests",
    );
    expect(await page.getByTestId("approvals-total").textContent()).toBe("3 pending");
    await page.getByLabel("Reason for all").fill("release train 42");
    await page.getByRole("button", { name: "Approve all" }).click();
    const dialog = page.locator("dialog.confirm-dialog");
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain("Approve all 3 matching requests?");
    await shot("attention-approvals-confirm-phone");
    expect((await e2e.accessibilityViolations()).join("\n"), "approvals confirm").toBe("");
    await dialog.getByRole("button", { name: "Confirm" }).click();
    await eventually(
      () => page.locator("output[aria-label='bulk result']").textContent(),
      (t) => t === "3 of 3 done",
      "the decision result",
    );
    const settled = await request("GET", "/api/v1/approvals?state=approved");
    expect(settled.total).toBe(3);
    expect(settled.items.map((a: { outcome: { reason: string } }) => a.outcome.reason)).toEqual(
      Array(3).fill("release train 42"),
    );
    await page.getByRole("link", { name: "Approvals", exact: true }).waitFor({ timeout: 10_000 });
  });

  for (const v of VIEWPORTS) {
    it(`shows each schedule's cron in words and its last runs, linked (${v.name})`, async () => {
      await page.setViewportSize({ width: v.width, height: v.height });
      await page.goto(`${url}/schedules`);
      const row = page.locator("table[aria-label=schedules] tr[data-key=heartbeat]");
      await row.waitFor();
      expect(await row.locator(".cron-words").textContent()).toBe("Every second");
      const runs = row.locator("ul[aria-label='last runs of heartbeat'] li");
      await runs.first().waitFor({ timeout: 10_000 });
      const href = await runs.first().locator("a").getAttribute("href");
      expect(href).toMatch(/^\/jobs\/[0-9A-Z]{26}$/);
      await shot(`attention-schedules-${v.name}`);
      expect((await e2e.accessibilityViolations()).join("\n"), `schedules ${v.name}`).toBe("");
    });
  }
});
