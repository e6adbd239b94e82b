/**
 * The dashboard end to end: Debian's Chromium, driven by playwright-core, against a real
 * `overseer start` (the built binary, a temp SQLite file, a free port) working real tasks.
 * Without Chromium this fails, saying how to install it: it never skips. Screenshots of each
 * page go to test-output/screenshots (git-ignored); docs/screenshots holds copies for the README.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { dashboardHarness } from "../test-support/dashboard-harness.js";
import { waitFor } from "../test-support/wait.js";

const e2e = dashboardHarness({
  prefix: "overseer-dashboard-e2e-",
  prepare(dir) {
    mkdirSync(join(dir, "tasks"));
    // Fails (and with one attempt goes dead) until its gate file exists; then succeeds.
    writeFileSync(
      join(dir, "tasks", "gated.mjs"),
      `import { existsSync } from "node:fs";
export default async function (payload) {
  if (!existsSync(payload.gate)) throw new Error("the gate is closed");
  return { passed: payload.gate };
}
export const defaults = { maxAttempts: 1 };
`,
    );
    writeFileSync(
      join(dir, "tasks", "slow.mjs"),
      `export default async function (payload, ctx) {
  await new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, payload.ms);
    ctx.signal.addEventListener("abort", () => { clearTimeout(timer); reject(new Error("aborted")); });
  });
  return { slept: payload.ms };
}
`,
    );
    // Reports half-way progress once its first gate exists, finishes once its second does.
    writeFileSync(
      join(dir, "tasks", "steps.mjs"),
      `import { existsSync } from "node:fs";
const until = async (path, signal) => {
  while (!existsSync(path)) {
    if (signal.aborted) throw new Error("aborted");
    await new Promise((r) => setTimeout(r, 50));
  }
};
export default async function (payload, ctx) {
  await until(payload.half, ctx.signal);
  await ctx.progress(0.5);
  await until(payload.done, ctx.signal);
  return { done: true };
}
`,
    );
    // Two durable steps; the second fails on the first attempt and passes on the next.
    writeFileSync(
      join(dir, "tasks", "durable.mjs"),
      `export default async function (payload, ctx) {
  const incident = await ctx.step("intake", () => ({ id: payload.id }));
  await ctx.step("investigate", () => {
    if (ctx.attempt === 1) throw Object.assign(new Error("log store timed out"), { code: "LOGS_TIMEOUT" });
    return { cause: "pool exhausted", incident: incident.id };
  });
  return { resolved: incident.id };
}
export const defaults = { maxAttempts: 2, backoff: { type: "fixed", delay: 10 } };
`,
    );
    // A schedule that never fires during the test (02:00 on 1 January), so only "run now" enqueues.
    writeFileSync(
      join(dir, "overseer.config.json"),
      JSON.stringify({
        schedules: { "nightly-report": { cron: "0 2 1 1 *", task: "slow", payload: { ms: 50 } } },
        // Two failures in queue flaky open its breaker for an hour; meanwhile its jobs go to `slow`.
        breakers: { flaky: { minAttempts: 2, failureRate: 1, cooldown: "1h", divertTo: "slow" } },
      }),
    );
  },
  globalArgs: (dir) => ["--config", join(dir, "overseer.config.json")],
  startArgs: (dir) => ["--tasks", join(dir, "tasks")],
  // The answers these tests provoke on purpose; Chromium logs each as a console error.
  expectedHttpStatuses: [401, 409],
  viewport: { width: 1280, height: 800 },
});
const { request, text, eventually, shot, signIn } = e2e;
let dir = "";
let page: Page;
let url = "";
let admin = "";
let viewer = "";

// The harness's folder, page, address and tokens under plain names, once its beforeAll has made them.
beforeAll(() => {
  ({ dir, page, url, admin, viewer } = e2e);
});

const enqueue = (task: string, payload: unknown, options: object = {}) =>
  request("POST", "/api/v1/jobs", { task, payload, options });

async function jobState(id: string): Promise<string> {
  return (await request("GET", `/api/v1/jobs/${id}`)).job.state;
}

type Focused = { tag: string; text: string; href: string; outline: string };
const FOCUSED = `(() => {
  const a = document.activeElement;
  return {
    tag: a ? a.tagName.toLowerCase() : "",
    text: a && a.textContent ? a.textContent.trim() : "",
    href: (a && a.getAttribute("href")) || "",
    outline: a ? getComputedStyle(a).outlineStyle : "none",
  };
})()`;

/** Presses Tab until the focused element passes `test` (at most `max` times). */
async function tabTo(test: (el: Focused) => boolean, max = 80): Promise<Focused> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press("Tab");
    const el: Focused = await page.evaluate(FOCUSED);
    if (test(el)) return el;
  }
  throw new Error(`Tab never reached the element wanted within ${max} presses`);
}

