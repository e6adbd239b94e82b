/**
 * The dashboard's workers end to end: Debian's Chromium, driven by playwright-core, against a
 * real `overseer start` (the built binary, a temp SQLite file, a free port) whose own worker runs
 * a `hold` task that waits for a file. On a phone a viewer reads the worker as a card (status,
 * utilization, counts, its running job by task) and finds its Quiet and Stop disabled. At
 * desktop width an operator quiets the worker from its page: it finishes its job and claims
 * nothing more over the next heartbeats; the job's attempt links back to the worker; then Stop
 * stops it, and on a phone the attempt still leads to the stopped worker's page. Screenshots go to test-output/screenshots (git-ignored), named workers-*.png.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { dashboardHarness } from "../test-support/dashboard-harness.js";

const e2e = dashboardHarness({
  prefix: "overseer-dashboard-workers-e2e-",
  prepare(dir) {
    mkdirSync(join(dir, "tasks"));
    // Runs until its gate file exists: the test decides when each job finishes.
    writeFileSync(
      join(dir, "tasks", "hold.mjs"),
      `import { existsSync } from "node:fs";
export default async function (payload, ctx) {
  while (!existsSync(payload.gate)) {
    if (ctx.signal.aborted) throw new Error("aborted");
    await new Promise((r) => setTimeout(r, 50));
  }
  return "released";
}
`,
    );
  },
  startArgs: (dir) => ["--tasks", join(dir, "tasks")],
  expectedHttpStatuses: [],
  viewport: { width: 1440, height: 900 },
  fullPageShots: true,
});
const { request, eventually, shot, signIn } = e2e;
let page: Page;

beforeAll(async () => {
  ({ page } = e2e);
});

interface WorkerBody {
  id: string;
  status: string;
  heartbeatAt: string;
  processed: number;
  jobs: Array<{ id: string; task: string }>;
}

async function theWorker(): Promise<WorkerBody> {
  const { items } = await request("GET", "/api/v1/workers");
  expect(items, "overseer start runs one worker").toHaveLength(1);
  return items[0];
}

async function hold(name: string): Promise<{ id: string; gate: string }> {
  const gate = join(e2e.dir, `${name}.gate`);
  const job = await request("POST", "/api/v1/jobs", { task: "hold", payload: { gate } });
  return { id: job.id, gate };
}

const jobState = async (id: string): Promise<string> => (await request("GET", `/api/v1/jobs/${id}`)).job.state;

async function openWorkers(): Promise<void> {
  await page.getByRole("link", { name: "Workers", exact: true }).click();
  await page.getByRole("heading", { name: "Workers", level: 1 }).waitFor();
}

const statusOnPage = async (): Promise<string> => (await page.getByTestId("worker-status").textContent()) ?? "";

async function confirm(label: string, yes: string): Promise<void> {
  await page.getByRole("button", { name: label, exact: true }).click();
  const dialog = page.getByRole("alertdialog");
  await dialog.waitFor();
  await dialog.getByRole("button", { name: yes }).click();
}

async function noSidewaysScroll(what: string): Promise<void> {
  const size: { scrollWidth: number; innerWidth: number } = await page.evaluate(
    "({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth })",
  );
  expect(size.scrollWidth, `${what} at 390 px wide`).toBeLessThanOrEqual(size.innerWidth);
}

let first: { id: string; gate: string };

describe("workers", () => {
  it("on a phone, a viewer reads each worker as a card with its running job by task, and cannot steer it", async () => {
    first = await hold("first");
    await eventually(
      () => jobState(first.id),
      (s) => s === "running",
      "the first job to run",
    );
    const worker = await theWorker();
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await signIn(e2e.viewer);
      await openWorkers();
      const card = page.getByRole("table", { name: "workers" }).locator(`tr[data-key="${worker.id}"]`);
      await eventually(
        async () => (await card.textContent()) ?? "",
        (text) => text.includes("active") && text.includes("1 / 10 (10%)") && text.includes("hold"),
        "the worker's card with its status, utilization and running job",
      );
      expect(await card.locator("td[data-label='Processed']").textContent()).toBe("0");
      await noSidewaysScroll("the workers page");
      await shot("workers-phone");
      expect(await e2e.accessibilityViolations(), "workers-phone").toEqual([]);

      // The running job's task links to the job.
      expect(await card.getByRole("link", { name: "hold" }).getAttribute("href")).toBe(`/jobs/${first.id}`);
      // Its name (the row's first link) opens its page.
      await card.getByRole("link").first().click();
      await page.getByRole("heading", { name: /^Worker / }).waitFor();
      for (const label of ["Quiet", "Stop", "Resume"]) {
        expect(await page.getByRole("button", { name: label, exact: true }).isDisabled(), label).toBe(true);
      }
      await page
        .getByText(/needs an operator token/)
        .first()
        .waitFor();
      await noSidewaysScroll("the worker's page");
      await shot("workers-detail-phone");
      expect(await e2e.accessibilityViolations(), "workers-detail-phone").toEqual([]);
    } finally {
      await page.setViewportSize({ width: 1440, height: 900 });
    }
  });

  it("an operator quiets the worker: it finishes its job and claims nothing more; the attempt links to it; Stop stops it", async () => {
    const worker = await theWorker();
    await signIn(e2e.admin);
    await openWorkers();
    await page
      .getByRole("table", { name: "workers" })
      .locator(`tr[data-key="${worker.id}"]`)
      .getByRole("link")
      .first()
      .click();
    await page.getByRole("heading", { name: /^Worker / }).waitFor();
    expect(await page.getByRole("button", { name: "Resume", exact: true }).isDisabled()).toBe(true);
    await page.getByRole("table", { name: "running jobs" }).getByRole("link", { name: "hold" }).waitFor();
    expect(await e2e.accessibilityViolations(), "workers-detail").toEqual([]);

    await confirm("Quiet", "Yes, quiet it");
    await eventually(statusOnPage, (s) => s.startsWith("quiet"), "the page to show the worker quiet");
    await shot("workers-quiet");
    expect(await page.getByRole("button", { name: "Quiet", exact: true }).isDisabled()).toBe(true);
    expect(await page.getByRole("button", { name: "Stop", exact: true }).isDisabled()).toBe(false);

    // Work waits while it is quiet; its own job finishes.
    const second = await hold("second");
    writeFileSync(first.gate, "");
    await eventually(
      () => jobState(first.id),
      (s) => s === "succeeded",
      "the first job to succeed",
    );
    const counted = await eventually(theWorker, (w) => w.processed === 1, "the worker to count its job");
    // One heartbeat more, and still nothing claimed: the second job waits, queued.
    await eventually(theWorker, (w) => w.heartbeatAt !== counted.heartbeatAt, "one more heartbeat");
    expect(await jobState(second.id)).toBe("queued");
    expect((await theWorker()).jobs).toEqual([]);
    await eventually(
      async () => (await page.locator(".facts").textContent()) ?? "",
      (text) => text.includes("Processed1") && text.includes("0 / 10 (0%)"),
      "the page to show one processed job and no busy slot",
    );
    expect(await page.getByRole("table", { name: "running jobs" }).textContent()).toContain("It runs no jobs now.");

    // The first job's attempt links to the worker that ran it.
    await page.goto(`${e2e.url}/jobs/${first.id}`);
    await page
      .getByRole("table", { name: "attempts" })
      .getByRole("link", { name: `worker ${worker.id}` })
      .click();
    await page.getByRole("heading", { name: /^Worker / }).waitFor();
    expect(new URL(page.url()).pathname).toBe(`/workers/${worker.id}`);

    await confirm("Stop", "Yes, stop it");
    await eventually(statusOnPage, (s) => s.startsWith("stopped"), "the page to show the worker stopped");
    for (const label of ["Quiet", "Stop", "Resume"]) {
      expect(await page.getByRole("button", { name: label, exact: true }).isDisabled(), label).toBe(true);
    }
    await shot("workers-stopped");
    expect(await e2e.accessibilityViolations(), "workers-stopped").toEqual([]);
    // Nothing lost: the second job still waits for a worker, never started.
    const detail = await request("GET", `/api/v1/jobs/${second.id}`);
    expect([detail.job.state, detail.attempts.length]).toEqual(["queued", 0]);
    expect(existsSync(first.gate)).toBe(true);

    // On a phone too, the attempt leads to the worker, whose page shows it stopped.
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await page.goto(`${e2e.url}/jobs/${first.id}`);
      await page
        .getByRole("table", { name: "attempts" })
        .getByRole("link", { name: `worker ${worker.id}` })
        .click();
      await eventually(statusOnPage, (s) => s.startsWith("stopped"), "the phone page to show the worker stopped");
      await noSidewaysScroll("a stopped worker's page");
      await shot("workers-stopped-phone");
      expect(await e2e.accessibilityViolations(), "workers-stopped-phone").toEqual([]);
    } finally {
      await page.setViewportSize({ width: 1440, height: 900 });
    }
  });
});
