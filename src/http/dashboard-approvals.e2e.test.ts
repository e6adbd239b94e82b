/**
 * The dashboard's Approvals inbox end to end: Debian's Chromium, driven by playwright-core,
 * against a real `overseer start` (the built binary, a temp SQLite file, a free port) whose
 * tasks folder holds `deploy`, a handler that asks `ctx.requestApproval` and returns the
 * outcome. Two jobs ask; a viewer sees the buttons disabled with the reason; an operator outside
 * the approvers' group is refused by the server (403, shown readably); the admin approves one
 * from the job's link and denies the other from the inbox, each with a reason; both jobs then
 * finish with `approved: true` / `false`, and the history shows who decided, how and why. A run
 * (the `asker` profile: its first turn asks a question) is listed too, linked to its page, and a
 * dismissed question hands it on to its next turn.
 * Screenshots go to test-output/screenshots (git-ignored), named approvals-*.png.
 */
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { BIN } from "../test-support/cli.js";
import { dashboardHarness } from "../test-support/dashboard-harness.js";

/**
 * Records each turn's input in inputs.log; its first turn prints the lines it is given (here, a
 * question), a later turn stops the run.
 */
const ASK_LINES = resolve(import.meta.dirname, "../engine/runs/fixtures/ask-lines.mjs");
const QUESTION = "May I drop the old deploy scripts?";
const DIFF = "--- a/deploy.yaml\n+++ b/deploy.yaml\n-  replicas: 2\n+  replicas: 4";

const e2e = dashboardHarness({
  prefix: "overseer-dashboard-approvals-e2e-",
  prepare(dir) {
    mkdirSync(join(dir, "tasks"));
    writeFileSync(
      join(dir, "tasks", "deploy.mjs"),
      `export default async function (payload, ctx) {
  const decision = await ctx.requestApproval({
    title: "Deploy " + payload.service + " to production",
    details: {
      service: payload.service,
      command: "kubectl rollout restart deployment/" + payload.service,
      change: ${JSON.stringify(DIFF)},
      steps: ["scale to 4 replicas", "restart the pods"],
    },
    risk: "high",
    approvers: ["group:ops"],
    timeout: "10m",
    onTimeout: "deny",
  });
  return { approved: decision.approved, decidedBy: decision.decidedBy, channel: decision.channel, reason: decision.reason };
}
`,
    );
    // The admin token is named "admin": the one member of ops. "intern" (an operator) is not.
    writeFileSync(
      join(dir, "overseer.config.json"),
      JSON.stringify({
        approvals: { groups: { ops: ["admin"] } },
        runs: {
          profiles: {
            asker: {
              command: process.execPath,
              args: [ASK_LINES, JSON.stringify({ overseer_event: "question", text: QUESTION })],
              cwd: "work/{{runId}}",
              input: { template: "turn {{turn}}\n{{answer}}" },
              maxTurns: 3,
              completion: { stopFile: ".stop" },
            },
          },
        },
      }),
    );
  },
  globalArgs: (dir) => ["--config", join(dir, "overseer.config.json")],
  startArgs: (dir) => ["--tasks", join(dir, "tasks")],
  // The operator outside the group is refused on purpose; Chromium logs the answer.
  expectedHttpStatuses: [403],
  viewport: { width: 1280, height: 900 },
  fullPageShots: true,
});
const { request, text, eventually, shot, signIn } = e2e;
let page: Page;
let dir = "";
let intern = "";
/** An operator token that enqueues the deploys: their requester, so it may not decide them itself. */
let ci = "";
let web = { job: "", approval: "" };
let db = { job: "", approval: "" };

beforeAll(async () => {
  ({ page, dir } = e2e);
  const operator = async (name: string) =>
    (
      await promisify(execFile)(process.execPath, [
        ...[BIN, "--database", join(dir, "e2e.db")],
        ...["tokens", "create", "--scope", "operator", "--name", name],
      ])
    ).stdout.trim();
  intern = await operator("intern");
  ci = await operator("ci");
});

async function openInbox(): Promise<void> {
  await page.getByRole("link", { name: /^Approvals(\s*, \d+ pending)?$/ }).click();
  await page.getByRole("heading", { name: "Approvals" }).waitFor();
}

const card = (title: string) => page.locator("article.approval-card", { hasText: title });

/** Enqueues a deploy and waits for its job to park on its request; its ids. */
async function deploy(service: string): Promise<{ job: string; approval: string }> {
  const job = (await request("POST", "/api/v1/jobs", { task: "deploy", payload: { service } }, ci)).id as string;
  const items = await eventually(
    async () => (await request("GET", `/api/v1/approvals?jobId=${job}`)).items as Array<{ id: string }>,
    (list) => list.length === 1,
    `the approval request of ${service}`,
  );
  await eventually(
    async () => (await request("GET", `/api/v1/jobs/${job}`)).job.state,
    (state) => state === "awaiting_approval",
    `job ${job} awaiting approval`,
  );
  return { job, approval: items[0]?.id ?? "" };
}

