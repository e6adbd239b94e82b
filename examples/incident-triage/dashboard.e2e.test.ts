// One incident walked through the dashboard in Chromium, as an on-call engineer would: three
// incidents resolve on their own; a production one like the first parks for approval; Alice
// signs in, sees on the session's page its steps so far and the lesson of the first incident,
// sees the same lesson on the approval card, approves, and watches the session resolve. The
// pages she uses pass axe-core's checks.
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { launchChromium } from "../../src/test-support/chromium.mjs";
import { BIN, type WatchedProcess, watchProcess } from "../../src/test-support/cli.js";
import { accessibilityViolations } from "../../src/test-support/dashboard-harness.js";
import { waitFor } from "../../src/test-support/wait.js";

const APP = join(import.meta.dirname, "app.mjs");
const CONFIG = join(import.meta.dirname, "overseer.config.json");
const TOKEN = "incident-triage-e2e-admin-token-0123456789";

let dir = "";
let app: WatchedProcess | null = null;
let browser: Browser | null = null;
let api = "";
let incidents = "";

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "overseer-triage-e2e-"));
  const child = spawn(process.execPath, [APP], {
    cwd: dir,
    env: { ...process.env, DATABASE: join(dir, "triage.db"), PORT: "0", APP_PORT: "0", OVERSEER_ADMIN_TOKEN: TOKEN },
    stdio: ["ignore", "pipe", "pipe"],
  });
  app = watchProcess(child);
  const urls = await waitFor(
    "the app to listen",
    () => {
      const out = app?.stdout() ?? "";
      const o = /overseer on (http:\S+)\//.exec(out)?.[1];
      const i = /incidents on (http:\S+)/.exec(out)?.[1];
      return o && i ? { o, i } : null;
    },
    { timeoutMs: 20_000 },
  );
  api = urls.o;
  incidents = urls.i;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function call(method: string, url: string, body?: unknown) {
  const res = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, accept: "application/json", "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return res.json();
}

async function sessionIn(id: string, state: string) {
  return waitFor(`session ${id} to be ${state}`, async () => {
    const s = await call("GET", `${incidents}/${id}`);
    return s.state === state ? s : null;
  });
}

it("an on-call engineer approves a production fix from the dashboard, seeing the steps and the lesson like it", async () => {
  const first = (
    await call("POST", incidents, {
      title: "checkout api returns 502 after deploy",
      service: "checkout-api",
      environment: "staging",
    })
  ).session;
  await sessionIn(first, "succeeded");
  for (const incident of [
    { title: "orders disk full on the primary volume", service: "orders-db", environment: "staging" },
    { title: "search pods OOMKilled, out of memory", service: "search", environment: "staging" },
  ]) {
    await sessionIn((await call("POST", incidents, incident)).session, "succeeded");
  }
  const id = (
    await call("POST", incidents, {
      title: "checkout api 502s after the 1.9 deploy",
      service: "checkout-api",
      environment: "production",
    })
  ).session;
  await sessionIn(id, "awaiting_approval");
  const { stdout } = await promisify(execFile)(process.execPath, [
    BIN,
    ...["--database", join(dir, "triage.db"), "--config", CONFIG, "--json"],
    ...["tokens", "create", "--name", "alice", "--scope", "operator"],
  ]);
  const alice = JSON.parse(stdout).token as string;

  const page = await (browser as Browser).newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  await page.goto(`${api}/`);
  await page.locator("#token").fill(alice);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Overview" }).waitFor();

  // The session's page: where it is waiting, its steps so far, and the lesson of the first incident.
  await page.goto(`${api}/jobs/${id}`);
  await page.locator(".facts .badge", { hasText: "awaiting_approval" }).waitFor();
  const steps = page.locator("table[aria-label=steps] tbody tr");
  await steps.first().waitFor();
  expect(await steps.locator("td:first-child").allTextContents()).toEqual([
    "intake",
    "recall",
    "triage",
    "investigate",
    "propose-fix",
  ]);
  const lessons = page.getByRole("list", { name: "similar lessons" }).getByRole("listitem");
  await lessons.first().waitFor();
  expect(await lessons.first().textContent()).toContain("checkout api returns 502 after deploy");
  // A step's result opens on demand: the agent's proposal.
  await page.getByLabel(/the result of propose-fix$/).click();
  await page.getByText("kubectl rollout undo deployment/checkout-api").first().waitFor();
  expect(await accessibilityViolations(page)).toEqual([]);

  // The approval card: the request, who may decide, and the same lesson.
  await page.goto(`${api}/approvals`);
  const card = page.getByRole("article", { name: "deploy.rollback on checkout-api (production)" });
  await card.waitFor();
  expect(await card.getByRole("list", { name: "similar lessons" }).textContent()).toContain(
    "checkout api returns 502 after deploy",
  );
  expect(await card.textContent()).toContain("Approvers: group:oncall");
  expect(await accessibilityViolations(page)).toEqual([]);
  await card.getByLabel("Reason").fill("rollback is safe");
  await card.getByRole("button", { name: "Approve" }).click();
  // The card leaves the pending list once the page reloads it, so the decision is read from the API.
  await waitFor("the approval to be settled", async () => {
    const [request] = (await call("GET", `${api}/api/v1/approvals?jobId=${id}`)).items;
    return request?.state === "approved" ? request : null;
  });

  // Back on the session's page: it resolved, having gone through every step.
  await page.goto(`${api}/jobs/${id}`);
  await page.locator(".facts .badge", { hasText: "succeeded" }).waitFor({ timeout: 15_000 });
  expect(await page.locator("figure[aria-label=Result] pre").textContent()).toContain('"status": "resolved"');
  await page.locator("table[aria-label=steps] tbody tr", { hasText: "verify" }).waitFor();
  expect(await steps.locator("td:first-child").allTextContents()).toEqual([
    "intake",
    "recall",
    "triage",
    "investigate",
    "propose-fix",
    "approval#1",
    "apply-fix",
    "verify",
  ]);
  // Decided by Alice through the dashboard, as the audit trail says.
  const decided = await call("GET", `${api}/api/v1/approvals?jobId=${id}`);
  expect(decided.items[0].outcome).toMatchObject({ approved: true, decidedBy: "alice", channel: "dashboard" });
  expect(errors).toEqual([]);
  await page.close();
});
