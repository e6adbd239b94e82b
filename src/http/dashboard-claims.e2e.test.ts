/**
 * The dashboard's Claims page end to end: Debian's Chromium, driven by playwright-core, against a
 * real `overseer start` (the built binary, a temp SQLite file, a free port). Claims are taken
 * through the API, one with a 1 s TTL so that it lapses: a viewer sees each holder's owner, role,
 * agent and fingerprint, a countdown that ticks, the lapsed claim marked expired, its takeover by
 * another owner, a release, and the history of every key and of one. Then the page on a phone:
 * one card per claim, no sideways scroll. Screenshots go to test-output/screenshots
 * (git-ignored), named claims-*.png.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { dashboardHarness } from "../test-support/dashboard-harness.js";

const e2e = dashboardHarness({
  prefix: "overseer-dashboard-claims-e2e-",
  // `start` wants something to run; claims need no task.
  prepare(dir) {
    mkdirSync(join(dir, "tasks"));
    writeFileSync(join(dir, "tasks", "noop.mjs"), "export default async function () {}\n");
  },
  startArgs: (dir) => ["--tasks", join(dir, "tasks")],
  expectedHttpStatuses: [],
  viewport: { width: 1440, height: 900 },
  fullPageShots: true,
});
const { request, eventually, shot, signIn } = e2e;
let page: Page;

const STORY = "story:ABC-12";
const DEPLOY = "deploy:prod";

beforeAll(async () => {
  ({ page } = e2e);
});

const row = (table: string, key: string) => page.getByRole("table", { name: table }).locator(`tr[data-key="${key}"]`);
const expiry = (key: string) => page.getByTestId(`expiry-${key}`);
const historyRows = () => page.getByRole("table", { name: "claim history" }).locator("tbody tr");

async function openClaims(): Promise<void> {
  await page.getByRole("link", { name: "Claims", exact: true }).click();
  await page.getByRole("heading", { name: "Claims", level: 1 }).waitFor();
}

describe("the Claims page", () => {
  it("shows who holds each claim with a live countdown, a lapse, a takeover and a release, and the history", async () => {
    await request("POST", `/api/v1/claims/${STORY}`, {
      owner: "agent-7",
      ttl: "10m",
      role: "reviewer",
      agent: "claude-code",
      fingerprint: "build-host-3:4242",
    });
    await request("POST", `/api/v1/claims/${DEPLOY}`, { owner: "agent-1", ttl: "1s", role: "deployer" });
    // A viewer reads it all.
    await signIn(e2e.viewer);
    await openClaims();

    const story = row("current claims", STORY);
    await story.waitFor();
    const holder = ["agent-7", "reviewer", "claude-code", "build-host-3:4242"];
    await eventually(
      async () => (await story.textContent()) ?? "",
      (text) => holder.every((cell) => text.includes(cell)),
      "story:ABC-12's holder fields",
    );
    // The countdown ticks on its own: no event arrives while it does.
    const first = (await expiry(STORY).textContent()) ?? "";
    expect(first).toMatch(/^\d+m \d+s left/);
    await eventually(
      async () => (await expiry(STORY).textContent()) ?? "",
      (now) => now !== first && /^\d+m \d+s left/.test(now),
      "the countdown of story:ABC-12 to change",
    );

    // The 1 s claim lapses: still listed, as expired and free to take over.
    await eventually(
      async () => (await expiry(DEPLOY).textContent()) ?? "",
      (text) => text.startsWith("expired"),
      "deploy:prod to show as expired",
    );
    expect(await expiry(DEPLOY).textContent()).toContain("free to take over");
    await shot("claims-expired");

    // Another owner takes it over (retried until the server's clock agrees it lapsed).
    await eventually(
      () =>
        request("POST", `/api/v1/claims/${DEPLOY}`, { owner: "agent-2", ttl: "10m", agent: "codex" }).catch(() => null),
      (taken) => taken !== null,
      "agent-2 to take deploy:prod over",
    );
    const deploy = row("current claims", DEPLOY);
    await eventually(
      async () => (await deploy.textContent()) ?? "",
      (text) => text.includes("agent-2") && text.includes("codex") && /left/.test(text),
      "deploy:prod held by agent-2",
    );
    await request("POST", `/api/v1/claims/${STORY}/release`, { owner: "agent-7" });
    await row("current claims", STORY).waitFor({ state: "detached" });

    // The history, newest first: the release, the takeover naming the lapsed holder, the takes.
    await eventually(
      async () => (await historyRows().allTextContents()).map((t) => t.replace(/\s+/g, " ")),
      (rows) => rows.length === 4,
      "four claim events in the history",
    );
    const rows = await historyRows().allTextContents();
    expect(rows[0]).toMatch(/story:ABC-12.*released.*agent-7/);
    expect(rows[1]).toMatch(/deploy:prod.*taken over.*agent-2.*from agent-1, whose claim lapsed at/);
    expect(rows[2]).toMatch(/deploy:prod.*taken.*agent-1.*role deployer/);
    expect(rows[3]).toMatch(
      /story:ABC-12.*taken.*agent-7.*role reviewer, agent claude-code, fingerprint build-host-3:4242/,
    );
    await shot("claims");
    expect(await e2e.accessibilityViolations(), "claims").toEqual([]);

    // One key's history, from its link.
    await deploy.getByRole("link", { name: DEPLOY }).click();
    await page.getByRole("heading", { name: `History of ${DEPLOY}` }).waitFor();
    expect(new URL(page.url()).searchParams.get("key")).toBe(DEPLOY);
    await eventually(
      async () => (await historyRows().allTextContents()).map((t) => (/taken over/.test(t) ? "over" : "taken")),
      (kinds) => kinds.join() === "over,taken",
      "deploy:prod's two takes",
    );
    expect(await e2e.accessibilityViolations(), "claims-one-key").toEqual([]);
  });

  it("fits a phone: one card per claim with each field labelled, and no sideways page scroll", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await page.goto(`${e2e.url}/claims`);
      await page.getByRole("heading", { name: "Claims", level: 1 }).waitFor();
      const card = row("current claims", DEPLOY);
      await card.waitFor();
      const layout = await page.evaluate(`(() => {
        const tr = document.querySelector('table[aria-label="current claims"] tr[data-key="${DEPLOY}"]');
        const holder = tr.querySelector("td[data-label='Holder']");
        return { display: getComputedStyle(tr).display, label: getComputedStyle(holder, "::before").content };
      })()`);
      expect(layout).toEqual({ display: "block", label: '"Holder"' });
      const size: { scrollWidth: number; innerWidth: number } = await page.evaluate(
        "({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth })",
      );
      expect(size.scrollWidth, "the claims page at 390 px wide").toBeLessThanOrEqual(size.innerWidth);
      await shot("claims-phone");
      expect(await e2e.accessibilityViolations(), "claims-phone").toEqual([]);
    } finally {
      await page.setViewportSize({ width: 1440, height: 900 });
    }
  });
});