describe("the approvals inbox in Chromium", () => {
  it("lists two pending requests readably; a viewer sees the buttons disabled with the reason", async () => {
    web = await deploy("web");
    db = await deploy("db");
    await signIn(e2e.viewer);
    await openInbox();
    const first = card("Deploy web to production");
    await first.waitFor();
    expect(await text("nav[aria-label='approval views'] a[aria-current=page]")).toBe("Pending (2)");
    // Oldest first: web asked before db.
    expect(await page.locator("article.approval-card h2").allTextContents()).toEqual([
      "Deploy web to production",
      "Deploy db to production",
    ]);
    expect(await first.locator(".risk").textContent()).toBe("risk high");
    expect(await first.locator("[data-testid=time-left]").textContent()).toMatch(/^(9m \d+s|10m 0s) left, then deny$/);
    expect(await first.locator("[data-testid=quorum]").textContent()).toContain("0 of 1 approval");
    expect(await first.locator(".approval-meta").nth(1).textContent()).toContain("Approvers: group:ops");
    // The token that enqueued the deploy is its requester.
    expect(await first.textContent()).toContain("by ci for job");
    // Details: an object as a definition list, a command and a diff as code, a list as a list.
    expect(await first.locator("dl.details dt").allTextContents()).toEqual(["service", "command", "change", "steps"]);
    expect(await first.locator("pre.code code").first().textContent()).toBe("kubectl rollout restart deployment/web");
    expect(await first.locator("pre.diff .add").allTextContents()).toEqual(["+  replicas: 4\n"]);
    expect(await first.locator(".details-list li").allTextContents()).toEqual([
      "scale to 4 replicas",
      "restart the pods",
    ]);

    const approve = first.getByRole("button", { name: "Approve" });
    expect(await approve.isDisabled()).toBe(true);
    expect(await first.getByRole("button", { name: "Deny" }).isDisabled()).toBe(true);
    expect(await approve.getAttribute("title")).toBe('needs an operator token; "watcher" is viewer');
    expect(await first.locator(".blocked").textContent()).toBe('needs an operator token; "watcher" is viewer');
    // The countdown is live: it moves without a reload.
    const before = await first.locator("[data-testid=time-left]").textContent();
    await eventually(
      async () => first.locator("[data-testid=time-left]").textContent(),
      (now) => now !== before,
      "the countdown ticking",
      5_000,
    );
    await shot("approvals-viewer");
  });

  it("shows the server's refusal readably when an operator outside the approvers tries", async () => {
    await signIn(intern);
    await openInbox();
    const first = card("Deploy web to production");
    await first.getByLabel("Reason").fill("looks fine to me");
    await first.getByRole("button", { name: "Approve" }).click();
    const result = first.locator("output[aria-label='decision result']");
    expect(await result.textContent({ timeout: 10_000 })).toBe(
      "You may not decide this request. (403 APPROVAL_FORBIDDEN: intern is not among the approvers of this request (group:ops))",
    );
    expect(await result.getAttribute("class")).toBe("error");
    await shot("approvals-refused");
    const still = await request("GET", `/api/v1/approvals/${web.approval}`);
    expect(still.approval).toMatchObject({ state: "pending", decisions: [] });
  });

  it("approves one from its job's page and denies the other from the inbox; both jobs continue accordingly", async () => {
    await signIn(e2e.admin);
    // The job page links to the request its job waits on.
    await page.goto(`${e2e.url}/jobs/${web.job}`);
    const link = page.locator("[data-testid=pending-approval]");
    expect(await link.textContent({ timeout: 10_000 })).toMatch(
      /^Waiting for approval: Deploy web to production risk high (9m \d+s|10m 0s) left$/,
    );
    await link.getByRole("link", { name: "Deploy web to production" }).click();
    await page.waitForURL(`**/approvals/${web.approval}`);
    const webCard = card("Deploy web to production");
    await webCard.getByLabel("Reason").fill("ship it: the change was reviewed");
    await shot("approvals-detail");
    expect(await e2e.accessibilityViolations(), "approvals-detail").toEqual([]);
    await webCard.getByRole("button", { name: "Approve" }).click();
    expect(await webCard.locator("output[aria-label='decision result']").textContent({ timeout: 10_000 })).toBe(
      "approved: the job continues",
    );
    await webCard.locator("[data-testid=outcome]").waitFor();
    expect(await text("[data-testid=outcome]")).toBe(
      "Approved by admin via dashboard: ship it: the change was reviewed",
    );

    await openInbox();
    // Live: the approved request has left the pending list.
    await eventually(
      async () => page.locator("article.approval-card h2").allTextContents(),
      (titles) => titles.length === 1 && titles[0] === "Deploy db to production",
      "only db left pending",
    );
    const dbCard = card("Deploy db to production");
    await dbCard.getByLabel("Reason").fill("not during the freeze");
    await shot("approvals-inbox");
    expect(await e2e.accessibilityViolations(), "approvals-inbox").toEqual([]);
    await dbCard.getByRole("button", { name: "Deny" }).click();
    // The settled request leaves the list; the page says what became of it.
    expect(await text("output[aria-label='last decision']")).toBe("Deploy db to production: denied: the job continues");
    await page.getByText("Nothing waits for a decision.").waitFor({ timeout: 10_000 });
    expect(await text("nav[aria-label='approval views'] a[aria-current=page]")).toBe("Pending (0)");

    const result = async (id: string) => (await request("GET", `/api/v1/jobs/${id}`)).job;
    const webJob = await eventually(
      () => result(web.job),
      (j) => j.state === "succeeded",
      "the web job succeeding",
    );
    expect(webJob.result).toEqual({
      approved: true,
      decidedBy: "admin",
      channel: "dashboard",
      reason: "ship it: the change was reviewed",
    });
    const dbJob = await eventually(
      () => result(db.job),
      (j) => j.state === "succeeded",
      "the db job succeeding",
    );
    expect(dbJob.result).toEqual({
      approved: false,
      decidedBy: "admin",
      channel: "dashboard",
      reason: "not during the freeze",
    });
  });

  it("keeps the history: who decided, through which channel, when and why, filtered by outcome", async () => {
    await page.getByRole("link", { name: "History" }).click();
    const rows = page.locator("table[aria-label='approval history'] tbody tr");
    await eventually(
      async () => rows.count(),
      (n) => n === 2,
      "two settled requests",
    );
    const cells = async (i: number) => (await rows.nth(i).locator("td").allTextContents()).slice(0, 7);
    // Newest first: db was denied after web was approved.
    expect(await cells(0)).toEqual([
      "Deploy db to production",
      "risk high",
      "denied",
      "admin",
      "dashboard",
      expect.stringMatching(/^\d+s ago$/),
      "not during the freeze",
    ]);
    expect((await cells(1)).slice(0, 5)).toEqual([
      "Deploy web to production",
      "risk high",
      "approved",
      "admin",
      "dashboard",
    ]);
    await shot("approvals-history");
    expect(await e2e.accessibilityViolations(), "approvals-history").toEqual([]);
    await page.getByLabel("Outcome").selectOption("denied");
    await eventually(
      async () => rows.count(),
      (n) => n === 1,
      "one denied request",
    );
    expect((await cells(0))[0]).toBe("Deploy db to production");
    expect(page.url()).toMatch(/\/approvals\?view=history&state=denied$/);
    // The audit trail is in the event log too.
    const events = await request("GET", `/api/v1/jobs/${db.job}`);
    const kinds = (events.events as Array<{ kind: string }>).map((e) => e.kind);
    expect(kinds).toEqual(expect.arrayContaining(["approval.requested", "approval.decided", "approval.settled"]));
  });

  it("lists a run's question with a link to the run, and dismissing it hands the run on", async () => {
    const { run } = await request("POST", "/api/v1/runs", { profile: "asker" });
    const [asked] = await eventually(
      async () => (await request("GET", `/api/v1/approvals?runId=${run.id}`)).items as Array<{ id: string }>,
      (list) => list.length === 1,
      "the run's question",
    );
    await openInbox();
    const question = card(QUESTION);
    await question.waitFor();
    expect(await question.locator(".badge").first().textContent()).toBe("question");
    expect(await question.locator(".approval-meta").first().textContent()).toMatch(
      new RegExp(`^asked \\d+s ago by run ${run.id.slice(-10)} after turn 1`),
    );
    expect(await question.locator(".approval-meta").nth(1).textContent()).toBe("Who may answer: any operator");
    // A question is answered or dismissed, never approved: its answer is what the run is told.
    expect(await question.getByRole("button", { name: "Approve" }).count()).toBe(0);
    expect(await question.getByRole("button", { name: "Answer" }).isDisabled()).toBe(true);
    await shot("approvals-run-question");
    expect(await e2e.accessibilityViolations(), "approvals-run-question").toEqual([]);

    // Its own page says which run asked and what state that run is in.
    await question.getByRole("link", { name: QUESTION }).click();
    await page.waitForURL(`**/approvals/${asked?.id}`);
    // The page loads the request, then says who asked.
    await page.locator("main p.muted", { hasText: /^Run / }).waitFor();
    expect(await text("main p.muted")).toBe(`Run ${run.id} (asker) is waiting`);
    await card(QUESTION).getByLabel("Answer", { exact: true }).fill("not yet: ask again next week");
    await card(QUESTION).getByRole("button", { name: "Dismiss" }).click();
    expect(await text("output[aria-label='decision result']")).toBe("dismissed: the run continues");
    expect(await text("[data-testid=outcome]")).toBe("Dismissed by admin via dashboard: not yet: ask again next week");

    // The link in the card leads to the run, which went on to the turn that stops it.
    await card(QUESTION)
      .getByRole("link", { name: run.id.slice(-10) })
      .click();
    await page.waitForURL(`**/runs/${run.id}`);
    await page.locator("[data-testid=run-state] .badge", { hasText: /^completed$/ }).waitFor({ timeout: 20_000 });
    const settled = page.locator("table[aria-label='settled requests'] tbody tr");
    await settled.first().waitFor();
    expect((await settled.first().locator("td").allTextContents()).slice(2, 5)).toEqual([
      "dismissed",
      "admin",
      "not yet: ask again next week",
    ]);
  });
});
