/**
 * Finding and acting on jobs in the dashboard, end to end (Chromium against a real `overseer
 * start`), at a desktop's and a phone's width: the filter bar (pickers, search, payload, time
 * ranges, page size, all in the URL) with the total count; retrying every dead job a filter
 * matches with one confirmation and one request; job actions that follow the job's state and ask
 * first; relative times that tick; a table that holds still under the pointer and announces new
 * rows; and a dropped event stream shown with a Retry that reconnects.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { dashboardHarness } from "../test-support/dashboard-harness.js";

const e2e = dashboardHarness({
  prefix: "overseer-dashboard-jobs-e2e-",
  prepare(dir) {
    mkdirSync(join(dir, "tasks"));
    writeFileSync(join(dir, "tasks", "noop.mjs"), "export default async function () { return { ok: true }; }\n");
    // Fails every time and, with one attempt, goes dead at once.
    writeFileSync(
      join(dir, "tasks", "broken.mjs"),
      `export default async function () { throw new Error("the service is down"); }
export const defaults = { maxAttempts: 1 };
`,
    );
  },
  startArgs: (dir) => ["--tasks", join(dir, "tasks")],
  // The dropped stream is a 503 from a blocked route.
  expectedHttpStatuses: [503],
  viewport: { width: 1440, height: 900 },
});

const VIEWPORTS = [
  { name: "desktop", tag: "desk", size: { width: 1440, height: 900 } },
  { name: "phone", tag: "phone", size: { width: 390, height: 844 } },
] as const;

const rows = () => e2e.page.locator("table[aria-label=jobs] tbody tr[data-key]");
const countText = () => e2e.text("[data-testid=job-count]");

/** Enqueues jobs through the API, a day ahead (each stays scheduled while the test looks) unless `now`. */
async function enqueue(task: string, queue: string, payloads: unknown[], now = false): Promise<{ id: string }[]> {
  const options = now ? { queue } : { queue, delay: "1d" };
  return e2e.request(
    "POST",
    "/api/v1/jobs",
    payloads.map((payload) => ({ task, payload, options })),
  );
}

async function jobState(id: string): Promise<string> {
  return (await e2e.request("GET", `/api/v1/jobs/${id}`)).job.state;
}

let signedIn = false;

