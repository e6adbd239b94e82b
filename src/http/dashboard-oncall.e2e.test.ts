/**
 * The dashboard's On-call page end to end: Debian's Chromium, driven by playwright-core, against a
 * real `overseer start` whose config has two rotations. `primary` (alice, then bob, one-day
 * shifts) started an hour ago in Berlin, so alice is on call and bob is next whenever the test
 * runs; `secondary` is bob alone. A viewer sees who is on call now and next, a countdown that
 * ticks, the turn order, and no form. An operator puts carol on call through the form (the page
 * then shows carol, naming who set it and why), is refused for somebody unknown (the server's
 * message shown inline), cancels carol's override after confirming (alice is back), and the
 * history shows the override in force, then cancelled, for every rotation and for one. Then the
 * page on a phone: one card per rotation, no sideways scroll. Screenshots go to
 * test-output/screenshots (git-ignored), named oncall-*.png.
 */
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { DateTime } from "luxon";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { BIN } from "../test-support/cli.js";
import { dashboardHarness } from "../test-support/dashboard-harness.js";

/**
 * The first shift began an hour ago, Berlin time: alice holds it for 23 more hours (22 or 24 when
 * the clocks change in between), bob is next.
 */
const START = DateTime.now().setZone("Europe/Berlin").minus({ hours: 1 }).toFormat("yyyy-MM-dd'T'HH:mm");

const e2e = dashboardHarness({
  prefix: "overseer-dashboard-oncall-e2e-",
  prepare(dir) {
    mkdirSync(join(dir, "tasks"));
    writeFileSync(join(dir, "tasks", "noop.mjs"), "export default async function () {}\n");
    writeFileSync(
      join(dir, "overseer.config.json"),
      JSON.stringify({
        alerts: {
          // People with e-mail addresses need an e-mail channel; nothing is sent in this test.
          channels: {
            mail: { type: "email", smtp: "smtp://127.0.0.1:9", from: "overseer@example.com", to: ["ops@example.com"] },
          },
          people: {
            alice: { email: "alice@example.com" },
            bob: { email: "bob@example.com" },
            carol: { email: "carol@example.com" },
          },
          rotations: {
            primary: { people: ["alice", "bob"], shift: "1d", start: START, timezone: "Europe/Berlin" },
            secondary: { people: ["bob"], shift: "12h", start: "2026-01-05T08:00", timezone: "UTC" },
          },
        },
      }),
    );
  },
  globalArgs: (dir) => ["--config", join(dir, "overseer.config.json")],
  startArgs: (dir) => ["--tasks", join(dir, "tasks")],
  // The form is sent a person nobody configured, on purpose: Chromium logs the 400.
  expectedHttpStatuses: [400],
  viewport: { width: 1440, height: 900 },
  fullPageShots: true,
});
const { request, eventually, shot, signIn } = e2e;
let page: Page;
/** An operator token named "olivia". */
let olivia = "";

beforeAll(async () => {
  ({ page } = e2e);
  olivia = (
    await promisify(execFile)(process.execPath, [
      ...[BIN, "--database", join(e2e.dir, "e2e.db")],
      ...["tokens", "create", "--scope", "operator", "--name", "olivia"],
    ])
  ).stdout.trim();
});

const card = (rotation: string) => page.locator(`article.oncall-card[data-rotation="${rotation}"]`);
const field = (testId: string) => page.getByTestId(testId);
const form = () => page.getByRole("form", { name: "put someone on call" });
const historyRows = () => page.getByRole("table", { name: "override history" }).locator("tbody tr");
const textOf = async (testId: string) => ((await field(testId).textContent()) ?? "").replace(/\s+/g, " ").trim();

async function openOncall(): Promise<void> {
  await page.getByRole("link", { name: "On call", exact: true }).click();
  await page.getByRole("heading", { name: "On call", level: 1 }).waitFor();
  await card("primary").waitFor();
}

