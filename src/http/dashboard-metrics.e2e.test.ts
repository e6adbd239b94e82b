/**
 * The dashboard's Metrics page end to end: Debian's Chromium, driven by playwright-core, against a
 * real `overseer start` (the built binary, a temp SQLite file, a free port). Rollup rows are
 * written straight into the server's database at known minutes (20 minutes, 3 hours and 2 days
 * ago), before the watermark of the server's first rollup pass, so every total is exact: the
 * range picker changes the numbers and the URL, the queue and task pickers narrow them, and axe
 * finds nothing, at 1440x900 and at 390x844. Screenshots go to test-output/screenshots, named
 * metrics-*.png.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { type JobRollupRow, LATENCY_BUCKETS, latencyBucket } from "../core/job-rollup.js";
import { openStore } from "../store/open-store.js";
import { dashboardHarness } from "../test-support/dashboard-harness.js";

const e2e = dashboardHarness({
  prefix: "overseer-dashboard-metrics-e2e-",
  prepare(dir) {
    mkdirSync(join(dir, "tasks"));
    writeFileSync(join(dir, "tasks", "noop.mjs"), "export default async function () {}\n");
  },
  startArgs: (dir) => ["--tasks", join(dir, "tasks")],
  expectedHttpStatuses: [],
  viewport: { width: 1440, height: 900 },
  fullPageShots: true,
});
const { eventually, shot, signIn, accessibilityViolations } = e2e;
let page: Page;

const MIN = 60_000;

function row(minute: number, queue: string, task: string, succeeded: number, dead = 0): JobRollupRow {
  const histogram = (ms: number) => {
    const h = new Array<number>(LATENCY_BUCKETS).fill(0);
    h[latencyBucket(ms)] = succeeded + dead;
    return h;
  };
  return {
    minute,
    queue,
    task,
    succeeded,
    dead,
    cancelled: 0,
    retries: dead * 2,
    wait: histogram(300),
    run: histogram(4_000),
  };
}

beforeAll(async () => {
  ({ page } = e2e);
  const minute = Math.floor(Date.now() / MIN) * MIN;
  const store = await openStore(join(e2e.dir, "e2e.db"));
  try {
    await store.writeJobRollups([
      row(minute - 20 * MIN, "mail", "send", 5, 1),
      row(minute - 180 * MIN, "sms", "notify", 7),
      row(minute - 2 * 24 * 60 * MIN, "mail", "digest", 11),
    ]);
  } finally {
    await store.close();
  }
  // The server's first rollup pass, at its start, moves the watermark past these minutes: from
  // then on they are read from the rows written here.
  await eventually(
    async () => (await e2e.request("GET", "/api/v1/stats/series?range=7d")).rolledUpThrough,
    (through) => typeof through === "string" && Date.parse(through) > minute - 20 * MIN,
    "the server's first rollup pass",
  );
});

const totals = () => page.getByTestId("metrics-totals");

async function totalsSay(text: string): Promise<void> {
  await eventually(
    async () => (await totals().textContent()) ?? "",
    (t) => t.includes(text),
    `totals to say "${text}"`,
  );
}

async function pickRange(range: string): Promise<void> {
  await page.getByRole("button", { name: range, exact: true }).click();
  await eventually(
    async () => new URL(page.url()).searchParams.get("range"),
    (r) => r === range,
    `the URL to hold range=${range}`,
  );
}

const tableNames = async (label: string) =>
  page
    .getByRole("table", { name: label })
    .locator("tbody tr[data-key]")
    .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-key")));

describe("the Metrics page", () => {
  it("changes the numbers and the URL with the range, narrows to a queue and a task, and passes axe (1440x900)", async () => {
    await page.setViewportSize({ width: 1440, height: 900 });
    await signIn(e2e.viewer);
    await page.getByRole("link", { name: "Metrics", exact: true }).click();
    await page.getByRole("heading", { name: "Metrics", level: 1 }).waitFor();
    await totalsSay("Over the last hour: 5 succeeded, 1 dead, 0 cancelled");
    await totalsSay("3 failures (2 retries)");
    expect(await page.getByRole("button", { name: "1h", exact: true }).getAttribute("aria-pressed")).toBe("true");

    await pickRange("6h");
    await totalsSay("Over the last 6 hours: 12 succeeded, 1 dead");
    expect(await page.getByRole("button", { name: "6h", exact: true }).getAttribute("aria-pressed")).toBe("true");
    await pickRange("24h");
    await totalsSay("Over the last 24 hours: 12 succeeded, 1 dead");
    await pickRange("7d");
    await totalsSay("Over the last 7 days: 23 succeeded, 1 dead");
    await eventually(
      () => tableNames("by queue"),
      (n) => n.join() === "mail,sms",
      "the queues, busiest first",
    );
    await eventually(
      () => tableNames("by task"),
      (n) => n.join() === "digest,notify,send",
      "the tasks, busiest first",
    );
    await shot("metrics-7d");

    await page.getByRole("combobox", { name: /^Queue/ }).selectOption("sms");
    await totalsSay("Over the last 7 days: 7 succeeded, 0 dead");
    const url = new URL(page.url());
    expect([url.pathname, url.searchParams.get("range"), url.searchParams.get("queue")]).toEqual([
      "/stats",
      "7d",
      "sms",
    ]);
    await eventually(
      () => tableNames("by queue"),
      (n) => n.join() === "sms",
      "only sms",
    );

    await page.getByRole("combobox", { name: /^Queue/ }).selectOption("");
    await totalsSay("23 succeeded");
    await page.getByRole("combobox", { name: /^Task/ }).selectOption("digest");
    await totalsSay("Over the last 7 days: 11 succeeded, 0 dead");
    expect(new URL(page.url()).searchParams.get("task")).toBe("digest");
    // Narrowed to a task outside the last hour: nothing there.
    await pickRange("1h");
    await totalsSay("Over the last hour: 0 succeeded, 0 dead");
    expect(new URL(page.url()).searchParams.get("task")).toBe("digest");

    // The browser's back button returns to the view before.
    await page.goBack();
    await totalsSay("Over the last 7 days: 11 succeeded");
    expect(await accessibilityViolations()).toEqual([]);
  });

  it("fits a phone, keeps the range from the URL, and passes axe (390x844)", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${e2e.url}/stats?range=24h`);
    await page.getByRole("heading", { name: "Metrics", level: 1 }).waitFor();
    await totalsSay("Over the last 24 hours: 12 succeeded, 1 dead");
    expect(await page.getByRole("button", { name: "24h", exact: true }).getAttribute("aria-pressed")).toBe("true");
    await pickRange("7d");
    await totalsSay("23 succeeded");
    await page.getByRole("combobox", { name: /^Queue/ }).selectOption("mail");
    await totalsSay("Over the last 7 days: 16 succeeded, 1 dead");
    const size: { scrollWidth: number; innerWidth: number } = await page.evaluate(
      "({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth })",
    );
    expect(size.scrollWidth, "the metrics page at 390 px wide").toBeLessThanOrEqual(size.innerWidth);
    await shot("metrics-phone");
    expect(await accessibilityViolations()).toEqual([]);
  });
});