for (const vp of VIEWPORTS) {
  describe(`the Jobs page at ${vp.name} width`, () => {
    const alpha = `alpha-${vp.tag}`;

    it("filters by pickers, text, payload and time range, counts the matches and pages by the size chosen, all in the URL", async () => {
      const { page, url } = e2e;
      await page.setViewportSize(vp.size);
      if (!signedIn) await e2e.signIn(e2e.admin);
      signedIn = true;
      const jobs = await enqueue(
        "noop",
        alpha,
        Array.from({ length: 30 }, (_, i) => ({ customer: `c-${vp.tag}-${i}` })),
      );
      await enqueue("noop", `beta-${vp.tag}`, [{ customer: `c-${vp.tag}-0` }]);
      await page.goto(`${url}/jobs`);
      await page.getByRole("heading", { name: "Jobs" }).waitFor();

      await page.getByLabel("Queue").selectOption(alpha);
      await page.waitForURL(new RegExp(`/jobs\\?queue=${alpha}$`));
      await e2e.eventually(countText, (t) => t === "30 matching", "the count of the queue's jobs");
      await e2e.eventually(
        () => rows().count(),
        (n) => n === 25,
        "a page of 25 rows",
      );
      await page.getByLabel("Per page").selectOption("50");
      await page.waitForURL(/limit=50/);
      await e2e.eventually(
        () => rows().count(),
        (n) => n === 30,
        "all 30 rows on one page of 50",
      );

      await page.getByLabel("Task").selectOption("noop");
      await page.waitForURL(/task=noop/);
      await page.getByLabel("Payload").fill(`customer=c-${vp.tag}-7`);
      await page.getByLabel("Payload").press("Enter");
      await e2e.eventually(countText, (t) => t === "1 matching", "the payload filter's one match");
      expect(await rows().count()).toBe(1);

      await page.getByLabel("Payload").fill("");
      const wanted = jobs[12]?.id ?? "";
      await page.getByLabel("Text").fill(wanted.slice(-12));
      await page.getByLabel("Text").press("Enter");
      await e2e.eventually(countText, (t) => t === "1 matching", "the id search's one match");
      await page.locator(`tr[data-key="${wanted}"]`).waitFor();

      await page.getByLabel("Created").selectOption("1h");
      await page.waitForURL(/created=1h/);
      await e2e.eventually(countText, (t) => t === "1 matching", "created in the last hour");
      await page.getByLabel("Finished").selectOption("1h");
      await e2e.eventually(countText, (t) => t === "0 matching", "none of them finished");
      await page.getByText("No jobs match these filters.").waitFor();

      // A shared link restores every filter and the page size.
      const shared = page.url();
      await page.goto(`${url}/queues`);
      await page.goto(shared);
      expect(await page.getByLabel("Created").inputValue()).toBe("1h");
      expect(await page.getByLabel("Queue").inputValue()).toBe(alpha);
      expect(await page.getByLabel("Per page").inputValue()).toBe("50");
      expect(await e2e.accessibilityViolations(), "jobs filtered").toEqual([]);
    });

    it("retries 1,000 dead jobs of a filter with one confirmation and one request", async () => {
      const { page, url } = e2e;
      await page.setViewportSize(vp.size);
      const queue = `dead-${vp.tag}`;
      await enqueue(
        "broken",
        queue,
        Array.from({ length: 1_000 }, (_, i) => ({ i })),
        true,
      );
      const dead = async () =>
        (await e2e.request("GET", `/api/v1/jobs/count?state=dead&queue=${queue}`)) as { count: number };
      await e2e.eventually(dead, (c) => c.count === 1_000, "1,000 dead jobs", 120_000);

      await page.goto(`${url}/jobs?state=dead&queue=${queue}`);
      await e2e.eventually(countText, (t) => t === "1,000 matching", "the count of dead jobs");
      const posts: string[] = [];
      const onRequest = (r: { method(): string; url(): string }) => {
        if (r.method() === "POST" && r.url().includes("/api/v1/jobs/")) posts.push(r.url());
      };
      page.on("request", onRequest);
      try {
        // Cancel applies to no dead job: not offered.
        expect(await page.getByRole("button", { name: /^Cancel all/ }).count()).toBe(0);
        await page.getByRole("button", { name: "Retry all 1,000 matching" }).click();
        const dialog = page.getByRole("dialog", { name: "Retry 1,000 jobs?" });
        expect(await dialog.textContent()).toContain("1,000 jobs matching this filter will be retried");
        expect(await dialog.textContent()).toContain(`state dead, queue ${queue}`);
        await e2e.shot(`jobs-bulk-confirm-${vp.name}`);
        expect(await e2e.accessibilityViolations(), "bulk confirmation").toEqual([]);
        await dialog.getByRole("button", { name: "Retry 1,000 jobs" }).click();
        expect(await e2e.text("output[aria-label='bulk result']")).toBe("Retry: 1,000 of 1,000 matched retried");
        expect(posts.map((p) => new URL(p).pathname)).toEqual(["/api/v1/jobs/retry"]);
      } finally {
        page.off("request", onRequest);
      }
      // Each ran again (and, broken as ever, went dead again): none is left waiting.
      await e2e.eventually(dead, (c) => c.count === 1_000, "the retried jobs to run and go dead again", 120_000);
    });

    it("enables a job's actions only in states that allow them, asks before cancel, discard and pause, and clears old results", async () => {
      const { page, url } = e2e;
      await page.setViewportSize(vp.size);
      const [done] = await enqueue("noop", alpha, [{ run: "now" }], true);
      await e2e.eventually(
        () => jobState(done?.id ?? ""),
        (s) => s === "succeeded",
        "the noop job to succeed",
      );
      await page.goto(`${url}/jobs/${done?.id}`);
      await page.locator(".facts .badge", { hasText: "succeeded" }).waitFor();
      const retry = page.getByRole("button", { name: "Retry", exact: true });
      await e2e.eventually(
        () => retry.isDisabled(),
        (off) => off,
        "Retry off for a succeeded job",
      );
      expect(await retry.getAttribute("title")).toBe("The job succeeded; there is nothing to retry.");
      const cancel = page.getByRole("button", { name: "Cancel", exact: true });
      expect(await cancel.isDisabled()).toBe(true);
      expect(await cancel.getAttribute("title")).toBe("a succeeded job cannot be cancelled");
      // Discard asks first; going back changes nothing.
      await page.getByRole("button", { name: "Discard", exact: true }).click();
      const discardDialog = page.getByRole("dialog", { name: "Discard this job?" });
      expect(await discardDialog.textContent()).toContain(done?.id);
      await discardDialog.getByRole("button", { name: "Go back" }).click();
      await discardDialog.waitFor({ state: "detached" });
      expect(await jobState(done?.id ?? "")).toBe("succeeded");
      await page.getByRole("button", { name: "Discard", exact: true }).click();
      await page.getByRole("dialog").getByRole("button", { name: "Discard the job" }).click();
      await page.waitForURL(/\/jobs$/);

      // A scheduled job: discard is off, cancel asks, and its answer goes when the state moves on.
      const [later] = await enqueue("noop", alpha, [{ run: "later" }]);
      await page.goto(`${url}/jobs/${later?.id}`);
      await page.locator(".facts .badge", { hasText: "scheduled" }).waitFor();
      const discard = page.getByRole("button", { name: "Discard", exact: true });
      expect(await discard.isDisabled()).toBe(true);
      expect(await discard.getAttribute("title")).toMatch(
        /only a finished job .* can be discarded; this one is scheduled/,
      );
      await page.getByRole("button", { name: "Cancel", exact: true }).click();
      await page
        .getByRole("dialog", { name: "Cancel this job?" })
        .getByRole("button", { name: "Cancel the job" })
        .click();
      expect(await e2e.text("output[aria-label='Cancel result']")).toBe("cancelled: now cancelled");
      await page.locator(".facts .badge", { hasText: "cancelled" }).waitFor();
      // The result stays while the job is as the cancel left it...
      expect(await page.locator("output[aria-label='Cancel result']").count()).toBe(1);
      // ...and goes once the job moves on (retried elsewhere).
      await e2e.request("POST", `/api/v1/jobs/${later?.id}/retry`, {});
      await page.locator(".facts .badge", { hasText: "cancelled" }).waitFor({ state: "detached" });
      await page.locator("output[aria-label='Cancel result']").waitFor({ state: "detached" });
      expect(await e2e.accessibilityViolations(), "job detail").toEqual([]);

      // Pausing a queue asks first.
      await page.goto(`${url}/queues`);
      await page.getByRole("button", { name: `Pause ${alpha}` }).click();
      const pause = page.getByRole("dialog", { name: `Pause queue ${alpha}?` });
      await pause.getByRole("button", { name: "Go back" }).click();
      await pause.waitFor({ state: "detached" });
      expect(await e2e.text(`table[aria-label=queues] tr[data-key="${alpha}"]`)).not.toContain("paused");
      await page.getByRole("button", { name: `Pause ${alpha}` }).click();
      await pause.getByRole("button", { name: `Yes, pause ${alpha}` }).click();
      await page.getByRole("button", { name: `Resume ${alpha}` }).click();
      await page.getByRole("button", { name: `Pause ${alpha}` }).waitFor();
      expect(await e2e.accessibilityViolations(), "queues").toEqual([]);
    });

    it("ticks relative times on their own, and holds the table still under the pointer, announcing new rows", async () => {
      const { page, url } = e2e;
      await page.setViewportSize(vp.size);
      const queue = `fresh-${vp.tag}`;
      const [first] = await enqueue("noop", queue, [{ n: 1 }]);
      await page.goto(`${url}/jobs?queue=${queue}`);
      const created = page.locator(`tr[data-key="${first?.id}"] time`);
      const before = (await created.textContent()) ?? "";
      expect(before).toMatch(/^\d+s ago$/);
      await e2e.eventually(
        async () => (await created.textContent()) ?? "",
        (t) => t !== before,
        "the time to tick",
      );

      // The pointer rests on the table: a new job is announced, not slipped in.
      await page.locator("table[aria-label=jobs]").hover();
      const [second] = await enqueue("noop", queue, [{ n: 2 }]);
      const show = page.getByRole("button", { name: "1 new — show" });
      await show.waitFor({ timeout: 15_000 });
      await e2e.shot(`jobs-new-rows-${vp.name}`);
      expect(await page.locator(`tr[data-key="${second?.id}"]`).count()).toBe(0);
      await show.click();
      await page.locator(`tr[data-key="${second?.id}"]`).waitFor();

      // Paused, the same with the pointer elsewhere.
      await page.getByRole("button", { name: "Pause updates" }).click();
      const [third] = await enqueue("noop", queue, [{ n: 3 }]);
      await show.waitFor({ timeout: 15_000 });
      expect(await page.locator(`tr[data-key="${third?.id}"]`).count()).toBe(0);
      await show.click();
      await page.locator(`tr[data-key="${third?.id}"]`).waitFor();
      await page.getByRole("button", { name: "Resume updates" }).click();
      expect(await e2e.accessibilityViolations(), "jobs live").toEqual([]);
    });

    it("shows a dropped event stream with a Retry that reconnects", async () => {
      const { page } = e2e;
      await page.setViewportSize(vp.size);
      const status = page.getByTestId("stream-status");
      await page.route("**/api/v1/events*", (route) => route.fulfill({ status: 503, body: "" }));
      try {
        // Signing in again opens a new stream, which the blocked route refuses.
        await e2e.signIn(e2e.admin);
        await e2e.eventually(
          async () => (await status.textContent()) ?? "",
          (t) => /^(reconnecting…|stream lost)Retry$/.test(t),
          "the stream to show as dropped, with Retry",
        );
      } finally {
        await page.unroute("**/api/v1/events*");
      }
      await status.getByRole("button", { name: "Retry" }).click();
      await e2e.eventually(
        async () => (await status.textContent()) ?? "",
        (t) => t === "● live",
        "the stream live again",
      );
    });
  });
}

describe("the Runs page", () => {
  it("keeps its filters, time range and page size in the URL, with the count of matches", async () => {
    const { page, url } = e2e;
    for (const vp of VIEWPORTS) {
      await page.setViewportSize(vp.size);
      await page.goto(`${url}/runs?state=completed,failed,cancelled&limit=50`);
      await page.getByRole("heading", { name: "Runs" }).waitFor();
      expect(await page.getByLabel("State").inputValue()).toBe("completed,failed,cancelled");
      expect(await page.getByLabel("Per page").inputValue()).toBe("50");
      await page.getByLabel("Per page").selectOption("100");
      await page.waitForURL(/limit=100/);
      await e2e.eventually(
        () => e2e.text("[data-testid=run-count]"),
        (t) => t === "0 matching",
        "no finished run",
      );
      await page.getByLabel("Created").selectOption("24h");
      await page.waitForURL(/created=24h/);
      expect(await page.getByLabel("Created").inputValue()).toBe("24h");
      await page.getByRole("button", { name: "Pause updates" }).waitFor();
      expect(await e2e.accessibilityViolations(), `runs at ${vp.name} width`).toEqual([]);
    }
  });
});