describe("the On-call page", () => {
  it("shows a viewer who is on call now and next, with a ticking countdown and the turns, and no form", async () => {
    await signIn(e2e.viewer);
    await openOncall();
    const status = (await request("GET", "/api/v1/oncall")).rotations;
    const primary = status.find((r: { name: string }) => r.name === "primary");
    expect(primary.now.person).toBe("alice");

    expect(await textOf("now-primary")).toBe("alice");
    expect(await textOf("next-primary")).toMatch(
      /^bob at \w{3} \d{4}-\d{2}-\d{2} \d{2}:\d{2} \S+ \(in (1d 0h|2\dh) \d+m \d+s\)$/,
    );
    expect(await card("primary").locator(`time[datetime="${primary.now.until}"]`).count()).toBeGreaterThan(0);
    expect(
      await card("primary").getByRole("list", { name: "primary turn order" }).locator("li").allTextContents(),
    ).toEqual(["alice", "bob"]);
    expect(await textOf("shift-primary")).toBe(`shifts of 1 day, handing off at ${START.slice(11)} in Europe/Berlin`);
    // The countdown ticks on its own: no event arrives while it does.
    const first = await textOf("until-primary");
    expect(first).toMatch(/^in (1d 0h|2\dh) \d+m \d+s$/);
    await eventually(
      () => textOf("until-primary"),
      (now) => now !== first && /^in (1d 0h|2\dh) \d+m \d+s$/.test(now),
      "the countdown of primary to change",
    );
    // bob alone in secondary: nobody comes after him.
    expect(await textOf("now-secondary")).toBe("bob");
    expect(await textOf("next-secondary")).toBe("nobody else: bob stays on call");
    expect(await textOf("shift-secondary")).toBe("shifts of 12 hours, the first from 2026-01-05 08:00 in UTC");

    // A viewer sees no form and no Cancel, and is told why.
    expect(await page.locator("main form[aria-label='put someone on call']").count()).toBe(0);
    expect(await page.getByRole("button", { name: "Put someone on call" }).count()).toBe(0);
    expect(await textOf("oncall-viewer-note")).toBe(
      'Putting someone on call or cancelling an override needs an operator token; "watcher" is viewer.',
    );
    await shot("oncall-viewer");
    expect(await e2e.accessibilityViolations(), "oncall as a viewer").toEqual([]);
  });

  it("lets an operator put someone on call, shows refusals inline, cancels after confirming, and keeps the history", async () => {
    // An override ahead in secondary, made through the API: the history of one rotation shows it alone.
    const ahead = await request("POST", "/api/v1/oncall/overrides", {
      rotation: "secondary",
      person: "alice",
      from: new Date(Date.now() + 3_600_000).toISOString(),
      for: "2h",
      reason: "bob travels",
    });
    await signIn(olivia);
    await openOncall();
    await eventually(
      async () => card("secondary").locator(`li[data-override="${ahead.id}"]`).textContent(),
      (text) => (text ?? "").includes("upcoming") && (text ?? "").includes("override by admin: bob travels"),
      "secondary's override ahead",
    );
    expect(await textOf("next-secondary")).toMatch(/^alice at .* \(in \d+m \d+s\) \(override by admin: bob travels\)$/);

    // The form: the card's button picks its rotation; carol is no one in primary's turns (free text).
    await card("primary").getByRole("button", { name: "Put someone on call" }).click();
    expect(await form().getByLabel("Rotation").inputValue()).toBe("primary");
    const person = form().getByRole("combobox", { name: "Person", exact: true });
    expect(await page.evaluate("document.activeElement.id")).toBe("oncall-person");
    expect(await page.evaluate(`[...document.querySelectorAll("#oncall-people option")].map((o) => o.value)`)).toEqual([
      "alice",
      "bob",
    ]);

    // Somebody the config does not know: the server's refusal, inline, and the field marked.
    await person.fill("mallory");
    await form().getByRole("textbox", { name: "For", exact: true }).fill("2h");
    await form().getByRole("button", { name: "Put on call" }).click();
    const result = form().getByRole("status", { name: "override result" });
    await eventually(
      async () => (await result.textContent()) ?? "",
      (text) => text.startsWith('400 INVALID_ARGUMENT: person: "mallory" is nobody in the config\'s alerts.people'),
      "the refusal of mallory",
    );
    expect(await person.getAttribute("aria-invalid")).toBe("true");
    expect(await textOf("now-primary")).toBe("alice");

    await person.fill("carol");
    await form()
      .getByRole("textbox", { name: /^Reason/ })
      .fill("alice at the dentist");
    await form().getByRole("button", { name: "Put on call" }).click();
    await eventually(
      () => textOf("now-primary"),
      (text) => text === "carol (override by olivia: alice at the dentist)",
      "carol on call in primary",
    );
    expect(await result.textContent()).toMatch(/^carol is on call in primary from .* until .*\.$/);
    expect(await textOf("until-primary")).toMatch(/^in (1h \d+m|2h 0m) \d+s$/);
    // After carol's two hours alice is back, unless her shift ended first (it has 23 hours left).
    expect(await textOf("next-primary")).toMatch(/^alice at .* \(in (1h \d+m|2h 0m) \d+s\)$/);
    const carol = card("primary").locator("ul.oncall-upcoming li");
    expect(await carol.count()).toBe(1);
    expect(await carol.textContent()).toContain("in force");

    // The history: carol's override in force, newest first; secondary's below.
    await eventually(
      async () => (await historyRows().allTextContents()).map((t) => t.replace(/\s+/g, " ")),
      (rows) => rows.length === 2 && /primary.*carol.*alice at the dentist.*olivia.*in force/.test(rows[0] ?? ""),
      "carol's override in force at the top of the history",
    );
    expect(await historyRows().nth(1).textContent()).toMatch(/secondary.*alice.*bob travels.*admin.*upcoming/);
    await shot("oncall-override");
    expect(await e2e.accessibilityViolations(), "oncall with an override").toEqual([]);

    // Cancel asks first; "Keep it" keeps it.
    await carol.getByRole("button", { name: "Cancel carol's override" }).click();
    expect(await carol.textContent()).toContain("Cancel carol's override?");
    await carol.getByRole("button", { name: "Keep it" }).click();
    expect(await textOf("now-primary")).toMatch(/^carol /);
    await carol.getByRole("button", { name: "Cancel carol's override" }).click();
    await carol.getByRole("button", { name: "Yes, cancel it" }).click();
    await eventually(
      () => textOf("now-primary"),
      (text) => text === "alice",
      "alice back on call in primary",
    );
    expect(await textOf("next-primary")).toMatch(/^bob at .* \(in (1d 0h|2\dh) \d+m \d+s\)$/);
    expect(await card("primary").locator("ul.oncall-upcoming").count()).toBe(0);
    await eventually(
      async () => (await historyRows().first().textContent())?.replace(/\s+/g, " ") ?? "",
      (row) => /primary.*carol.*alice at the dentist.*olivia.*cancelled by olivia/.test(row),
      "carol's override cancelled in the history",
    );

    // One rotation's history, from the filter: the URL keeps it.
    await page.getByRole("form", { name: "history filter" }).getByLabel("Rotation").selectOption("secondary");
    await page.getByRole("heading", { name: "Override history of secondary" }).waitFor();
    expect(new URL(page.url()).searchParams.get("rotation")).toBe("secondary");
    await eventually(
      async () => (await historyRows().allTextContents()).map((t) => t.replace(/\s+/g, " ")),
      (rows) => rows.length === 1 && /secondary.*alice.*bob travels/.test(rows[0] ?? ""),
      "secondary's history alone",
    );
    await shot("oncall-cancelled");
    expect(await e2e.accessibilityViolations(), "oncall after a cancel").toEqual([]);
  });

  it("pages through the history, newest first", async () => {
    // Twenty more overrides, each cancelled at once: the history holds 22, a page 20.
    for (let i = 0; i < 20; i++) {
      const made = await request("POST", "/api/v1/oncall/overrides", {
        rotation: "secondary",
        person: "carol",
        for: "1h",
        reason: `swap ${i}`,
      });
      await request("POST", `/api/v1/oncall/overrides/${made.id}/cancel`);
    }
    await page.goto(`${e2e.url}/oncall`);
    await page.getByRole("heading", { name: "Override history", exact: true }).waitFor();
    const ids = async () =>
      (await historyRows().evaluateAll((rows) => rows.map((r) => r.getAttribute("data-key")))).map(Number);
    await eventually(ids, (got) => got.length === 20 && got[0] === 22 && got[19] === 3, "the newest 20 overrides");
    await page.getByRole("button", { name: "Next page" }).click();
    await eventually(ids, (got) => got.join() === "2,1", "the two oldest on page 2");
    expect(await page.getByTestId("page-number").textContent()).toBe("page 2");
    expect(await page.getByRole("button", { name: "Next page" }).isDisabled()).toBe(true);
    await page.getByRole("button", { name: "Previous page" }).click();
    await eventually(ids, (got) => got.length === 20 && got[0] === 22, "back on the first page");
  });

  it("fits a phone: one card per rotation, the history as cards, and no sideways page scroll", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await page.goto(`${e2e.url}/oncall`);
      await page.getByRole("heading", { name: "On call", level: 1 }).waitFor();
      await card("primary").waitFor();
      await historyRows().first().waitFor();
      const layout = await page.evaluate(`(() => {
        const cards = [...document.querySelectorAll("article.oncall-card")].map((c) => c.getBoundingClientRect());
        const row = document.querySelector('table[aria-label="override history"] tbody tr');
        return {
          cards: cards.length,
          oneColumn: cards.every((c) => Math.round(c.left) === Math.round(cards[0].left)),
          row: getComputedStyle(row).display,
        };
      })()`);
      expect(layout).toEqual({ cards: 2, oneColumn: true, row: "block" });
      const size: { scrollWidth: number; innerWidth: number } = await page.evaluate(
        "({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth })",
      );
      expect(size.scrollWidth, "the on-call page at 390 px wide").toBeLessThanOrEqual(size.innerWidth);
      await shot("oncall-phone");
      expect(await e2e.accessibilityViolations(), "oncall-phone").toEqual([]);
    } finally {
      await page.setViewportSize({ width: 1440, height: 900 });
    }
  });
});