describe("the dashboard in Chromium", () => {
  it("refuses a wrong token plainly, then signs in with the admin token", async () => {
    await signIn("ovs_not-a-real-token", { expectFailure: true });
    expect(await text("[role=alert]")).toContain("not accepted");
    await shot("sign-in");
    await page.locator("#token").fill(admin);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Overview" }).waitFor();
    expect(await text(".who")).toBe("admin (admin)");
  });

  it("counts jobs on the overview live as they finish", async () => {
    await page.getByRole("heading", { name: "Overview" }).waitFor();
    const before = Number(await text("[data-testid=count-succeeded]"));
    await page.locator(".stream-live").waitFor();
    for (let i = 0; i < 5; i++) await enqueue("slow", { ms: 200 + i * 100 });
    await eventually(
      async () => Number(await text("[data-testid=count-succeeded]")),
      (n) => n === before + 5,
      "succeeded count on the overview",
    );
    expect(Number(await text("[data-testid=workers-alive]"))).toBeGreaterThanOrEqual(1);
    await shot("overview");
  });

  it("filters the jobs table through the URL, shows new jobs without a reload, and opens a job", async () => {
    const dead = await enqueue("gated", { gate: join(dir, "gate-1") }, { queue: "billing" });
    await waitFor("the gated job to go dead", async () => (await jobState(dead.id)) === "dead", { timeoutMs: 10_000 });
    await page.getByRole("link", { name: /^Jobs(\s*, \d+ dead)?$/ }).click();
    await page.getByRole("heading", { name: "Jobs" }).waitFor();
    await page.getByLabel("State").selectOption("dead");
    await page.waitForURL(/\/jobs\?state=dead$/);
    await page.getByLabel("Task").selectOption("gated");
    await page.waitForURL(/\/jobs\?state=dead&task=gated$/);
    await page.locator(`tr[data-key="${dead.id}"]`).waitFor();
    const states = await page.locator("table[aria-label=jobs] tbody .badge").allTextContents();
    expect(states).toEqual(["dead"]);

    // By what the job carries, with no other filter: its payload's gate file, among all the jobs.
    await page.goto(`${url}/jobs`);
    await page.locator("table[aria-label=jobs] tbody tr").nth(1).waitFor();
    await page.getByLabel("Payload").fill(`gate=${join(dir, "gate-1")}`);
    await page.getByLabel("Payload").press("Enter");
    await page.waitForURL(/\/jobs\?payload=gate/);
    await eventually(
      () => page.locator("table[aria-label=jobs] tbody tr").count(),
      (rows) => rows === 1,
      "the payload filter to leave one job",
    );
    expect(await page.locator(`tr[data-key="${dead.id}"]`).count()).toBe(1);
    await page.goto(`${url}/jobs?state=dead&task=gated`);
    await page.locator(`tr[data-key="${dead.id}"]`).waitFor();

    // A new job that matches the filters shows up by itself.
    const second = await enqueue("gated", { gate: join(dir, "gate-2") }, { queue: "billing" });
    await page.locator(`tr[data-key="${second.id}"]`).waitFor({ timeout: 15_000 });
    await shot("jobs");

    // A shared link restores the filters.
    await page.goto(`${url}/jobs?state=dead&task=gated`);
    expect(await page.getByLabel("Task").inputValue()).toBe("gated");
    await page.getByRole("link", { name: dead.id }).click();
    await page.waitForURL(new RegExp(`/jobs/${dead.id}$`));
    expect(await text("table[aria-label=attempts] tbody")).toContain("the gate is closed");
    expect(await text("figure[aria-label=Payload] pre")).toContain("gate-1");
    // Enqueued through the API with the admin token: the job says by whom.
    expect(await text(".facts")).toContain("by admin");
  });

  it("retries a dead job as the retry policy says and watches it succeed; then Retry is off, with why", async () => {
    writeFileSync(join(dir, "gate-1"), "open");
    // The label comes from the retry preview: what a click does to this job.
    await page.getByRole("button", { name: /^Retry \(\d+ fresh attempts?\)$/ }).click();
    expect(await text("output[aria-label='Retry result']")).toMatch(/retried: now (queued|running|succeeded)/);
    await page.locator(".facts .badge", { hasText: "succeeded" }).waitFor({ timeout: 15_000 });
    expect(await text("figure[aria-label=Result] pre")).toContain("passed");
    await shot("job-detail");
    const retry = page.getByRole("button", { name: "Retry", exact: true });
    await eventually(
      () => retry.isDisabled(),
      (disabled) => disabled,
      "Retry to be off for a succeeded job",
    );
    expect(await retry.getAttribute("title")).toBe("The job succeeded; there is nothing to retry.");
  });

  it("cancels a running job from its page", async () => {
    const running = await enqueue("slow", { ms: 60_000 });
    await waitFor("the slow job to start", async () => (await jobState(running.id)) === "running", {
      timeoutMs: 10_000,
    });
    await page.goto(`${url}/jobs/${running.id}`);
    await page.locator(".facts .badge", { hasText: "running" }).waitFor();
    await page.getByRole("button", { name: "Cancel" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Cancel the job" }).click();
    expect(await text("output[aria-label='Cancel result']")).toMatch(/^(requested|cancelled): now/);
    await waitFor("the job to be cancelled", async () => (await jobState(running.id)) === "cancelled", {
      timeoutMs: 10_000,
    }).catch(async (err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(await request("GET", `/api/v1/jobs/${running.id}`))}`);
    });
    await page.locator(".facts .badge", { hasText: "cancelled" }).waitFor({ timeout: 15_000 });
  });

  it("retries many selected dead jobs at once", async () => {
    const jobs = [
      await enqueue("gated", { gate: join(dir, "gate-bulk") }, { queue: "bulk" }),
      await enqueue("gated", { gate: join(dir, "gate-bulk") }, { queue: "bulk" }),
    ];
    for (const job of jobs)
      await waitFor("the bulk jobs to go dead", async () => (await jobState(job.id)) === "dead", { timeoutMs: 10_000 });
    writeFileSync(join(dir, "gate-bulk"), "open");
    await page.goto(`${url}/jobs?state=dead&queue=bulk`);
    await page.locator(`tr[data-key="${jobs[1]?.id}"]`).waitFor();
    await page.getByLabel("select all rows").check();
    await page.getByRole("button", { name: "Retry selected (2)" }).click();
    expect(await text("output[aria-label='bulk result']")).toBe("retry: 2 of 2 changed");
    for (const job of jobs)
      await waitFor("the retried jobs to succeed", async () => (await jobState(job.id)) === "succeeded", {
        timeoutMs: 10_000,
      });
    await page.getByText("No jobs match these filters.").waitFor();
  });

  it("lists a schedule with its cron and next run; run now enqueues a job; disable and enable it", async () => {
    await page.getByRole("link", { name: "Schedules", exact: true }).click();
    await page.getByRole("heading", { name: "Schedules" }).waitFor();
    const row = "table[aria-label=schedules] tr[data-key=nightly-report]";
    await page.locator(row).waitFor();
    const shown = await text(row);
    expect(shown).toContain("0 2 1 1 *");
    expect(shown).toContain("enabled");
    expect(shown).toMatch(/in \d+(d|h)/);
    await page.getByRole("button", { name: "Run nightly-report now" }).click();
    const said = await eventually(
      () => text("output[aria-label='Run nightly-report now result']"),
      (t) => t.startsWith("enqueued "),
      "run now's answer",
    );
    const id = said.replace("enqueued ", "").trim();
    const { job } = await request("GET", `/api/v1/jobs/${id}`);
    expect(job.task).toBe("slow");
    expect(job.payload).toEqual({ ms: 50 });
    await waitFor("the scheduled job to succeed", async () => (await jobState(id)) === "succeeded", {
      timeoutMs: 10_000,
    });
    await page.getByRole("button", { name: "Disable nightly-report" }).click();
    await page.getByRole("button", { name: "Enable nightly-report" }).waitFor();
    expect(await text(row)).toContain("disabled");
    await shot("schedules");
    await page.getByRole("button", { name: "Enable nightly-report" }).click();
    await page.getByRole("button", { name: "Disable nightly-report" }).waitFor();
    const [schedule] = (await request("GET", "/api/v1/schedules")).items;
    expect(schedule).toMatchObject({ name: "nightly-report", enabled: true });
  });

  it("tails events live, filtered by kind prefix and job id, without the page moving", async () => {
    await page.getByRole("link", { name: "Events", exact: true }).click();
    await page.getByRole("heading", { name: "Events" }).waitFor();
    await page.getByLabel("Kind starts with").fill("job.");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(/\/events\?kind=job\.$/);
    await page.locator(".stream-live").waitFor();
    const box = await page.locator(".event-tail").boundingBox();
    const live = await enqueue("slow", { ms: 100 });
    await page.locator("table[aria-label=events] tbody tr", { hasText: live.id }).first().waitFor({ timeout: 15_000 });
    await page
      .locator("table[aria-label=events] tbody tr", { hasText: "job.succeeded" })
      .filter({ hasText: live.id })
      .waitFor({ timeout: 15_000 });
    const kinds = await page.locator("table[aria-label=events] tbody tr td:nth-child(3)").allTextContents();
    expect(kinds.length).toBeGreaterThan(0);
    for (const k of kinds) expect(k.startsWith("job.")).toBe(true);
    expect(await page.locator(".event-tail").boundingBox(), "the tail's box keeps its size").toEqual(box);

    await page.getByLabel("Job id").fill(live.id);
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(new RegExp(`/events\\?kind=job\\.&job=${live.id}$`));
    const rows = await page.locator("table[aria-label=events] tbody tr").allTextContents();
    expect(rows.length).toBeGreaterThanOrEqual(3); // enqueued, started, succeeded
    for (const r of rows) expect(r).toContain(live.id);
    await shot("events");
    await page.getByRole("button", { name: "Clear" }).click();
    await page.waitForURL(/\/events$/);
  });

  it("draws throughput and run time over the last hour on the overview", async () => {
    await page.getByRole("link", { name: "Overview", exact: true }).click();
    await page.getByRole("heading", { name: "Overview" }).waitFor();
    const throughput = page.locator("figure[aria-label='Throughput per minute']");
    await throughput.locator("svg rect.series-ok").first().waitFor();
    expect(await throughput.locator("figcaption").textContent()).toMatch(/\d+ in the last 60 minutes/);
    const runTime = page.locator("figure[aria-label='Run time per minute']");
    await runTime.locator("svg circle").first().waitFor();
    expect(await runTime.locator("svg path").first().getAttribute("d")).toMatch(/^M/);
    await shot("overview-charts");
  });

  it("pauses and resumes a queue", async () => {
    await page.getByRole("link", { name: "Queues", exact: true }).click();
    await page.getByRole("button", { name: "Pause billing" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Yes, pause billing" }).click();
    await page.getByRole("button", { name: "Resume billing" }).waitFor();
    expect(await text("table[aria-label=queues] tr[data-key=billing]")).toContain("paused");
    await shot("queues");
    await page.getByRole("button", { name: "Resume billing" }).click();
    await page.getByRole("button", { name: "Pause billing" }).waitFor();
    await page.getByRole("link", { name: "Workers" }).click();
    await page.locator("table[aria-label=workers] .worker-active").first().waitFor();
    await shot("workers");
  });

  it("shows a queue's open circuit breaker, and resets it", async () => {
    const gate = join(dir, "gate-flaky");
    for (let i = 0; i < 2; i++) {
      const job = await enqueue("gated", { gate }, { queue: "flaky" });
      await waitFor("the flaky job to go dead", async () => (await jobState(job.id)) === "dead", { timeoutMs: 10_000 });
    }
    await page.getByRole("link", { name: "Queues", exact: true }).click();
    const row = "table[aria-label=queues] tr[data-key=flaky]";
    await page.locator(`${row} .breaker`).waitFor();
    expect(await text(row)).toContain("circuit open");
    expect(await text(`${row} .breaker`)).toMatch(/^2 of 2 attempts failed; jobs go to slow\. Probe at /);
    await shot("queues-breaker");
    await page.getByRole("button", { name: "Reset flaky's breaker" }).click();
    await page.getByRole("button", { name: "Reset flaky's breaker" }).waitFor({ state: "detached" });
    expect(await page.locator(`${row} .breaker`).count()).toBe(0);
    expect(
      (await request("GET", "/api/v1/queues")).items.find((q: { name: string }) => q.name === "flaky").breaker,
    ).toBe(null);
  });

  it("sorts jobs oldest first and pages forward and back, all kept in the URL", async () => {
    const made: Array<{ id: string }> = await request(
      "POST",
      "/api/v1/jobs",
      Array.from({ length: 30 }, (_, i) => ({
        task: "slow",
        payload: { ms: i },
        options: { queue: "paging", delay: "1h" },
      })),
    );
    const ids = made.map((j) => j.id);
    const firstRowId = () => page.locator("table[aria-label=jobs] tbody tr").first().getAttribute("data-key");
    await page.goto(`${url}/jobs?queue=paging`);
    await eventually(firstRowId, (id) => id === ids[29], "the newest job on top");
    await page.getByLabel("Sort").selectOption("asc");
    await page.waitForURL(/\/jobs\?queue=paging&order=asc$/);
    await eventually(firstRowId, (id) => id === ids[0], "the oldest job on top");
    expect(await page.getByRole("button", { name: "Previous page" }).isDisabled()).toBe(true);

    await page.getByRole("button", { name: "Next page" }).click();
    await page.waitForURL(/order=asc&cursor=[^&]+&prev=-$/);
    await eventually(firstRowId, (id) => id === ids[25], "the second page's first job");
    const second = await page
      .locator("table[aria-label=jobs] tbody tr")
      .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-key")));
    expect(second).toEqual(ids.slice(25));
    expect(await text("[data-testid=page-number]")).toBe("page 2");
    expect(await page.getByRole("button", { name: "Next page" }).isDisabled()).toBe(true);

    // A shared link to page 2 keeps its way back.
    await page.goto(page.url());
    await eventually(firstRowId, (id) => id === ids[25], "page 2 after a reload");
    await page.getByRole("button", { name: "Previous page" }).click();
    await page.waitForURL(/\/jobs\?queue=paging&order=asc$/);
    await eventually(firstRowId, (id) => id === ids[0], "back on the first page");
    expect(await text("[data-testid=page-number]")).toBe("page 1");
    await request("POST", "/api/v1/jobs/cancel", { queue: "paging" });
  });

  it("discards many selected finished jobs as an admin", async () => {
    const jobs = [
      await enqueue("slow", { ms: 10 }, { queue: "trash" }),
      await enqueue("slow", { ms: 10 }, { queue: "trash" }),
    ];
    for (const job of jobs)
      await waitFor("the jobs to succeed", async () => (await jobState(job.id)) === "succeeded", { timeoutMs: 10_000 });
    await page.goto(`${url}/jobs?queue=trash`);
    await page.locator(`tr[data-key="${jobs[1]?.id}"]`).waitFor();
    await page.locator(`tr[data-key="${jobs[0]?.id}"]`).waitFor();
    await page.getByLabel("select all rows").check();
    await page.getByRole("button", { name: "Discard selected (2)" }).click();
    expect(await text("output[aria-label='bulk result']")).toBe("discard: 2 of 2 changed");
    await page.getByText("No jobs match these filters.").waitFor();
    for (const job of jobs) {
      const res = await fetch(`${url}/api/v1/jobs/${job.id}`, { headers: { authorization: `Bearer ${admin}` } });
      expect(res.status).toBe(404);
    }
  });

  it("shows a job's timeline and progress, and its events arriving live without the page moving", async () => {
    const half = join(dir, "steps-half");
    const done = join(dir, "steps-done");
    const job = await enqueue("steps", { half, done });
    await waitFor("the steps job to start", async () => (await jobState(job.id)) === "running", { timeoutMs: 10_000 });
    await page.goto(`${url}/jobs/${job.id}`);
    await page.locator(".facts .badge", { hasText: "running" }).waitFor();
    await page.locator(".stream-live").waitFor();
    const timeline = page.locator("ol[aria-label=timeline]");
    const kinds = async () => Promise.all((await timeline.locator("li").all()).map((l) => l.getAttribute("data-kind")));
    expect(await kinds()).toEqual(["job.enqueued", "job.started"]);
    expect(await text("[data-testid=progress]")).toContain("none reported");
    const boxes = async () => ({
      timeline: await page.locator(".timeline-box").boundingBox(),
      tail: await page.locator(".job-tail").boundingBox(),
    });
    const before = await boxes();

    writeFileSync(half, "go");
    await page.locator("table[aria-label=events] tbody tr", { hasText: "job.progress" }).waitFor({ timeout: 15_000 });
    await eventually(
      () => text("[data-testid=progress]"),
      (t) => t.includes("50%"),
      "the progress shown",
    );
    writeFileSync(done, "go");
    await timeline.locator("li[data-kind='job.succeeded']").waitFor({ timeout: 15_000 });
    const last = await text("ol[aria-label=timeline] li:last-child");
    expect(last).toMatch(/succeeded.*\+[\d.]+ (ms|s).* in all/);
    expect(await text("table[aria-label=events] tbody tr")).toContain("job.succeeded");
    expect(await boxes(), "the timeline and the tail keep their boxes").toEqual(before);
    await eventually(
      () => text("table[aria-label=attempts] tbody"),
      (t) => t.includes("succeeded"),
      "the attempt's outcome",
    );
    await shot("job-timeline");
  });

  it("shows a durable job's steps: status, attempt, and each result on demand; and its timeout", async () => {
    const job = await enqueue("durable", { id: "INC-7" }, { timeout: "2m" });
    await waitFor("the durable job to succeed", async () => (await jobState(job.id)) === "succeeded", {
      timeoutMs: 15_000,
    });
    await page.goto(`${url}/jobs/${job.id}`);
    const rows = page.locator("table[aria-label=steps] tbody tr");
    await rows.first().waitFor();
    expect(await rows.count()).toBe(2);
    const cells = async (i: number) => (await rows.nth(i).locator("td").allTextContents()).slice(0, 3);
    expect(await cells(0)).toEqual(["intake", "completed", "1"]);
    expect(await cells(1)).toEqual(["investigate", "completed", "2"]);
    // The result is read from the server when its row is opened.
    const result = rows.nth(1).locator("details");
    expect(await result.locator("pre").count()).toBe(0);
    await result.locator("summary").click();
    await result.locator("pre").waitFor();
    expect(await result.locator("pre").textContent()).toContain('"cause": "pool exhausted"');
    expect(await text(".facts")).toContain("Timeout");
    await shot("job-steps");
  });

  it("works from the keyboard alone: Tab to Jobs, Enter, Tab to a job, Enter opens it", async () => {
    await page.goto(`${url}/`);
    await page.getByRole("heading", { name: "Overview" }).waitFor();
    const jobsLink = await tabTo((el) => el.tag === "a" && /^Jobs\d*(, \d+ dead)?$/.test(el.text));
    expect(jobsLink.outline, "the focused link shows its focus").not.toBe("none");
    await page.keyboard.press("Enter");
    await page.waitForURL(/\/jobs$/);
    await page.locator("table[aria-label=jobs] tbody tr a").first().waitFor();
    const jobLink = await tabTo((el) => el.tag === "a" && /^\/jobs\/[0-9A-Z]+$/.test(el.href));
    await page.keyboard.press("Enter");
    await page.waitForURL(new RegExp(`${jobLink.href}$`));
    await page.locator("h1 code", { hasText: jobLink.href.slice("/jobs/".length) }).waitFor();
    await page.locator(".facts").waitFor();
  });

  it("says on a job's page and in the jobs list when no worker has registered the job's task", async () => {
    // sned-email: a typo no worker registers. slow: this server's worker registered it; delayed,
    // its job waits too, so the only difference between the two is the registration.
    const typo = await enqueue("sned-email", { to: "ada@example.com" });
    expect(typo.warnings.map((w: { code: string }) => w.code)).toEqual(["TASK_NOT_REGISTERED"]);
    const known = await enqueue("slow", { ms: 10 }, { delay: "1h", backoff: ["1m", "5m", "90m"] });
    expect(known.warnings).toEqual([]);
    const callout = "No worker has registered task sned-email — this job will wait until one does.";

    await page.goto(`${url}/jobs/${typo.id}`);
    expect(await text("[data-testid=task-unregistered]")).toBe(callout);
    await shot("job-unregistered-task");
    await page.goto(`${url}/jobs/${known.id}`);
    await page.locator(".facts", { hasText: "slow" }).waitFor();
    expect(await page.locator("[data-testid=task-unregistered]").count()).toBe(0);
    // Its retry schedule, as the enqueue gave it.
    expect(await text("[data-testid=backoff]")).toBe("1m, 5m, 1h 30m (then the last again)");

    await page.goto(`${url}/jobs?state=queued`);
    const typoRow = page.locator(`tr[data-key="${typo.id}"]`);
    expect(await typoRow.locator("[data-testid=task-unregistered]").getAttribute("title")).toBe(callout);
    expect(await text("[data-testid=unregistered-tasks]")).toBe(
      "No worker has registered task sned-email — its jobs will wait until one does.",
    );
    await page.goto(`${url}/jobs?state=scheduled&task=slow`);
    await page.locator(`tr[data-key="${known.id}"]`).waitFor();
    expect(await page.locator("[data-testid=task-unregistered]").count()).toBe(0);
    expect(await page.locator("[data-testid=unregistered-tasks]").count()).toBe(0);

    // Leave nothing waiting for the tests after this one.
    for (const job of [typo, known]) await request("POST", `/api/v1/jobs/${job.id}/cancel`);
  });

  it("a viewer token sees everything but may not retry, with the reason shown", async () => {
    await page.getByRole("link", { name: "Workers", exact: true }).click();
    await page.getByRole("heading", { name: "Workers" }).waitFor();
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.locator("#token").fill(viewer);
    await page.getByRole("button", { name: "Sign in" }).click();
    // Signing in keeps the page the operator was on.
    await page.getByRole("heading", { name: "Workers" }).waitFor();
    expect(await text(".who")).toBe("watcher (viewer)");
    const dead = (await request("GET", "/api/v1/jobs?state=dead&task=gated")).items[0];
    await page.goto(`${url}/jobs/${dead.id}`);
    const retry = page.getByRole("button", { name: "Retry" });
    await retry.waitFor();
    expect(await retry.isDisabled()).toBe(true);
    expect(await text("[role=toolbar]")).toContain('needs an operator token; "watcher" is viewer');
    await page.goto(`${url}/jobs?state=dead`);
    expect(await page.getByRole("button", { name: /Retry selected/ }).isDisabled()).toBe(true);
    expect(await page.getByRole("button", { name: /Discard selected/ }).isDisabled()).toBe(true);
    expect(await text(".toolbar")).toContain('Discard needs an admin token; "watcher" is viewer');
    await page.goto(`${url}/schedules`);
    const runNow = page.getByRole("button", { name: "Run nightly-report now" });
    await runNow.waitFor();
    expect(await runNow.isDisabled()).toBe(true);
    expect(await page.getByRole("button", { name: "Disable nightly-report" }).isDisabled()).toBe(true);
    expect(await text("table[aria-label=schedules] tr[data-key=nightly-report]")).toContain(
      'needs an operator token; "watcher" is viewer',
    );
  });
});
